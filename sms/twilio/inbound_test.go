package twilio_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/internal/faketwilio"
	"github.com/hotlinehq/hotline/sms/twilio"
)

func TestListInbound(t *testing.T) {
	f := faketwilio.NewForTest(t)
	f.SetMaxPage(2) // the texts come over several pages
	now := time.Now().UTC().Truncate(time.Second)
	since := now.Add(-time.Hour)
	f.Add(faketwilio.Message{SID: "SMold", From: "+14155550101", To: testFrom, Body: "before the window", Direction: "inbound", Created: since.Add(-time.Minute)})
	f.Add(faketwilio.Message{SID: "SMa", From: "+14155550101", To: testFrom, Body: "help", Direction: "inbound", Created: now.Add(-30 * time.Minute)})
	f.Add(faketwilio.Message{SID: "SMout", From: testFrom, To: "+14155550101", Body: "welcome", Direction: "outbound-api", Created: now.Add(-29 * time.Minute)})
	f.Add(faketwilio.Message{SID: "SMother", From: "+14155550102", To: "+15005550999", Body: "to another number", Direction: "inbound", Created: now})
	f.Add(faketwilio.Message{SID: "SMb", From: "+14155550102", To: testFrom, Body: "a photo", Direction: "inbound", Created: now,
		Media: []faketwilio.Media{{SID: "ME1", ContentType: "image/jpeg"}}})
	f.Add(faketwilio.Message{SID: "SMc", From: "+14155550103", To: testFrom, Body: "third", Direction: "inbound", Created: now})

	s := newSender(t, f)
	got, err := s.ListInbound(t.Context(), since)
	if err != nil {
		t.Fatalf("ListInbound: %v", err)
	}
	var sids []string
	for _, m := range got {
		sids = append(sids, m.SID)
	}
	slices.Sort(sids)
	if want := []string{"SMa", "SMb", "SMc"}; !slices.Equal(sids, want) {
		t.Fatalf("listed %v, want %v", sids, want)
	}
	i := slices.IndexFunc(got, func(m hotline.ListedInbound) bool { return m.SID == "SMb" })
	b := got[i]
	want := hotline.InboundMessage{SID: "SMb", AccountSID: testAccount, From: "+14155550102", To: testFrom, Body: "a photo", Segments: 1,
		Media: []hotline.Media{{URL: "https://api.twilio.com/2010-04-01/Accounts/" + testAccount + "/Messages/SMb/Media/ME1", ContentType: "image/jpeg"}}}
	if b.SID != want.SID || b.AccountSID != want.AccountSID || b.From != want.From || b.To != want.To || b.Body != want.Body ||
		b.Segments != want.Segments || !slices.Equal(b.Media, want.Media) {
		t.Errorf("listed %+v\nwant %+v", b.InboundMessage, want)
	}
	if !b.ReceivedAt.Equal(now) {
		t.Errorf("ReceivedAt = %v, want %v", b.ReceivedAt, now)
	}
}

func TestListInbound_MessagingService(t *testing.T) {
	f := faketwilio.NewForTest(t)
	f.Add(faketwilio.Message{SID: "SMours", From: "+14155550101", To: "+15005550001", Body: "hi", Direction: "inbound", Service: testService})
	f.Add(faketwilio.Message{SID: "SMtheirs", From: "+14155550101", To: "+15005550002", Body: "hi", Direction: "inbound", Service: "MGffffffffffffffffffffffffffffffff"})
	s := newSender(t, f, func(o *twilio.Options) { o.From, o.MessagingServiceSID = "", testService })
	got, err := s.ListInbound(t.Context(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatalf("ListInbound: %v", err)
	}
	if len(got) != 1 || got[0].SID != "SMours" {
		t.Errorf("listed %+v, want only SMours", got)
	}
}

func TestListInbound_HonoursCancellation(t *testing.T) {
	f := faketwilio.NewForTest(t)
	s := newSender(t, f)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.ListInbound(ctx, time.Now()); err == nil {
		t.Error("ListInbound with a cancelled context succeeded")
	}
}
