package hotline_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// retentionFixture is a hotline 40 days on: texters whose conversations closed at
// t0, one of whom opted out and one under a legal hold, one closed five days ago and
// one still open since t0.
type retentionFixture struct {
	svc                                      *hotline.Service
	clock                                    *testClock
	ret                                      *hotline.Retention
	plain, optedOut, held, recent, stillOpen hotline.ID
}

const (
	plainNumber    = "+14155550101"
	optedOutNumber = "+14155550102"
)

func newRetentionFixture(t *testing.T) *retentionFixture {
	t.Helper()
	svc, clock, _ := newService(t)
	f := &retentionFixture{svc: svc, clock: clock, ret: hotline.NewRetention(svc, 30)}
	ctx := context.Background()
	responder := hotline.Actor{ID: hotline.NewID(t0)}
	sid := 0
	text := func(from, body string) hotline.ID {
		t.Helper()
		sid++
		res, err := svc.ReceiveInbound(ctx, inbound("SMret"+string(rune('a'+sid)), from, body))
		if err != nil {
			t.Fatal(err)
		}
		return res.ConversationID
	}
	closeIt := func(id hotline.ID) {
		t.Helper()
		if err := svc.Accept(ctx, responder, id); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reply(ctx, responder, id, "We are here."); err != nil {
			t.Fatal(err)
		}
		if err := svc.Close(ctx, responder, id, "resolved", nil); err != nil {
			t.Fatal(err)
		}
	}
	f.plain = text(plainNumber, "help")
	closeIt(f.plain)
	f.optedOut = text(optedOutNumber, "help")
	text(optedOutNumber, "STOP")
	if err := svc.Accept(ctx, responder, f.optedOut); err != nil {
		t.Fatal(err)
	}
	if err := svc.Close(ctx, responder, f.optedOut, "opted out", nil); err != nil {
		t.Fatal(err)
	}
	f.held = text("+14155550103", "help")
	closeIt(f.held)
	if _, err := f.ret.SetLegalHold(ctx, hotline.OperatorCaller("test"), f.held, true, "subpoena 2026-17"); err != nil {
		t.Fatal(err)
	}
	f.stillOpen = text("+14155550104", "help")
	clock.Advance(35 * 24 * time.Hour)
	f.recent = text("+14155550105", "help")
	closeIt(f.recent)
	clock.Advance(5 * 24 * time.Hour)
	return f
}

