package hotline

import (
	"context"
	"slices"
)

// This file holds what the console's live event streams read: one message as a
// user may see it, the facts about a conversation that decide who is told it left
// their view, and the team list everyone may read.

// Message returns one message of a conversation, if the caller may read its thread.
// It is not audited: live consoles read each new message of the threads they show,
// and a coordinator's opening of the thread (Transcript) is what the audit records.
//
// Errors: ENOTFOUND for a message that does not exist, or whose thread the caller
// may not read.
func (x *Access) Message(ctx context.Context, c Caller, conversationID, messageID ID) (Message, error) {
	var m Message
	err := x.svc.store.View(ctx, func(tx ReadTx) error {
		conv, err := tx.Conversation(conversationID)
		if err != nil {
			return err
		}
		vis, err := x.visibility(tx, c.User, conv, x.svc.clock.Now())
		if err != nil {
			return err
		} else if vis != ThreadView {
			return Errorf(ENOTFOUND, "Message %s not found.", messageID)
		}
		m, err = tx.Message(conversationID, messageID)
		return err
	})
	return m, err
}

// ConversationFacts are what a live event stream needs to know about a conversation
// whatever the user: its state and everyone who has been assigned it.
type ConversationFacts struct {
	ID         ID
	State      State
	AssigneeID ID
	Responders []ID
}

// ConversationFacts reads the facts of each conversation that exists; unknown IDs
// are left out. It applies no access rule: the caller must not show them to users.
func (x *Access) ConversationFacts(ctx context.Context, ids []ID) (map[ID]ConversationFacts, error) {
	out := make(map[ID]ConversationFacts, len(ids))
	err := x.svc.store.View(ctx, func(tx ReadTx) error {
		clear(out)
		for _, id := range ids {
			conv, err := tx.Conversation(id)
			if IsNotFound(err) {
				continue
			} else if err != nil {
				return err
			}
			out[id] = ConversationFacts{ID: id, State: conv.State, AssigneeID: conv.AssigneeID, Responders: slices.Clone(conv.Responders)}
		}
		return nil
	})
	return out, err
}

// WaitingIDs returns the IDs of the conversations in the queue now.
func (x *Access) WaitingIDs(ctx context.Context) ([]ID, error) {
	var ids []ID
	err := x.svc.store.View(ctx, func(tx ReadTx) error {
		ids = ids[:0]
		return tx.Queue(func(c Conversation) error {
			ids = append(ids, c.ID)
			return nil
		})
	})
	return ids, err
}

// Team returns the enabled users, oldest first, for any signed-in user: the console
// shows who wrote what in a thread and whom a conversation can be transferred to.
// Callers must show only names, roles, languages and availability (never phones).
//
// Errors: EFORBIDDEN for a caller who is not signed in.
func (a *Accounts) Team(ctx context.Context, c Caller) ([]User, error) {
	if IsZeroID(c.User.ID) && !c.isOperator() {
		return nil, Errorf(EFORBIDDEN, "Sign in first.")
	}
	var out []User
	err := a.store.View(ctx, func(tx ReadTx) error {
		out = nil
		return tx.Users(func(u User) error {
			if !u.Disabled {
				out = append(out, u)
			}
			return nil
		})
	})
	return out, err
}
