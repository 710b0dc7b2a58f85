package hotline

import (
	"context"
	"strconv"
	"time"
	"unicode/utf8"
)

// Visibility is how much of a conversation a user may see.
type Visibility int

// Visibilities, from nothing to everything.
const (
	// Hidden: the conversation answers ENOTFOUND, so that IDs cannot be probed.
	Hidden Visibility = iota
	// QueueView: what the queue shows (handle, waiting time, priority, language,
	// triage terms), never a message.
	QueueView
	// ThreadView: the conversation and its whole thread.
	ThreadView
)

// DefaultHandledVisibility is how long a responder still sees a conversation they
// handled, after it closed or after their last word in it.
const DefaultHandledVisibility = 24 * time.Hour

// ConversationVisibility is the access rule, a pure function. Coordinators see
// everything. A responder sees the whole thread of a conversation assigned to them,
// and of one they handled within the window: one that closed in their hands less
// than window ago, or one they left (transferred or released) whose last reply or
// note by them is less than window old (lastWrote, zero when they wrote none). They
// see waiting conversations as the queue shows them. Anything else is hidden.
func ConversationVisibility(u User, c Conversation, lastWrote, now time.Time, window time.Duration) Visibility {
	switch {
	case u.Disabled || IsZeroID(u.ID):
		return Hidden
	case u.IsCoordinator():
		return ThreadView
	case c.AssigneeID == u.ID && c.State.Open():
		return ThreadView
	}
	if c.HasResponder(u.ID) {
		until := lastWrote
		if !c.State.Open() && c.AssigneeID == u.ID {
			until = c.ClosedAt
		}
		if !until.IsZero() && now.Sub(until) <= window {
			return ThreadView
		}
	}
	if c.State == StateWaiting {
		return QueueView
	}
	return Hidden
}

// needsLastWrote reports whether ConversationVisibility depends on when u last
// wrote in c; a conversation not updated within the window cannot, since every note
// and reply updates it.
func needsLastWrote(u User, c Conversation, now time.Time, window time.Duration) bool {
	return !u.IsCoordinator() && c.HasResponder(u.ID) && c.AssigneeID != u.ID && now.Sub(c.UpdatedAt) <= window
}

// lastWrote returns when the user last wrote a reply or note in the conversation.
func lastWrote(tx ReadTx, conversationID, userID ID) (time.Time, error) {
	var last time.Time
	err := tx.Messages(conversationID, ID{}, func(m Message) error {
		if m.AuthorID == userID && m.CreatedAt.After(last) {
			last = m.CreatedAt
		}
		return nil
	})
	return last, err
}

// Access is the conversations as one user may see and act on them: the access rules
// in front of the Service's use cases, with the audit of what coordinators read.
type Access struct {
	svc    *Service
	window time.Duration
}

// NewAccess returns the access-checked use cases over svc. handledVisibility is how
// long responders keep seeing conversations they handled (default 24h).
func NewAccess(svc *Service, handledVisibility time.Duration) *Access {
	if handledVisibility <= 0 {
		handledVisibility = DefaultHandledVisibility
	}
	return &Access{svc: svc, window: handledVisibility}
}

// visibility reads what c.User may see of the conversation in tx.
func (x *Access) visibility(tx ReadTx, u User, conv Conversation, now time.Time) (Visibility, error) {
	var wrote time.Time
	if needsLastWrote(u, conv, now, x.window) {
		var err error
		if wrote, err = lastWrote(tx, conv.ID, u.ID); err != nil {
			return Hidden, err
		}
	}
	return ConversationVisibility(u, conv, wrote, now, x.window), nil
}

// ConversationQuery selects conversations to list.
type ConversationQuery struct {
	// States to list; none means the open ones (waiting, assigned, active).
	States []State
	// After is a cursor: only conversations with a greater ID.
	After ID
	// Limit is the most to return: 1 to 1000, default 200.
	Limit int
}

// ConversationSummary is a conversation as a list shows it.
type ConversationSummary struct {
	Conversation Conversation
	OptedOut     bool // the texter opted out: nothing can be sent
	Visibility   Visibility
}

// Conversations lists, oldest first, the conversations matching q that the caller
// may see (see ConversationVisibility).
func (x *Access) Conversations(ctx context.Context, c Caller, q ConversationQuery) ([]ConversationSummary, error) {
	if q.Limit <= 0 {
		q.Limit = 200
	}
	q.Limit = min(q.Limit, 1000)
	if len(q.States) == 0 {
		q.States = []State{StateWaiting, StateAssigned, StateActive}
	}
	var out []ConversationSummary
	err := x.svc.store.View(ctx, func(tx ReadTx) error {
		out = nil
		now := x.svc.clock.Now()
		return tx.Conversations(ConversationFilter{States: q.States, After: q.After}, func(conv Conversation) error {
			vis, err := x.visibility(tx, c.User, conv, now)
			if err != nil || vis == Hidden {
				return err
			}
			contact, err := tx.Contact(conv.ContactID)
			if err != nil {
				return err
			}
			out = append(out, ConversationSummary{Conversation: conv, OptedOut: contact.OptedOut, Visibility: vis})
			if len(out) >= q.Limit {
				return ErrStop
			}
			return nil
		})
	})
	return out, err
}

