package loadtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

func TestVerifyStore(t *testing.T) {
	st := storetest.MustOpen(t)
	svc := hotline.NewService(st, nil, nil, hotline.DefaultPolicy())
	ctx := context.Background()
	var sids []string
	for i := range 30 {
		sid := fmt.Sprintf("SM%032x", i)
		if _, err := svc.ReceiveInbound(ctx, hotline.InboundMessage{SID: sid, From: hotline.Address(texterNumber(i % 7)), Body: "help"}); err != nil {
			t.Fatal(err)
		}
		sids = append(sids, sid)
	}
	v, err := VerifyStore(ctx, st, sids)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || v.Acknowledged != 30 || v.InboundStored != 30 {
		t.Errorf("VerifyStore = %+v, want OK with 30 acknowledged and 30 inbound stored", v)
	}
	if !strings.HasPrefix(v.String(), "OK") {
		t.Errorf("String = %q", v.String())
	}

	missing := "SM" + strings.Repeat("f", 32)
	v, err = VerifyStore(ctx, st, append(sids, missing))
	if err != nil {
		t.Fatal(err)
	}
	if v.OK() || v.Missing != 1 || v.Examples[0] != missing {
		t.Errorf("VerifyStore with an unknown SID = %+v, want it missing", v)
	}
	if !strings.Contains(v.String(), "FAILED") || !strings.Contains(v.String(), missing) {
		t.Errorf("String = %q, want FAILED naming %s", v.String(), missing)
	}
}
