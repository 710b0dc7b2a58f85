package hotline_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
)

// BenchmarkReceiveInbound is the whole inbound use case on a real store without
// fsync, 64 texts in flight (so group-committed, as under load), in CPU time per
// text (cpu-ns/op): what the hotline spends on each text besides HTTP and the disk. "returning" is a text from
// one of 1,000 texters with an open conversation (most of the load tool's texts),
// "new" a first text (a contact, a conversation and a welcome text); each in
// plaintext and encrypted at rest. Every text carries its webhook as evidence, as
// the webhook handler gives it.
func BenchmarkReceiveInbound(b *testing.B) {
	for _, enc := range []bool{false, true} {
		for _, returning := range []bool{true, false} {
			name := map[bool]string{true: "returning", false: "new"}[returning]
			if enc {
				name += "-encrypted"
			}
			b.Run(name, func(b *testing.B) { benchReceiveInbound(b, enc, returning) })
		}
	}
}

func benchReceiveInbound(b *testing.B, encrypted, returning bool) {
	opts := store.Options{NoSync: true}
	if encrypted {
		opts.MasterKey = make([]byte, store.MasterKeySize)
		rand.Read(opts.MasterKey)
	}
	st, err := store.Open(filepath.Join(b.TempDir(), "hotline.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc := hotline.NewService(st, nil, nil, hotline.DefaultPolicy())
	ctx := context.Background()
	const texters = 1000
	from := func(i int) string { return fmt.Sprintf("+1415%07d", i) }
	var seq atomic.Int64
	text := func(addr string) hotline.InboundMessage {
		sid := fmt.Sprintf("SM%032d", seq.Add(1))
		body := "he is back, I can't talk now, please text me later"
		in := hotline.InboundMessage{SID: sid, AccountSID: "AC0123456789abcdef0123456789abcdef", From: hotline.Address(addr),
			To: "+14155550000", Body: body, Segments: 1}
		in.Webhook = &hotline.Webhook{URL: "https://hotline.example.org/webhooks/twilio/sms", Signature: "0123456789abcdefghijABCDEFGHIJ/+=",
			Params: map[string][]string{"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid},
				"AccountSid": {in.AccountSID}, "MessagingServiceSid": {"MG0123456789abcdef0123456789abcdef"},
				"From": {addr}, "To": {"+14155550000"}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
				"SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}, "FromCountry": {"US"}, "ToCountry": {"US"}}}
		return in
	}
	if returning {
		for i := range texters {
			if _, err := svc.ReceiveInbound(ctx, text(from(i))); err != nil {
				b.Fatal(err)
			}
		}
	}
	var next atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	cpu := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := int(next.Add(1))
			addr := from(texters + n)
			if returning {
				addr = from(n % texters)
			}
			if _, err := svc.ReceiveInbound(ctx, text(addr)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime is this process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