// Transcript is a conversation with its thread; Messages is empty when the caller
// may see only what the queue shows.
type Transcript struct {
	ConversationSummary
	Messages []Message
}

// Transcript returns the conversation as the caller may see it. A coordinator's view
// of a thread is written to the audit log first, in the same transaction: a
// transcript that cannot be audited is not shown.
//
// Errors: ENOTFOUND for a conversation that does not exist or is hidden from the caller.
func (x *Access) Transcript(ctx context.Context, c Caller, id ID) (Transcript, error) {
	read := func(tx ReadTx) (Transcript, error) {
		conv, err := tx.Conversation(id)
		if err != nil {
			return Transcript{}, err
		}
		vis, err := x.visibility(tx, c.User, conv, x.svc.clock.Now())
		if err != nil {
			return Transcript{}, err
		} else if vis == Hidden {
			return Transcript{}, conversationNotFound(id)
		}
		contact, err := tx.Contact(conv.ContactID)
		if err != nil {
			return Transcript{}, err
		}
		t := Transcript{ConversationSummary: ConversationSummary{Conversation: conv, OptedOut: contact.OptedOut, Visibility: vis}}
		if vis == ThreadView {
			err = tx.Messages(id, ID{}, func(m Message) error { t.Messages = append(t.Messages, m); return nil })
		}
		return t, err
	}
	var t Transcript
	if !c.User.IsCoordinator() {
		err := x.svc.store.View(ctx, func(tx ReadTx) error {
			var err error
			t, err = read(tx)
			return err
		})
		return t, err
	}
	err := x.svc.store.Update(ctx, func(tx Tx) error {
		var err error
		if t, err = read(tx); err != nil {
			return err
		}
		e := c.entry(AuditTranscriptView, TargetConversation, id.String())
		e.Detail = map[string]string{"handle": t.Conversation.Handle, "messages": strconv.Itoa(len(t.Messages))}
		return appendAudit(tx, e, x.svc.clock.Now())
	})
	return t, err
}

// Summary returns the conversation as a list shows it, if the caller may see it; it
// reads no message and so is not audited.
//
// Errors: ENOTFOUND for a conversation that does not exist or is hidden from the caller.
func (x *Access) Summary(ctx context.Context, c Caller, id ID) (ConversationSummary, error) {
	var s ConversationSummary
	err := x.svc.store.View(ctx, func(tx ReadTx) error {
		conv, err := tx.Conversation(id)
		if err != nil {
			return err
		}
		vis, err := x.visibility(tx, c.User, conv, x.svc.clock.Now())
		if err != nil {
			return err
		} else if vis == Hidden {
			return conversationNotFound(id)
		}
		contact, err := tx.Contact(conv.ContactID)
		s = ConversationSummary{Conversation: conv, OptedOut: contact.OptedOut, Visibility: vis}
		return err
	})
	return s, err
}

func conversationNotFound(id ID) error { return Errorf(ENOTFOUND, "Conversation %s not found.", id) }

// guard lets the caller act on the conversation: anyone who sees its thread; for
// accept, also whoever sees it in the queue, or any open one (the machine then
// answers ECONFLICT when someone else has it). A hidden conversation is ENOTFOUND.
func (x *Access) guard(ctx context.Context, c Caller, id ID, accept bool) error {
	if IsZeroID(c.User.ID) {
		return Errorf(EFORBIDDEN, "Sign in first.")
	}
	return x.svc.store.View(ctx, func(tx ReadTx) error {
		conv, err := tx.Conversation(id)
		if IsNotFound(err) {
			return conversationNotFound(id)
		} else if err != nil {
			return err
		}
		vis, err := x.visibility(tx, c.User, conv, x.svc.clock.Now())
		switch {
		case err != nil:
			return err
		case vis == ThreadView, accept && (vis == QueueView || conv.State.Open()):
			return nil
		case vis == QueueView:
			return Errorf(ECONFLICT, "Accept this conversation first.")
		}
		return conversationNotFound(id)
	})
}

// Accept assigns the conversation to the caller (see Service.Accept).
func (x *Access) Accept(ctx context.Context, c Caller, id ID) error {
	if err := x.guard(ctx, c, id, true); err != nil {
		return err
	}
	return x.svc.Accept(ctx, c.User.Actor(), id)
}

// Reply texts the texter (see Service.Reply).
func (x *Access) Reply(ctx context.Context, c Caller, id ID, body string) (Message, error) {
	if err := x.guard(ctx, c, id, false); err != nil {
		return Message{}, err
	}
	return x.svc.Reply(ctx, c.User.Actor(), id, body)
}

