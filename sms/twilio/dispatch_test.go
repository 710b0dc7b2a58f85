package twilio_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/internal/faketwilio"
	"github.com/hotlinehq/hotline/sms/twilio"
)

// These tests run the real hotline.Dispatcher over a real store, sending through the
// Sender to the fake Twilio API: what the outbox promises, end to end.

const texter = "+14155550123"

// settled waits until the outbox is empty and returns the conversation's first
// outbound text, the welcome.
func (h *harness) settled(conv hotline.ID) hotline.Message {
	h.t.Helper()
	waitFor(h.t, "the welcome text to be settled", func() bool {
		return h.outboxLen() == 0 && len(h.outbound(conv)) > 0
	})
	return h.outbound(conv)[0]
}

func TestDispatch_Sends(t *testing.T) {
	h := newHarness(t, hotline.DispatcherOptions{})
	h.run()
	res := h.inbound("SMin1", texter, "hello")
	m := h.settled(res.ConversationID)
	created := h.fake.Outbound()
	if len(created) != 1 {
		t.Fatalf("Twilio holds %d texts, want 1", len(created))
	}
	if m.Status != hotline.StatusSent || m.TwilioSID != created[0].SID {
		t.Errorf("welcome = %s with SID %q; want sent with %q", m.Status, m.TwilioSID, created[0].SID)
	}
	if c := created[0]; c.To != texter || c.From != testFrom || c.Body != m.Body {
		t.Errorf("Twilio got %+v, want the welcome from %s to %s", c, testFrom, texter)
	}
}

func TestDispatch_500ThenSuccess_DeliveredOnce(t *testing.T) {
	h := newHarness(t, hotline.DispatcherOptions{})
	h.fake.OnCreate(func(n int, _ url.Values) faketwilio.Action {
		if n == 1 {
			return faketwilio.Action{Status: 500, Code: 20500, Message: "Internal Server Error"}
		}
		return faketwilio.Action{}
	})
	h.run()
	res := h.inbound("SMin1", texter, "hello")
	m := h.settled(res.ConversationID)
	if got := len(h.fake.Creates()); got != 2 {
		t.Errorf("%d create requests, want 2 (the 500, then the retry)", got)
	}
	created := h.fake.Outbound()
	if len(created) != 1 {
		t.Fatalf("Twilio holds %d texts, want exactly 1", len(created))
	}
	if m.Status != hotline.StatusSent || m.TwilioSID != created[0].SID {
		t.Errorf("welcome = %s with SID %q; want sent with %q", m.Status, m.TwilioSID, created[0].SID)
	}
	if got, want := fmt.Sprint(h.obs.Outcomes()), "[retry sent]"; got != want {
		t.Errorf("outcomes = %s, want %s", got, want)
	}
}

