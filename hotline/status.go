package hotline

import (
	"context"
	"time"
)

// StatusUpdate is a delivery status report for an outbound message, from Twilio's
// status callback or the simulator.
type StatusUpdate struct {
	SID          string
	Status       Status
	ErrorCode    int
	ErrorMessage string
	// DoneAt is the carrier's delivery time (Twilio's RawDlrDoneDate), when known.
	DoneAt string
}

// RecordStatus applies a delivery status report. Statuses only move forward, so a
// late "sent" after "delivered" changes nothing. Error 21610 marks the texter as
// opted out.
//
// An unknown SID is ENOTFOUND, but the report is kept (committed) as an
// OrphanStatus: Twilio may call back before the dispatcher has recorded the SID it
// returned, and the dispatcher applies the kept report when it does.
func (s *Service) RecordStatus(ctx context.Context, u StatusUpdate) error {
	var out changes
	var orphan bool
	err := s.store.Update(ctx, func(tx Tx) error {
		out, orphan = nil, false
		now := s.clock.Now()
		m, err := tx.MessageBySID(u.SID)
		if IsNotFound(err) && u.SID != "" {
			orphan = true
			return keepOrphanStatus(tx, u, now)
		} else if err != nil {
			return err
		}
		if m.Direction != DirectionOutbound || !m.Status.Advances(u.Status) {
			return nil
		}
		return s.applyStatus(tx, m, u, now, &out)
	})
	if err != nil {
		return err
	} else if orphan {
		return Errorf(ENOTFOUND, "No message has SID %s yet: the status is kept until its send is recorded.", u.SID)
	}
	s.notifier.Publish(out...)
	return nil
}

// applyStatus stores a forward status move of an outbound message, ends its outbox
// entry when the status is final, and reacts to a carrier opt-out.
func (s *Service) applyStatus(tx Tx, m Message, u StatusUpdate, now time.Time, out *changes) error {
	m.Status, m.UpdatedAt = u.Status, now
	if u.SID != "" {
		m.TwilioSID = u.SID
	}
	if u.ErrorCode != 0 || u.ErrorMessage != "" {
		m.ErrorCode, m.ErrorMessage = u.ErrorCode, u.ErrorMessage
	}
	if u.DoneAt != "" {
		if m.Extra == nil {
			m.Extra = map[string]string{}
		}
		m.Extra[ExtraDoneDate] = u.DoneAt
	}
	if err := tx.PutMessage(m); err != nil {
		return err
	}
	out.add(Change{Kind: ChangeStatus, ConversationID: m.ConversationID, MessageID: m.ID})
	if m.Status.Final() {
		if err := tx.DeleteOutbox(m.ID); err != nil && !IsNotFound(err) {
			return err
		}
	}
	if u.ErrorCode == TwilioErrorOptedOut && !IsZeroID(m.ConversationID) {
		th, err := loadThread(tx, m.ConversationID)
		if err != nil {
			return err
		}
		th, effects, err := Apply(th, CarrierOptOut{}, now, s.Policy())
		if err != nil {
			return err
		}
		if _, err := s.saveThread(tx, th, effects, now, out); err != nil {
			return err
		}
		out.add(Change{Kind: ChangeContact, ConversationID: m.ConversationID})
	}
	return nil
}