// AddNote adds an internal note (see Service.AddNote).
func (x *Access) AddNote(ctx context.Context, c Caller, id ID, body string) (Message, error) {
	if err := x.guard(ctx, c, id, false); err != nil {
		return Message{}, err
	}
	return x.svc.AddNote(ctx, c.User.Actor(), id, body)
}

// Release returns the conversation to the queue (see Service.Release).
func (x *Access) Release(ctx context.Context, c Caller, id ID) error {
	if err := x.guard(ctx, c, id, false); err != nil {
		return err
	}
	return x.svc.Release(ctx, c.User.Actor(), id)
}

// Transfer hands the conversation to another user, or to the queue when to is zero
// (see Service.Transfer). The recipient must be an enabled user who is available:
// a conversation handed to someone away or signed out would sit unseen (and would go
// straight back to the queue, as their unanswered conversations do). The transfer is
// a deliberate choice, so it does not check their language, shift or capacity; the
// conversation is theirs at once (assigned, not offered), and the change published
// names them, so their console shows it.
//
// Errors: EINVALID for no such user; ECONFLICT for one who is not available.
func (x *Access) Transfer(ctx context.Context, c Caller, id, to ID, note string) error {
	if err := x.guard(ctx, c, id, false); err != nil {
		return err
	}
	if !IsZeroID(to) {
		err := x.svc.store.View(ctx, func(tx ReadTx) error {
			u, err := tx.User(to)
			if IsNotFound(err) || err == nil && u.Disabled {
				return Errorf(EINVALID, "to: there is no such responder, or they are disabled.")
			}
			if err == nil && u.Availability != AvailabilityAvailable {
				name := u.DisplayName
				if name == "" {
					name = u.Username
				}
				return Errorf(ECONFLICT, "%s is %s: transfer to someone available, or back to the queue with a note.", name, orOffline(u.Availability))
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return x.svc.Transfer(ctx, c.User.Actor(), id, to, note)
}

// Limits on closing a conversation.
const (
	maxDispositionRunes = 100
	maxTags             = 20
	maxTagRunes         = 50
)

// Close ends the conversation with a disposition and tags (see Service.Close).
func (x *Access) Close(ctx context.Context, c Caller, id ID, disposition string, tags []string) error {
	if utf8.RuneCountInString(disposition) > maxDispositionRunes {
		return Errorf(EINVALID, "disposition: at most %d characters.", maxDispositionRunes)
	}
	if len(tags) > maxTags {
		return Errorf(EINVALID, "tags: at most %d.", maxTags)
	}
	for _, t := range tags {
		if t == "" || utf8.RuneCountInString(t) > maxTagRunes {
			return Errorf(EINVALID, "tags: each between 1 and %d characters.", maxTagRunes)
		}
	}
	if err := x.guard(ctx, c, id, false); err != nil {
		return err
	}
	return x.svc.Close(ctx, c.User.Actor(), id, disposition, tags)
}

// Reveal returns the texter's number. Only coordinators may, and the reveal is
// audited (naming the conversation, not the number) in the same transaction.
//
// Errors: EFORBIDDEN for responders; ENOTFOUND.
func (x *Access) Reveal(ctx context.Context, c Caller, id ID) (Address, error) {
	if !c.User.IsCoordinator() {
		return "", Errorf(EFORBIDDEN, "Only coordinators can reveal a texter's number.")
	}
	var addr Address
	err := x.svc.store.Update(ctx, func(tx Tx) error {
		th, err := loadThread(tx, id)
		if err != nil {
			return err
		}
		addr = th.Contact.Address
		e := c.entry(AuditReveal, TargetConversation, id.String())
		e.Detail = map[string]string{"handle": th.Conversation.Handle}
		return appendAudit(tx, e, x.svc.clock.Now())
	})
	return addr, err
}

// MaxLookupSIDs is the most MessageSids one CountInbound call takes.
const MaxLookupSIDs = 1000

// CountInbound says, for each MessageSid, how many inbound messages are stored under
// it: 1 or 0, since a SID is stored once (the load tool checks exactly that). Only
// coordinators and the operator may.
func (x *Access) CountInbound(ctx context.Context, c Caller, sids []string) (map[string]int, error) {
	if err := c.requireCoordinator("look up messages"); err != nil {
		return nil, err
	}
	if len(sids) > MaxLookupSIDs {
		return nil, Errorf(EINVALID, "sids: at most %d at a time.", MaxLookupSIDs)
	}
	for _, s := range sids {
		if s == "" || len(s) > 64 {
			return nil, Errorf(EINVALID, "sids: each between 1 and 64 characters.")
		}
	}
	counts := make(map[string]int, len(sids))
	err := x.svc.store.View(ctx, func(tx ReadTx) error {
		for _, sid := range sids {
			m, err := tx.MessageBySID(sid)
			switch {
			case IsNotFound(err):
				counts[sid] = 0
			case err != nil:
				return err
			case m.Direction == DirectionInbound:
				counts[sid] = 1
			default:
				counts[sid] = 0
			}
		}
		return nil
	})
	return counts, err
}