func TestDispatch_429BacksOff(t *testing.T) {
	const first = 40 * time.Millisecond
	h := newHarness(t, hotline.DispatcherOptions{FirstRetryDelay: first})
	var mu sync.Mutex
	var at []time.Time
	h.fake.OnCreate(func(n int, _ url.Values) faketwilio.Action {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		if n == 1 {
			return faketwilio.Action{Status: 429, Code: 20429, Message: "Too Many Requests"}
		}
		return faketwilio.Action{}
	})
	h.run()
	res := h.inbound("SMin1", texter, "hello")
	m := h.settled(res.ConversationID)
	if m.Status != hotline.StatusSent || len(h.fake.Outbound()) != 1 {
		t.Fatalf("welcome = %s, Twilio holds %d; want sent once", m.Status, len(h.fake.Outbound()))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 2 {
		t.Fatalf("%d create requests, want 2", len(at))
	}
	// The backoff is the first delay with jitter: between half of it and all of it.
	if gap := at[1].Sub(at[0]); gap < first/2 {
		t.Errorf("retried %s after the 429, want at least %s", gap, first/2)
	}
}

func TestDispatch_21610OptsTheTexterOut(t *testing.T) {
	h := newHarness(t, hotline.DispatcherOptions{})
	h.fake.OnCreate(func(int, url.Values) faketwilio.Action {
		return faketwilio.Action{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}
	})
	h.run()
	res := h.inbound("SMin1", texter, "hello")
	m := h.settled(res.ConversationID)
	if m.Status != hotline.StatusFailed || m.ErrorCode != 21610 {
		t.Errorf("welcome = %s, error %d; want failed with 21610", m.Status, m.ErrorCode)
	}
	if !h.contact(res.ConversationID).OptedOut {
		t.Fatal("the contact is not opted out after error 21610")
	}
	responder := hotline.Actor{ID: hotline.NewID(time.Now())}
	if err := h.svc.Accept(t.Context(), responder, res.ConversationID); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if _, err := h.svc.Reply(t.Context(), responder, res.ConversationID, "Are you safe?"); hotline.ErrorCode(err) != hotline.EOPTEDOUT {
		t.Errorf("Reply to an opted-out texter: %v, want EOPTEDOUT", err)
	}
	h.inbound("SMin2", texter, "hello?") // not START: still nothing may be sent
	time.Sleep(50 * time.Millisecond)    // a few dispatcher polls
	if got := len(h.fake.Creates()); got != 1 {
		t.Errorf("%d create requests, want only the one refused with 21610", got)
	}
}

func TestDispatch_21211FailsForGood(t *testing.T) {
	h := newHarness(t, hotline.DispatcherOptions{})
	h.fake.OnCreate(func(_ int, f url.Values) faketwilio.Action {
		return faketwilio.Action{Status: 400, Code: 21211, Message: "The 'To' number " + f.Get("To") + " is not a valid phone number."}
	})
	h.run()
	res := h.inbound("SMin1", texter, "hello")
	m := h.settled(res.ConversationID)
	if m.Status != hotline.StatusFailed || m.ErrorCode != 21211 || !strings.Contains(m.ErrorMessage, "not a valid phone number") {
		t.Errorf("welcome = %s, %d %q; want failed with 21211 and a plain reason", m.Status, m.ErrorCode, m.ErrorMessage)
	}
	if strings.Contains(m.ErrorMessage, texter) {
		t.Errorf("the reason %q shows the number to responders", m.ErrorMessage)
	}
	if got := len(h.fake.Creates()); got != 1 {
		t.Errorf("%d create requests, want 1 (no retry)", got)
	}
}

// TestDispatch_TimeoutAfterCreateReconciles: Twilio created the text but the answer
// never came. The dispatcher must find it with Lookup instead of sending it again.
func TestDispatch_TimeoutAfterCreateReconciles(t *testing.T) {
	h := newHarness(t, hotline.DispatcherOptions{}, func(o *twilio.Options) { o.RequestTimeout = 100 * time.Millisecond })
	h.fake.OnCreate(func(n int, _ url.Values) faketwilio.Action {
		return faketwilio.Action{StallAfterCreate: n == 1}
	})
	h.run()
	res := h.inbound("SMin1", texter, "hello")
	m := h.settled(res.ConversationID)
	created := h.fake.Outbound()
	if len(created) != 1 || len(h.fake.Creates()) != 1 {
		t.Fatalf("Twilio holds %d texts after %d create requests; want 1 and 1 (no duplicate)", len(created), len(h.fake.Creates()))
	}
	if m.Status != hotline.StatusSent || m.TwilioSID != created[0].SID {
		t.Errorf("welcome = %s with SID %q; want sent with %q", m.Status, m.TwilioSID, created[0].SID)
	}
	if got, want := fmt.Sprint(h.obs.Outcomes()), "[unknown reconciled]"; got != want {
		t.Errorf("outcomes = %s, want %s", got, want)
	}
}

// TestDispatch_CrashAfterSending: a process committed an entry as sending and died.
// A new dispatcher over the same store asks Twilio before sending anything.
func TestDispatch_CrashAfterSending(t *testing.T) {
	for _, twilioHasIt := range []bool{true, false} {
		t.Run(fmt.Sprintf("Twilio has it: %v", twilioHasIt), func(t *testing.T) {
			h := newHarness(t, hotline.DispatcherOptions{})
			res := h.inbound("SMin1", texter, "hello") // queues the welcome; no dispatcher runs yet
			var entry hotline.OutboxEntry
			err := h.store.Update(t.Context(), func(tx hotline.Tx) error {
				e, err := tx.OutboxEntry(h.outbound(res.ConversationID)[0].ID)
				if err != nil {
					return err
				}
				e.Status, e.SendingSince, e.Attempts = hotline.StatusSending, time.Now(), 1
				entry = e
				return tx.PutOutbox(e)
			})
			if err != nil {
				t.Fatal(err)
			}
			var seeded faketwilio.Message
			if twilioHasIt { // the crash came after Twilio's answer, before the commit
				seeded = h.fake.Add(faketwilio.Message{To: texter, From: testFrom, Body: entry.Body, Direction: "outbound-api"})
			}
			h.run() // the restart
			m := h.settled(res.ConversationID)
			created := h.fake.Outbound()
			if len(created) != 1 {
				t.Fatalf("Twilio holds %d texts, want exactly 1", len(created))
			}
			wantCreates := 1
			if twilioHasIt {
				wantCreates = 0
				if m.TwilioSID != seeded.SID {
					t.Errorf("SID = %q, want the one Twilio had, %q", m.TwilioSID, seeded.SID)
				}
			}
			if got := len(h.fake.Creates()); got != wantCreates {
				t.Errorf("%d create requests, want %d", got, wantCreates)
			}
			if m.Status != hotline.StatusSent || m.TwilioSID != created[0].SID {
				t.Errorf("welcome = %s with SID %q; want sent with %q", m.Status, m.TwilioSID, created[0].SID)
			}
		})
	}
}

// TestDispatch_OrderPerConversation: several texters, each sent a burst of replies,
// with Twilio answering slowly and sometimes failing: every texter receives their
// texts in the order they were written.
func TestDispatch_OrderPerConversation(t *testing.T) {
	h := newHarness(t, hotline.DispatcherOptions{Workers: 4})
	var mu sync.Mutex
	rnd := rand.New(rand.NewPCG(1, 2))
	h.fake.OnCreate(func(int, url.Values) faketwilio.Action {
		mu.Lock()
		delay, fail := time.Duration(rnd.IntN(3))*time.Millisecond, rnd.IntN(5) == 0
		mu.Unlock()
		time.Sleep(delay)
		if fail {
			return faketwilio.Action{Status: 503, Code: 20503, Message: "Service Unavailable"}
		}
		return faketwilio.Action{}
	})
	h.run()
	const texters, replies = 4, 5
	responder := hotline.Actor{ID: hotline.NewID(time.Now())}
	want := map[string][]string{}
	var wg sync.WaitGroup
	for i := range texters {
		from := fmt.Sprintf("+1415555%04d", 200+i)
		res := h.inbound(fmt.Sprintf("SMin%d", i), from, "hello")
		if err := h.svc.Accept(t.Context(), responder, res.ConversationID); err != nil {
			t.Fatalf("Accept: %v", err)
		}
		bodies := []string{h.outbound(res.ConversationID)[0].Body}
		for r := range replies {
			bodies = append(bodies, fmt.Sprintf("reply %d to %s", r, from))
		}
		want[from] = bodies
		wg.Add(1)
		go func() { // the texters' replies are written at the same time
			defer wg.Done()
			for _, body := range bodies[1:] {
				if _, err := h.svc.Reply(context.Background(), responder, res.ConversationID, body); err != nil {
					t.Errorf("Reply: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, "every text to be sent", func() bool { return h.outboxLen() == 0 })
	got := map[string][]string{}
	for _, m := range h.fake.Outbound() {
		got[m.To] = append(got[m.To], m.Body)
	}
	for from, bodies := range want {
		if !slices.Equal(got[from], bodies) {
			t.Errorf("%s received %q\nwant %q", from, got[from], bodies)
		}
	}
}

// TestDispatch_StatusCallbackBeforeTheSID: Twilio calls back "delivered" before the
// dispatcher has recorded the SID it returned. The status must not be lost.
func TestDispatch_StatusCallbackBeforeTheSID(t *testing.T) {
	h := newHarness(t, hotline.DispatcherOptions{})
	callbackErr := make(chan error, 1)
	h.fake.OnCreate(func(int, url.Values) faketwilio.Action {
		return faketwilio.Action{BeforeAnswer: func(sid string) {
			callbackErr <- h.svc.RecordStatus(context.Background(), hotline.StatusUpdate{SID: sid, Status: hotline.StatusDelivered, DoneAt: "2503141200"})
		}}
	})
	h.run()
	res := h.inbound("SMin1", texter, "hello")
	m := h.settled(res.ConversationID)
	if err := <-callbackErr; hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Errorf("the early callback got %v, want ENOTFOUND (answered 200 by the webhook)", err)
	}
	if m.Status != hotline.StatusDelivered || m.Extra["RawDlrDoneDate"] != "2503141200" {
		t.Errorf("welcome = %s (RawDlrDoneDate %q); want delivered, as the early callback said", m.Status, m.Extra["RawDlrDoneDate"])
	}
	err := h.store.View(t.Context(), func(tx hotline.ReadTx) error {
		if _, err := tx.OrphanStatus(m.TwilioSID); !hotline.IsNotFound(err) {
			t.Errorf("the kept status is still there after it was applied (%v)", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