func (f *retentionFixture) exists(t *testing.T, id hotline.ID) bool {
	t.Helper()
	err := f.svc.Store().View(context.Background(), func(tx hotline.ReadTx) error {
		_, err := tx.Conversation(id)
		return err
	})
	if err != nil && !hotline.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func TestRetentionPurgesOldClosedConversationsButNotHeldOnes(t *testing.T) {
	f := newRetentionFixture(t)
	ctx := context.Background()
	op := hotline.OperatorCaller(hotline.OperatorCLI)

	dry, err := f.ret.Purge(ctx, op, true)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Conversations != 2 || dry.Held != 1 || dry.ContactsDeleted != 2 || dry.ContactsKept != 1 || dry.Messages == 0 {
		t.Errorf("dry run = %+v, want 2 conversations (plain, opted out), 1 held, 2 contacts of which 1 kept", dry)
	}
	if !f.exists(t, f.plain) {
		t.Fatal("a dry run deleted something")
	}

	rep, err := f.ret.Purge(ctx, op, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Conversations != dry.Conversations || rep.Messages != dry.Messages || rep.ContactsDeleted != dry.ContactsDeleted ||
		rep.ContactsKept != dry.ContactsKept || rep.Held != dry.Held {
		t.Errorf("purge = %+v, but the dry run said %+v", rep, dry)
	}
	for name, tt := range map[string]struct {
		id   hotline.ID
		kept bool
	}{
		"closed 40 days ago": {f.plain, false}, "opted out 40 days ago": {f.optedOut, false},
		"under a legal hold": {f.held, true}, "closed 5 days ago": {f.recent, true}, "open since 40 days": {f.stillOpen, true},
	} {
		if got := f.exists(t, tt.id); got != tt.kept {
			t.Errorf("%s: kept = %v, want %v", name, got, tt.kept)
		}
	}

	// The audit log has the run, with counts and no content.
	var entry hotline.AuditEntry
	_ = f.svc.Store().View(ctx, func(tx hotline.ReadTx) error {
		return tx.AuditEntries(hotline.ID{}, func(e hotline.AuditEntry) error {
			if e.Action == hotline.AuditRetention {
				entry = e
				return hotline.ErrStop
			}
			return nil
		})
	})
	if entry.Detail["conversations"] != "2" || entry.Detail["held"] != "1" || entry.Detail["days"] != "30" || entry.ActorUsername != hotline.OperatorCLI {
		t.Errorf("retention audit entry = %+v", entry)
	}

	// Nothing more to purge: a second run changes nothing and writes no entry.
	again, err := f.ret.Purge(ctx, op, false)
	if err != nil || again.Conversations != 0 {
		t.Errorf("second purge = %+v, %v; want nothing", again, err)
	}
}

func TestRetentionKeepsTheOptOutOfAPurgedTexter(t *testing.T) {
	f := newRetentionFixture(t)
	ctx := context.Background()
	if _, err := f.ret.Purge(ctx, hotline.OperatorCaller(hotline.OperatorCLI), false); err != nil {
		t.Fatal(err)
	}
	var plainGone bool
	var kept hotline.Contact
	_ = f.svc.Store().View(ctx, func(tx hotline.ReadTx) error {
		_, err := tx.ContactByAddress(plainNumber)
		plainGone = hotline.IsNotFound(err)
		kept, err = tx.ContactByAddress(optedOutNumber)
		if err != nil {
			t.Errorf("the opted-out texter's contact is gone: %v", err)
		}
		return nil
	})
	if !plainGone {
		t.Error("the contact of a texter with no conversation left was kept")
	}
	if !kept.OptedOut || kept.OptedOutAt.IsZero() || kept.Handle == "" || kept.Language != "" || !kept.FirstSeen.IsZero() {
		t.Errorf("kept contact = %+v, want only the address, handle and opt-out", kept)
	}

	// They text again: the message is kept, but nothing is sent to them.
	res, err := f.svc.ReceiveInbound(ctx, inbound("SMafter", optedOutNumber, "hello?"))
	if err != nil {
		t.Fatal(err)
	}
	_, msgs, outbox := thread(t, f.svc, res.ConversationID)
	if len(outbox) != 0 {
		t.Errorf("the hotline queued %d texts to a texter who opted out before the purge", len(outbox))
	}
	if len(msgs) == 0 || msgs[0].Body != "hello?" {
		t.Errorf("their new text was not kept: %+v", msgs)
	}
}

func TestLegalHoldReleaseMakesItPurgeable(t *testing.T) {
	f := newRetentionFixture(t)
	ctx := context.Background()
	responder := hotline.Caller{User: hotline.User{ID: hotline.NewID(t0), Role: hotline.RoleResponder}}
	if _, err := f.ret.SetLegalHold(ctx, responder, f.held, false, ""); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Errorf("a responder releasing a hold = %v, want EFORBIDDEN", err)
	}
	coordinator := hotline.Caller{User: hotline.User{ID: hotline.NewID(t0), Username: "coord", Role: hotline.RoleCoordinator}}
	conv, err := f.ret.SetLegalHold(ctx, coordinator, f.held, false, "case closed")
	if err != nil || conv.LegalHold {
		t.Fatalf("release = %+v, %v", conv.LegalHold, err)
	}
	if _, err := f.ret.SetLegalHold(ctx, coordinator, hotline.NewID(t0), true, ""); !hotline.IsNotFound(err) {
		t.Errorf("hold on a conversation that does not exist = %v, want ENOTFOUND", err)
	}
	rep, err := f.ret.Purge(ctx, coordinator, false)
	if err != nil || rep.Conversations != 3 || rep.Held != 0 {
		t.Errorf("purge after the release = %+v, %v; want 3 conversations, none held", rep, err)
	}
	var actions []hotline.AuditAction
	_ = f.svc.Store().View(ctx, func(tx hotline.ReadTx) error {
		return tx.AuditEntries(hotline.ID{}, func(e hotline.AuditEntry) error { actions = append(actions, e.Action); return nil })
	})
	// Entries made in the same millisecond of the test clock have no set order.
	if len(actions) != 3 || !slices.Contains(actions, hotline.AuditRetention) || !slices.Contains(actions, hotline.AuditLegalHoldRelease) ||
		!slices.Contains(actions, hotline.AuditLegalHold) {
		t.Errorf("audit actions = %v, want a hold, its release and a retention run", actions)
	}
}

func TestRetentionOffKeepsEverything(t *testing.T) {
	svc, clock, _ := newService(t)
	res, err := svc.ReceiveInbound(context.Background(), inbound("SM1", "+14155550101", "help"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * 365 * 24 * time.Hour)
	rep, err := hotline.NewRetention(svc, 0).Purge(context.Background(), hotline.OperatorCaller("test"), false)
	if err != nil || rep.Conversations != 0 {
		t.Errorf("purge with retention off = %+v, %v", rep, err)
	}
	_, msgs, _ := thread(t, svc, res.ConversationID)
	if len(msgs) == 0 {
		t.Error("retention 0 deleted a conversation")
	}
}

func TestRetentionPurgesOldPageRecords(t *testing.T) {
	f := newRetentionFixture(t) // now is t0+40d; with 30 days the cutoff is t0+10d
	ctx := context.Background()
	op := hotline.OperatorCaller(hotline.OperatorCLI)
	ana, boss := hotline.NewID(t0), hotline.NewID(t0)
	var old, kept []hotline.ID
	err := f.svc.Store().Update(ctx, func(tx hotline.Tx) error {
		put := func(user, conv hotline.ID, at time.Time) hotline.ID {
			id := hotline.NewID(at)
			if err := tx.PutPage(hotline.PageRecord{ID: id, UserID: user, ConversationID: conv, Audience: hotline.PageOnCall,
				Waiting: 1, Body: "hotline: 1 texter waiting", CreatedAt: at}); err != nil {
				t.Fatal(err)
			}
			return id
		}
		for i := range 40 { // more than one batch
			old = append(old, put(ana, f.plain, t0.Add(time.Duration(i)*time.Minute)))
		}
		old = append(old, put(boss, f.stillOpen, t0.Add(9*24*time.Hour)))
		kept = append(kept, put(ana, f.held, t0.Add(time.Hour)))            // old, but its conversation is held
		kept = append(kept, put(boss, f.recent, t0.Add(11*24*time.Hour)))   // after the cutoff
		kept = append(kept, put(ana, f.stillOpen, t0.Add(39*24*time.Hour))) // yesterday
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	remaining := func() []hotline.ID {
		var ids []hotline.ID
		if err := f.svc.Store().View(ctx, func(tx hotline.ReadTx) error {
			return tx.Pages(hotline.ID{}, func(p hotline.PageRecord) error { ids = append(ids, p.ID); return nil })
		}); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(ids, func(a, b hotline.ID) int { return a.Compare(b) })
		return ids
	}

	dry, err := f.ret.Purge(ctx, op, true)
	if err != nil || dry.Pages != len(old) {
		t.Fatalf("dry run: %d pages, %v; want %d", dry.Pages, err, len(old))
	}
	if got := len(remaining()); got != len(old)+len(kept) {
		t.Fatalf("a dry run deleted pages: %d left", got)
	}
	rep, err := f.ret.Purge(ctx, op, false)
	if err != nil || rep.Pages != len(old) {
		t.Fatalf("purge: %d pages, %v; want %d", rep.Pages, err, len(old))
	}
	if got := remaining(); !slices.Equal(got, kept) {
		t.Errorf("pages left = %v, want the held, recent and new ones %v", got, kept)
	}
	// The per-user index went with the records: boss's newest page is the recent one.
	err = f.svc.Store().View(ctx, func(tx hotline.ReadTx) error {
		last, ok, err := tx.LastPage(boss)
		if err != nil || !ok || last.ID != kept[1] {
			t.Errorf("boss's last page = %v, %v, %v; want %v", last.ID, ok, err, kept[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var entry hotline.AuditEntry
	_ = f.svc.Store().View(ctx, func(tx hotline.ReadTx) error {
		return tx.AuditEntries(hotline.ID{}, func(e hotline.AuditEntry) error {
			if e.Action == hotline.AuditRetention {
				entry = e
				return hotline.ErrStop
			}
			return nil
		})
	})
	if got, want := entry.Detail["pages"], "41"; got != want {
		t.Errorf("retention audit entry pages = %q, want %q", got, want)
	}
	if again, err := f.ret.Purge(ctx, op, false); err != nil || again.Pages != 0 {
		t.Errorf("second purge = %+v, %v; want no page", again, err)
	}
}
