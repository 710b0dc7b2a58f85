package twilio_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/internal/dispatchtest"
	"github.com/hotlinehq/hotline/internal/faketwilio"
	"github.com/hotlinehq/hotline/sms/twilio"
	"github.com/hotlinehq/hotline/store"
	"github.com/hotlinehq/hotline/store/storetest"
)

// harness is a hotline on a fresh store whose dispatcher sends through a Sender
// pointed at a fake Twilio API.
type harness struct {
	t      *testing.T
	fake   *faketwilio.Server
	sender *twilio.Sender
	store  *store.Store
	svc    *hotline.Service
	d      *hotline.Dispatcher
	obs    *dispatchtest.Recorder
}

func newHarness(t *testing.T, opts hotline.DispatcherOptions, edit ...func(*twilio.Options)) *harness {
	t.Helper()
	h := &harness{t: t, fake: faketwilio.NewForTest(t), store: storetest.MustOpen(t), obs: &dispatchtest.Recorder{}}
	h.sender = newSender(t, h.fake, edit...)
	if opts.FirstRetryDelay == 0 {
		opts.FirstRetryDelay = 5 * time.Millisecond
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 20 * time.Millisecond
	}
	opts.Observer = h.obs
	var d *hotline.Dispatcher
	notify := hotline.NotifierFunc(func(cs ...hotline.Change) {
		if d != nil {
			d.Publish(cs...)
		}
	})
	h.svc = hotline.NewService(h.store, nil, notify, hotline.DefaultPolicy())
	d = hotline.NewDispatcher(h.svc, h.sender, opts)
	h.d = d
	return h
}

// run starts the dispatcher until the test ends.
func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.d.Run(ctx)
		close(done)
	}()
	h.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// inbound stores a text from the number, as the webhook would.
func (h *harness) inbound(sid, from, body string) hotline.InboundResult {
	h.t.Helper()
	res, err := h.svc.ReceiveInbound(context.Background(), hotline.InboundMessage{
		SID: sid, From: hotline.Address(from), To: testFrom, Body: body,
	})
	if err != nil {
		h.t.Fatalf("ReceiveInbound: %v", err)
	}
	return res
}

// outbound returns the conversation's outbound messages, oldest first.
func (h *harness) outbound(conv hotline.ID) []hotline.Message {
	h.t.Helper()
	var msgs []hotline.Message
	err := h.store.View(context.Background(), func(tx hotline.ReadTx) error {
		return tx.Messages(conv, hotline.ID{}, func(m hotline.Message) error {
			if m.Direction == hotline.DirectionOutbound {
				msgs = append(msgs, m)
			}
			return nil
		})
	})
	if err != nil {
		h.t.Fatalf("read messages: %v", err)
	}
	return msgs
}

func (h *harness) outboxLen() int {
	h.t.Helper()
	n := 0
	err := h.store.View(context.Background(), func(tx hotline.ReadTx) error {
		return tx.Outbox(func(hotline.OutboxEntry) error { n++; return nil })
	})
	if err != nil {
		h.t.Fatalf("read outbox: %v", err)
	}
	return n
}

func (h *harness) contact(conv hotline.ID) hotline.Contact {
	h.t.Helper()
	var c hotline.Contact
	err := h.store.View(context.Background(), func(tx hotline.ReadTx) error {
		cv, err := tx.Conversation(conv)
		if err != nil {
			return err
		}
		c, err = tx.Contact(cv.ContactID)
		return err
	})
	if err != nil {
		h.t.Fatalf("read contact: %v", err)
	}
	return c
}

// waitFor fails the test unless cond becomes true within a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
