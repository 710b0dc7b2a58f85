package twilio_test

import (
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/internal/faketwilio"
	"github.com/hotlinehq/hotline/sms/twilio"
)

func TestLookup(t *testing.T) {
	const to, body = "+14155550100", "We are here for you."
	now := time.Now().UTC().Truncate(time.Second)
	since := now.Add(-10 * time.Second) // when the interrupted attempt was committed
	tests := []struct {
		name    string
		have    []faketwilio.Message
		queued  bool
		wantSID string // "" for not found
	}{
		{name: "nothing sent", wantSID: ""},
		{name: "sent", have: []faketwilio.Message{{SID: "SMmatch", To: to, From: testFrom, Body: body, Direction: "outbound-api", Created: now}}, wantSID: "SMmatch"},
		{name: "still in Twilio's queue", queued: true, have: []faketwilio.Message{{SID: "SMqueued", To: to, From: testFrom, Body: body, Direction: "outbound-api", Created: now}}, wantSID: "SMqueued"},
		{name: "another body", have: []faketwilio.Message{{SID: "SMother", To: to, From: testFrom, Body: "Something else", Direction: "outbound-api", Created: now}}},
		{name: "another number", have: []faketwilio.Message{{SID: "SMother", To: "+14155550199", From: testFrom, Body: body, Direction: "outbound-api", Created: now}}},
		{name: "the texter's own text", have: []faketwilio.Message{{SID: "SMin", To: to, From: testFrom, Body: body, Direction: "inbound", Created: now}}},
		{name: "an identical text long before", have: []faketwilio.Message{{SID: "SMold", To: to, From: testFrom, Body: body, Direction: "outbound-api", Created: since.Add(-time.Hour)}}},
		{name: "the newest of two", have: []faketwilio.Message{
			{SID: "SMfirst", To: to, From: testFrom, Body: body, Direction: "outbound-api", Created: since.Add(-30 * time.Second)},
			{SID: "SMsecond", To: to, From: testFrom, Body: body, Direction: "outbound-api", Created: now},
		}, wantSID: "SMsecond"},
		{name: "clock skew within the allowance", have: []faketwilio.Message{{SID: "SMskew", To: to, From: testFrom, Body: body, Direction: "outbound-api", Created: since.Add(-20 * time.Second)}}, wantSID: "SMskew"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := faketwilio.NewForTest(t)
			for _, m := range tt.have {
				if tt.queued { // listed without a date_sent
					m.Status = "queued"
				}
				f.Add(m)
			}
			s := newSender(t, f)
			r, found, err := s.Lookup(t.Context(), text(to, body), since)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if found != (tt.wantSID != "") || r.SID != tt.wantSID {
				t.Errorf("Lookup = %+v, %v; want SID %q", r, found, tt.wantSID)
			}
			if found && r.Status != hotline.StatusSent {
				t.Errorf("status = %q, want sent", r.Status)
			}
			if n := len(f.Creates()); n != 0 {
				t.Errorf("Lookup made %d create requests", n)
			}
		})
	}
}

func TestLookup_MatchesASmartEncodedBody(t *testing.T) {
	f := faketwilio.NewForTest(t)
	f.Add(faketwilio.Message{SID: "SMsmart", To: "+14155550100", Body: "We're here - for you...", Direction: "outbound-api", Service: testService})
	s := newSender(t, f, func(o *twilio.Options) { o.From, o.MessagingServiceSID = "", testService })
	r, found, err := s.Lookup(t.Context(), text("+14155550100", "We\u2019re here \u2013 for you\u2026"), time.Now().Add(-time.Second))
	if err != nil || !found || r.SID != "SMsmart" {
		t.Errorf("Lookup = %+v, %v, %v; want SMsmart", r, found, err)
	}
}

func TestLookup_ErrorMeansCannotTell(t *testing.T) {
	f := faketwilio.NewForTest(t)
	s := newSender(t, f, func(o *twilio.Options) { o.AuthToken = "wrongtoken" })
	_, found, err := s.Lookup(t.Context(), text("+14155550100", "hello"), time.Now())
	if err == nil || found {
		t.Fatalf("Lookup with bad credentials = %v, %v; want an error", found, err)
	}
	if got := err.Error(); containsAny(got, "+14155550100", "hello") {
		t.Errorf("error %q shows the number or the body", got)
	}
}

// TestLookup_SkipsItsOwnRecordedSends: a text with the same body went out a moment
// ago and was recorded under its SID; a later attempt that never reached Twilio must
// not be taken for it.
func TestLookup_SkipsItsOwnRecordedSends(t *testing.T) {
	f := faketwilio.NewForTest(t)
	s := newSender(t, f)
	since := time.Now()
	if _, err := s.Send(t.Context(), text("+14155550100", "ok")); err != nil {
		t.Fatal(err)
	}
	r, found, err := s.Lookup(t.Context(), text("+14155550100", "ok"), since)
	if err != nil || found {
		t.Errorf("Lookup = %+v, %v, %v; want not found: the only match is the earlier text", r, found, err)
	}
}
