package simulator_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/sms/simulator"
	"github.com/hotlinehq/hotline/store/storetest"
)

// TestTexterGetsTheWelcomeDelivered runs the whole loop the simulator exists for: a
// text from the page reaches the service, the dispatcher sends the welcome through
// the simulator, the page sees it, and the delivered status reaches the store.
func TestTexterGetsTheWelcomeDelivered(t *testing.T) {
	st := storetest.MustOpen(t)
	var d *hotline.Dispatcher
	svc := hotline.NewService(st, nil, hotline.NotifierFunc(func(cs ...hotline.Change) { d.Publish(cs...) }), hotline.DefaultPolicy())
	sim := newSimulator(t, svc, svc)
	d = hotline.NewDispatcher(svc, sim, hotline.DispatcherOptions{FirstRetryDelay: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := serve(t, sim)

	s := openStream(t, srv, "+15555550130")
	_, b := postJSON(t, srv.URL+"/simulator/messages", `{"from":"+15555550130","body":"hello, is anyone there?"}`)
	answer := decode[simulator.MessageResponse](t, b)

	if ev := s.next(); ev.Direction != simulator.DirectionFromPhone || ev.Body != "hello, is anyone there?" {
		t.Errorf("first event %+v, want the texter's own text", ev)
	}
	welcome := s.next()
	if want := hotline.DefaultPolicy().TextsFor("en").Welcome; welcome.Direction != simulator.DirectionToPhone || welcome.Body != want {
		t.Errorf("then %+v, want the welcome", welcome)
	}
	if ev := s.next(); ev.Type != simulator.EventStatus || ev.Status != hotline.StatusDelivered {
		t.Errorf("then %+v, want the welcome delivered", ev)
	}

	conv, err := hotline.ParseID(answer.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the store to record the welcome as delivered", func() bool {
		var m hotline.Message
		_ = st.View(context.Background(), func(tx hotline.ReadTx) error {
			var err error
			m, err = tx.MessageBySID(welcome.SID)
			return err
		})
		return m.ConversationID == conv && m.Status == hotline.StatusDelivered
	})
}
