package hotline_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// changeLog is a Notifier that remembers what was published.
type changeLog struct {
	mu      sync.Mutex
	changes []hotline.Change
}

func (r *changeLog) Publish(changes ...hotline.Change) {
	r.mu.Lock()
	r.changes = append(r.changes, changes...)
	r.mu.Unlock()
}

func newService(t *testing.T) (*hotline.Service, *testClock, *changeLog) {
	t.Helper()
	clock := &testClock{now: t0}
	rec := &changeLog{}
	return hotline.NewService(storetest.MustOpen(t), clock, rec, hotline.DefaultPolicy()), clock, rec
}

func inbound(sid, from, body string) hotline.InboundMessage {
	return hotline.InboundMessage{SID: sid, From: hotline.Address(from), To: "233733", Body: body, Segments: 1}
}

// thread reads a conversation's messages and the pending outbox.
func thread(t *testing.T, svc *hotline.Service, convID hotline.ID) (hotline.Conversation, []hotline.Message, []hotline.OutboxEntry) {
	t.Helper()
	var conv hotline.Conversation
	var msgs []hotline.Message
	var outbox []hotline.OutboxEntry
	err := svc.Store().View(context.Background(), func(tx hotline.ReadTx) error {
		var err error
		if conv, err = tx.Conversation(convID); err != nil {
			return err
		}
		if err := tx.Messages(convID, hotline.ID{}, func(m hotline.Message) error { msgs = append(msgs, m); return nil }); err != nil {
			return err
		}
		return tx.Outbox(func(e hotline.OutboxEntry) error {
			if e.ConversationID == convID {
				outbox = append(outbox, e)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return conv, msgs, outbox
}

func directions(msgs []hotline.Message) []string {
	var out []string
	for _, m := range msgs {
		s := string(m.Direction)
		if m.Purpose != "" {
			s += ":" + string(m.Purpose)
		}
		out = append(out, s)
	}
	return out
}

func TestReceiveInboundStoresTextAndWelcomeTogether(t *testing.T) {
	svc, _, rec := newService(t)
	res, err := svc.ReceiveInbound(context.Background(), inbound("SM001", "+14155550100", "I need help, he took my passport"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate {
		t.Fatalf("first delivery reported as duplicate")
	}
	conv, msgs, outbox := thread(t, svc, res.ConversationID)
	if got, want := fmt.Sprint(directions(msgs)), "[inbound outbound:welcome]"; got != want {
		t.Errorf("thread = %s, want %s", got, want)
	}
	if got, want := len(outbox), 1; got != want {
		t.Fatalf("outbox entries = %d, want %d (the welcome)", got, want)
	}
	if outbox[0].ID != msgs[1].ID || outbox[0].To != "+14155550100" || outbox[0].Status != hotline.StatusQueued {
		t.Errorf("outbox entry = %+v, want the welcome message queued to the texter", outbox[0])
	}
	if conv.State != hotline.StateWaiting || conv.Priority != hotline.PriorityUrgent {
		t.Errorf("conversation = %s/%s, want waiting/urgent", conv.State, conv.Priority)
	}
	if msgs[0].TwilioSID != "SM001" || msgs[0].Status != hotline.StatusReceived {
		t.Errorf("inbound message = %+v", msgs[0])
	}
	if len(rec.changes) == 0 {
		t.Errorf("no change was published after the commit")
	}
}

// TestReceiveInboundDuplicateReturnsStoredIDs: a retried MessageSid answers with
// the conversation and message the first delivery stored, and stores nothing.
func TestReceiveInboundDuplicateReturnsStoredIDs(t *testing.T) {
	svc, _, _ := newService(t)
	first, err := svc.ReceiveInbound(context.Background(), inbound("SM001", "+14155550100", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.ReceiveInbound(context.Background(), inbound("SM001", "+14155550100", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (hotline.InboundResult{ConversationID: first.ConversationID, MessageID: first.MessageID, Duplicate: true}); again != want {
		t.Errorf("retried delivery = %+v, want %+v", again, want)
	}
	if _, msgs, _ := thread(t, svc, first.ConversationID); len(msgs) != 2 {
		t.Errorf("thread has %d messages after a retry, want 2 (the text and the welcome)", len(msgs))
	}
}

func TestReceiveInboundSameSIDConcurrentlyStoresOnce(t *testing.T) {
	svc, _, _ := newService(t)
	var wg sync.WaitGroup
	var fresh atomic.Int32
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := svc.ReceiveInbound(context.Background(), inbound("SMsame", "+14155550100", "hello"))
			if err != nil {
				errs <- err
				return
			}
			if !res.Duplicate {
				fresh.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("ReceiveInbound: %v", err)
	}
	if got, want := fresh.Load(), int32(1); got != want {
		t.Errorf("non-duplicate results = %d, want %d", got, want)
	}
	inbound, outbound := 0, 0
	err := svc.Store().View(context.Background(), func(tx hotline.ReadTx) error {
		return tx.Conversations(hotline.ConversationFilter{}, func(c hotline.Conversation) error {
			return tx.Messages(c.ID, hotline.ID{}, func(m hotline.Message) error {
				switch m.Direction {
				case hotline.DirectionInbound:
					inbound++
				case hotline.DirectionOutbound:
					outbound++
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if inbound != 1 || outbound != 1 {
		t.Errorf("stored %d inbound and %d outbound messages, want 1 and 1", inbound, outbound)
	}
}

func TestReceiveInboundRejectsInvalidMessages(t *testing.T) {
	svc, _, _ := newService(t)
	long := make([]rune, hotline.MaxBodyRunes+1)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		name string
		in   hotline.InboundMessage
		code string
	}{
		{"no sid", inbound("", "+14155550100", "hi"), hotline.EINVALID},
		{"no from", inbound("SM1", "", "hi"), hotline.EINVALID},
		{"sid with spaces", inbound("SM 1", "+14155550100", "hi"), hotline.EINVALID},
		{"invalid utf-8", inbound("SM2", "+14155550100", "\xff\xfe"), hotline.EINVALID},
		{"too long", inbound("SM3", "+14155550100", string(long)), hotline.ETOOLARGE},
	}
	for _, tt := range tests {
		if _, err := svc.ReceiveInbound(context.Background(), tt.in); hotline.ErrorCode(err) != tt.code {
			t.Errorf("%s: error %v, want code %s", tt.name, err, tt.code)
		}
	}
	var n int
	_ = svc.Store().View(context.Background(), func(tx hotline.ReadTx) error {
		return tx.Conversations(hotline.ConversationFilter{}, func(hotline.Conversation) error { n++; return nil })
	})
	if n != 0 {
		t.Errorf("invalid messages created %d conversations", n)
	}
}

func TestStopMeansNothingMoreIsQueued(t *testing.T) {
	svc, clock, _ := newService(t)
	ctx := context.Background()
	res, _ := svc.ReceiveInbound(ctx, inbound("SM1", "+14155550100", "hello"))
	clock.Advance(time.Minute)
	if _, err := svc.ReceiveInbound(ctx, inbound("SM2", "+14155550100", "STOP")); err != nil {
		t.Fatal(err)
	}
	if err := svc.Accept(ctx, alice, res.ConversationID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reply(ctx, alice, res.ConversationID, "are you safe?"); hotline.ErrorCode(err) != hotline.EOPTEDOUT {
		t.Errorf("Reply after STOP: %v, want EOPTEDOUT", err)
	}
	clock.Advance(time.Minute)
	if _, err := svc.ReceiveInbound(ctx, inbound("SM3", "+14155550100", "help")); err != nil {
		t.Fatal(err)
	}
	_, msgs, outbox := thread(t, svc, res.ConversationID)
	// welcome, then the one opt-out confirmation; HELP while opted out gets no answer.
	if got, want := fmt.Sprint(directions(msgs)), "[inbound outbound:welcome inbound system outbound:opt_out inbound]"; got != want {
		t.Errorf("thread = %s, want %s", got, want)
	}
	if got, want := len(outbox), 2; got != want {
		t.Errorf("outbox = %d entries, want %d (welcome and the opt-out confirmation)", got, want)
	}
	clock.Advance(time.Minute)
	if _, err := svc.ReceiveInbound(ctx, inbound("SM4", "+14155550100", "START")); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reply(ctx, alice, res.ConversationID, "welcome back"); err != nil {
		t.Errorf("Reply after START: %v", err)
	}
}

func TestReplyAcceptRace(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	res, _ := svc.ReceiveInbound(ctx, inbound("SM1", "+14155550100", "hello"))
	responders := make([]hotline.Actor, 10)
	for i := range responders {
		responders[i] = hotline.Actor{ID: hotline.NewID(t0)}
	}
	var wg sync.WaitGroup
	var won, conflicts atomic.Int32
	for _, r := range responders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := svc.Accept(ctx, r, res.ConversationID); hotline.ErrorCode(err) {
			case "":
				won.Add(1)
			case hotline.ECONFLICT:
				conflicts.Add(1)
			default:
				t.Errorf("Accept: %v", err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 || conflicts.Load() != 9 {
		t.Errorf("accept race: %d won, %d conflicts; want exactly 1 and 9", won.Load(), conflicts.Load())
	}
}

func TestReplyQueuesTextAndNoteDoesNot(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	res, _ := svc.ReceiveInbound(ctx, inbound("SM1", "+14155550100", "hello"))
	if _, err := svc.Reply(ctx, alice, res.ConversationID, "hi"); hotline.ErrorCode(err) != hotline.ECONFLICT {
		t.Errorf("Reply before Accept: %v, want ECONFLICT", err)
	}
	if err := svc.Accept(ctx, alice, res.ConversationID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reply(ctx, alice, res.ConversationID, "   "); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Errorf("empty Reply: %v, want EINVALID", err)
	}
	m, err := svc.Reply(ctx, alice, res.ConversationID, "Hi, I'm here. Are you safe right now?")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddNote(ctx, alice, res.ConversationID, "texter mentions a employer"); err != nil {
		t.Fatal(err)
	}
	conv, msgs, outbox := thread(t, svc, res.ConversationID)
	if conv.State != hotline.StateActive || conv.FirstResponseAt.IsZero() {
		t.Errorf("conversation %s, first response %v; want active with a first response", conv.State, conv.FirstResponseAt)
	}
	if got, want := fmt.Sprint(directions(msgs)), "[inbound outbound:welcome outbound:reply note]"; got != want {
		t.Errorf("thread = %s, want %s", got, want)
	}
	if got, want := len(outbox), 2; got != want {
		t.Fatalf("outbox = %d, want %d (welcome and reply; never the note)", got, want)
	}
	if outbox[1].ID != m.ID || outbox[1].Body != m.Body {
		t.Errorf("outbox[1] = %+v, want the reply", outbox[1])
	}
	if err := svc.Close(ctx, alice, res.ConversationID, "safe", []string{"labor"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reply(ctx, alice, res.ConversationID, "one more"); hotline.ErrorCode(err) != hotline.ECONFLICT {
		t.Errorf("Reply after close: %v, want ECONFLICT (no unsolicited outbound)", err)
	}
}

func TestInactivityTimerFiresOnceAndSurvivesRestart(t *testing.T) {
	svc, clock, _ := newService(t)
	ctx := context.Background()
	res, _ := svc.ReceiveInbound(ctx, inbound("SM1", "+14155550100", "hello"))
	if n, err := svc.FireDueTimers(ctx); err != nil || n != 0 {
		t.Fatalf("FireDueTimers before the deadline = %d, %v; want 0", n, err)
	}
	clock.Advance(hotline.DefaultPolicy().InactivityTimeout + time.Second)
	// A restart is a new Service over the same store: the deadline is found in the store.
	restarted := hotline.NewService(svc.Store(), clock, nil, hotline.DefaultPolicy())
	if n, err := restarted.FireDueTimers(ctx); err != nil || n != 1 {
		t.Fatalf("FireDueTimers after the deadline = %d, %v; want 1", n, err)
	}
	if n, err := restarted.FireDueTimers(ctx); err != nil || n != 0 {
		t.Fatalf("FireDueTimers again = %d, %v; want 0 (a timer fires once)", n, err)
	}
	conv, msgs, _ := thread(t, svc, res.ConversationID)
	if conv.State != hotline.StateClosed || conv.ClosedReason != "inactivity" {
		t.Errorf("conversation %s (%s), want closed for inactivity", conv.State, conv.ClosedReason)
	}
	if got, want := fmt.Sprint(directions(msgs)), "[inbound outbound:welcome system outbound:closing]"; got != want {
		t.Errorf("thread = %s, want %s", got, want)
	}
}

func TestRecordStatusMovesOnlyForward(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	res, _ := svc.ReceiveInbound(ctx, inbound("SM1", "+14155550100", "hello"))
	_, msgs, _ := thread(t, svc, res.ConversationID)
	welcome := msgs[1]
	// Give the welcome a provider SID the way the outbox does once Twilio accepts it.
	err := svc.Store().Update(ctx, func(tx hotline.Tx) error {
		m, err := tx.Message(welcome.ConversationID, welcome.ID)
		if err != nil {
			return err
		}
		m.TwilioSID, m.Status = "SMout1", hotline.StatusSent
		return tx.PutMessage(m)
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		status hotline.Status
		want   hotline.Status
	}{
		{hotline.StatusDelivered, hotline.StatusDelivered},
		{hotline.StatusSent, hotline.StatusDelivered}, // late and out of order: ignored
		{hotline.StatusQueued, hotline.StatusDelivered},
	}
	for _, s := range steps {
		if err := svc.RecordStatus(ctx, hotline.StatusUpdate{SID: "SMout1", Status: s.status}); err != nil {
			t.Fatal(err)
		}
		_, msgs, _ := thread(t, svc, res.ConversationID)
		if got := msgs[1].Status; got != s.want {
			t.Errorf("after %s: status %s, want %s", s.status, got, s.want)
		}
	}
	if err := svc.RecordStatus(ctx, hotline.StatusUpdate{SID: "SMunknown", Status: hotline.StatusDelivered}); !hotline.IsNotFound(err) {
		t.Errorf("unknown SID: %v, want ENOTFOUND", err)
	}
}

func TestCarrierOptOutStatusOptsTheTexterOut(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	res, _ := svc.ReceiveInbound(ctx, inbound("SM1", "+14155550100", "hello"))
	_ = svc.Accept(ctx, alice, res.ConversationID)
	m, err := svc.Reply(ctx, alice, res.ConversationID, "hi")
	if err != nil {
		t.Fatal(err)
	}
	_ = svc.Store().Update(ctx, func(tx hotline.Tx) error {
		msg, _ := tx.Message(m.ConversationID, m.ID)
		msg.TwilioSID, msg.Status = "SMreply", hotline.StatusSent
		return tx.PutMessage(msg)
	})
	if err := svc.RecordStatus(ctx, hotline.StatusUpdate{SID: "SMreply", Status: hotline.StatusFailed, ErrorCode: 21610}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reply(ctx, alice, res.ConversationID, "still there?"); hotline.ErrorCode(err) != hotline.EOPTEDOUT {
		t.Errorf("Reply after 21610: %v, want EOPTEDOUT", err)
	}
}

// TestReceiveInboundChainsItsWebhook: the webhook's digest, hashed before the
// transaction, is the one its stored copy hashes to, and the chain verifies.
func TestReceiveInboundChainsItsWebhook(t *testing.T) {
	svc, _, _ := newService(t)
	in := inbound("SM001", "+14155550100", "hello")
	in.Webhook = &hotline.Webhook{URL: "https://hotline.example.org/webhooks/twilio/sms", Signature: "c2lnbmF0dXJl",
		Params: map[string][]string{"MessageSid": {"SM001"}, "From": {"+14155550100"}, "Body": {"hello"}}}
	sent := *in.Webhook
	res, err := svc.ReceiveInbound(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if in.Webhook.URL != sent.URL || hotline.WebhookDigest(*in.Webhook) != hotline.WebhookDigest(sent) {
		t.Errorf("the caller's webhook changed")
	}
	err = svc.Store().View(context.Background(), func(tx hotline.ReadTx) error {
		conv, err := tx.Conversation(res.ConversationID)
		if err != nil {
			return err
		}
		var entries []hotline.ChainEntry
		err = tx.Messages(res.ConversationID, hotline.ID{}, func(m hotline.Message) error {
			if m.ID == res.MessageID && (m.Webhook == nil || hotline.WebhookDigest(*m.Webhook) != hotline.WebhookDigest(sent)) {
				t.Errorf("stored webhook = %+v, want %+v", m.Webhook, sent)
			}
			entries = append(entries, hotline.MessageEntry(m))
			return nil
		})
		if err != nil {
			return err
		}
		if brk := hotline.VerifyChain(res.ConversationID, entries, conv.Chain); brk != nil {
			t.Errorf("chain: %v", brk)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
