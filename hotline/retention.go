package hotline

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Retention purges closed conversations once they are older than the hotline keeps
// transcripts, except those under a legal hold. A purge deletes the conversation,
// its messages (notes and events included), their index entries and any outbox
// entry; then the texter's contact when no conversation of theirs is left. A texter
// who opted out keeps a minimal contact (address, handle, opted-out flag and time,
// nothing else), so that a purge never makes the hotline text someone who said STOP.
//
// Page records (who was paged, when, and how many texters waited) go after the
// same Days, counted from when they were sent, unless the conversation whose wait
// caused them is under a legal hold. They are audit records, but the audit log is
// kept forever (append-only, with no retention of its own), so it gives no cutoff;
// the conversation retention is the one that fits: pages are about those
// conversations (each names the one that caused it), and once its transcript is
// gone a record of who was paged about it serves no audit.
//
// Purges are audited with counts, never with content.
type Retention struct {
	svc *Service
	// Days is how long closed conversations are kept, counted from when they
	// closed; 0 keeps them forever.
	days int
}

// RetentionTx deletes what retention purges (store: purge.go).
type RetentionTx interface {
	// DeleteConversation deletes the conversation, its messages with their SID
	// index entries, their outbox entries, and the conversation's index entries;
	// ENOTFOUND when there is no such conversation.
	DeleteConversation(id ID) error
	// DeleteContact deletes the contact with its address and handle index entries;
	// ENOTFOUND when there is none, ECONFLICT while a conversation refers to it.
	DeleteContact(id ID) error
	// DeletePage deletes a page record with its per-user index entry; ENOTFOUND
	// when there is none.
	DeletePage(id ID) error
}

// Audited retention and legal hold actions (AuditRetention is a purge run).
const (
	AuditLegalHold        AuditAction = "legal_hold"
	AuditLegalHoldRelease AuditAction = "legal_hold_release"
	// AuditBackup records a backup taken through the API or the CLI.
	AuditBackup AuditAction = "backup"
)

// Audit targets and the operator name of retention and backups.
const (
	TargetRetention = "retention"
	TargetBackup    = "backup"
	// OperatorRetention names the daily retention job in the audit log.
	OperatorRetention = "retention"
)

// Limits of retention.
const (
	// purgeBatch is how many conversations one write transaction deletes, so that
	// a large purge never holds the write lock long enough to delay a webhook.
	purgeBatch = 32
	// retentionIDMargin widens the scan past the cutoff: IDs are stamped with the
	// creation time, which a conversation closed before the cutoff precedes.
	retentionIDMargin  = 24 * time.Hour
	maxHoldReasonRunes = 200
)

// NewRetention returns the retention use cases over svc, keeping closed
// conversations for days days (0: forever).
func NewRetention(svc *Service, days int) *Retention {
	return &Retention{svc: svc, days: days}
}

// Days returns how many days closed conversations are kept; 0 is forever.
func (r *Retention) Days() int { return r.days }

// PurgeReport counts what a purge deleted (or, in a dry run, would delete).
type PurgeReport struct {
	DryRun bool
	Days   int
	// Cutoff: conversations closed before it are purged.
	Cutoff        time.Time
	Conversations int
	Messages      int
	// ContactsDeleted are texters with no conversation left; ContactsKept the
	// opted-out ones among them, kept as minimal records.
	ContactsDeleted int
	ContactsKept    int
	// Held are conversations past the cutoff kept by a legal hold.
	Held int
	// Pages are page records sent before the cutoff.
	Pages int
}

// Purge deletes the closed conversations that closed more than Days ago and have no
// legal hold, then the page records sent before the same cutoff (see purgePages), in
// small transactions, and audits the counts. With dryRun it only
// counts. Coordinators and the operator (the daily job, the CLI) may. With Days 0
// it does nothing.
func (r *Retention) Purge(ctx context.Context, c Caller, dryRun bool) (PurgeReport, error) {
	if err := c.requireCoordinator("purge conversations"); err != nil {
		return PurgeReport{}, err
	}
	now := r.svc.clock.Now()
	rep := PurgeReport{DryRun: dryRun, Days: r.days}
	if r.days <= 0 {
		return rep, nil
	}
	rep.Cutoff = now.Add(-time.Duration(r.days) * 24 * time.Hour)
	stop := rep.Cutoff.Add(retentionIDMargin)
	var after ID
	for {
		var batch []ID
		done := false
		err := r.svc.store.View(ctx, func(tx ReadTx) error {
			batch, done = batch[:0], true
			return tx.Conversations(ConversationFilter{States: []State{StateClosed}, After: after}, func(conv Conversation) error {
				if !time.UnixMilli(int64(conv.ID.Time())).Before(stop) {
					return ErrStop
				}
				after = conv.ID
				if !purgeable(conv, rep.Cutoff) {
					if conv.LegalHold && !conv.ClosedAt.IsZero() && conv.ClosedAt.Before(rep.Cutoff) {
						rep.Held++
					}
					return nil
				}
				batch = append(batch, conv.ID)
				if len(batch) == purgeBatch {
					done = false
					return ErrStop
				}
				return nil
			})
		})
		if err != nil {
			return rep, err
		}
		if dryRun {
			if err := r.count(ctx, batch, &rep); err != nil {
				return rep, err
			}
		} else if err := r.purgeBatch(ctx, batch, rep.Cutoff, &rep); err != nil {
			r.audit(ctx, c, rep, err)
			return rep, err
		}
		if done {
			break
		}
	}
	if err := r.purgePages(ctx, dryRun, &rep); err != nil {
		if !dryRun {
			r.audit(ctx, c, rep, err)
		}
		return rep, err
	}
	if !dryRun && (rep.Conversations > 0 || rep.Pages > 0) {
		if err := r.audit(ctx, c, rep, nil); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// purgePages deletes (with dryRun, counts) the page records sent before the
// cutoff, oldest first, purgeBatch at a time.
func (r *Retention) purgePages(ctx context.Context, dryRun bool, rep *PurgeReport) error {
	before := ulidAt(rep.Cutoff) // no page sent at or after the cutoff sorts before it
	for {
		var batch []ID
		pageConversation := map[ID]ID{}
		err := r.svc.store.View(ctx, func(tx ReadTx) error {
			batch = batch[:0]
			return tx.Pages(before, func(p PageRecord) error {
				before = p.ID
				if held, err := pageHeld(tx, p); err != nil || held || !p.CreatedAt.Before(rep.Cutoff) {
					return err
				}
				batch = append(batch, p.ID)
				pageConversation[p.ID] = p.ConversationID
				if len(batch) == purgeBatch {
					return ErrStop
				}
				return nil
			})
		})
		if err != nil || len(batch) == 0 {
			return err
		}
		if dryRun {
			rep.Pages += len(batch)
			continue
		}
		n := 0
		err = r.svc.store.Update(ctx, func(tx Tx) error {
			n = 0
			for _, id := range batch {
				if held, err := pageHeld(tx, PageRecord{ConversationID: pageConversation[id]}); err != nil {
					return err
				} else if held { // held meanwhile
					continue
				}
				if err := tx.DeletePage(id); IsNotFound(err) {
					continue
				} else if err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return err
		}
		rep.Pages += n
	}
}

// pageHeld reports whether the conversation a page was about is under a legal hold.
func pageHeld(tx ReadTx, p PageRecord) (bool, error) {
	if IsZeroID(p.ConversationID) {
		return false, nil
	}
	conv, err := tx.Conversation(p.ConversationID)
	if IsNotFound(err) {
		return false, nil
	}
	return conv.LegalHold, err
}

// ulidAt returns the smallest ID stamped with t: every ID made before t sorts
// before it.
func ulidAt(t time.Time) ID {
	var id ID
	_ = id.SetTime(ulid.Timestamp(t))
	return id
}

// purgeable reports whether a conversation may go: closed before the cutoff and not
// held.
func purgeable(c Conversation, cutoff time.Time) bool {
	return c.State == StateClosed && !c.LegalHold && !c.ClosedAt.IsZero() && c.ClosedAt.Before(cutoff)
}

// count adds what purging the conversations would delete to rep, without deleting.
func (r *Retention) count(ctx context.Context, ids []ID, rep *PurgeReport) error {
	return r.svc.store.View(ctx, func(tx ReadTx) error {
		gone := map[ID]int{} // contact → conversations of theirs in this batch
		for _, id := range ids {
			conv, err := tx.Conversation(id)
			if err != nil {
				return err
			}
			rep.Conversations++
			if err := tx.Messages(id, ID{}, func(Message) error { rep.Messages++; return nil }); err != nil {
				return err
			}
			gone[conv.ContactID]++
		}
		for contactID, n := range gone {
			total := 0
			err := tx.Conversations(ConversationFilter{ContactID: contactID}, func(conv Conversation) error {
				total++
				return nil
			})
			if err != nil {
				return err
			}
			if total == n { // an approximation across batches: a contact's conversations may span two
				contact, err := tx.Contact(contactID)
				if err != nil {
					return err
				}
				rep.ContactsDeleted++
				if contact.OptedOut {
					rep.ContactsKept++
				}
			}
		}
		return nil
	})
}

// purgeBatch deletes the conversations in one transaction, checking each again.
func (r *Retention) purgeBatch(ctx context.Context, ids []ID, cutoff time.Time, rep *PurgeReport) error {
	if len(ids) == 0 {
		return nil
	}
	var part PurgeReport
	var out changes
	err := r.svc.store.Update(ctx, func(tx Tx) error {
		part, out = PurgeReport{}, nil
		for _, id := range ids {
			conv, err := tx.Conversation(id)
			if IsNotFound(err) {
				continue
			} else if err != nil {
				return err
			}
			if !purgeable(conv, cutoff) { // held or reopened meanwhile
				continue
			}
			if err := tx.Messages(id, ID{}, func(Message) error { part.Messages++; return nil }); err != nil {
				return err
			}
			if err := tx.DeleteConversation(id); err != nil {
				return err
			}
			part.Conversations++
			out.add(Change{Kind: ChangeConversation, ConversationID: id})
			if err := forgetContact(tx, conv.ContactID, &part); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rep.Conversations += part.Conversations
	rep.Messages += part.Messages
	rep.ContactsDeleted += part.ContactsDeleted
	rep.ContactsKept += part.ContactsKept
	r.svc.notifier.Publish(out...)
	return nil
}

// forgetContact deletes a contact with no conversation left, keeping an opted-out
// one as a minimal record.
func forgetContact(tx Tx, contactID ID, rep *PurgeReport) error {
	if _, err := tx.LatestConversation(contactID); err == nil || !IsNotFound(err) {
		return err // a conversation is left (or the read failed)
	}
	contact, err := tx.Contact(contactID)
	if IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	rep.ContactsDeleted++
	if contact.OptedOut {
		rep.ContactsKept++
		return tx.PutContact(MinimalContact(contact))
	}
	return tx.DeleteContact(contactID)
}

// MinimalContact is what retention keeps of a texter who opted out once their
// conversations are purged: enough to honour the opt-out (and to give them the same
// handle if they text again), nothing more.
func MinimalContact(c Contact) Contact {
	return Contact{ID: c.ID, Address: c.Address, Handle: c.Handle, OptedOut: c.OptedOut, OptedOutAt: c.OptedOutAt}
}

// audit records a purge run: counts and the cutoff, never content. A failed run is
// recorded with what it had deleted before it failed.
func (r *Retention) audit(ctx context.Context, c Caller, rep PurgeReport, failure error) error {
	e := c.entry(AuditRetention, TargetRetention, "")
	e.Detail = map[string]string{
		"days":                    strconv.Itoa(rep.Days),
		"cutoff":                  rep.Cutoff.UTC().Format(time.RFC3339),
		"conversations":           strconv.Itoa(rep.Conversations),
		"messages":                strconv.Itoa(rep.Messages),
		"contacts_deleted":        strconv.Itoa(rep.ContactsDeleted),
		"contacts_kept_opted_out": strconv.Itoa(rep.ContactsKept),
		"held":                    strconv.Itoa(rep.Held),
		"pages":                   strconv.Itoa(rep.Pages),
	}
	if failure != nil {
		e.Detail["error"] = ErrorCode(failure)
	}
	return r.svc.store.Update(context.WithoutCancel(ctx), func(tx Tx) error { return appendAudit(tx, e, r.svc.clock.Now()) })
}

// SetLegalHold puts a conversation under a legal hold (hold true), which exempts it
// from retention, or releases it, with a reason for the audit log. Only coordinators
// and the operator may; both are audited.
//
// Errors: EFORBIDDEN; ENOTFOUND; EINVALID for a reason too long.
func (r *Retention) SetLegalHold(ctx context.Context, c Caller, id ID, hold bool, reason string) (Conversation, error) {
	if err := c.requireCoordinator("place or release legal holds"); err != nil {
		return Conversation{}, err
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > maxHoldReasonRunes {
		return Conversation{}, Errorf(EINVALID, "reason: at most %d characters.", maxHoldReasonRunes)
	}
	var conv Conversation
	changed := false
	err := r.svc.store.Update(ctx, func(tx Tx) error {
		var err error
		if conv, err = tx.Conversation(id); IsNotFound(err) {
			return conversationNotFound(id)
		} else if err != nil {
			return err
		}
		if changed = conv.LegalHold != hold; !changed {
			return nil
		}
		now := r.svc.clock.Now()
		conv.LegalHold = hold
		if err := tx.PutConversation(conv); err != nil {
			return err
		}
		action := AuditLegalHold
		if !hold {
			action = AuditLegalHoldRelease
		}
		e := c.entry(action, TargetConversation, id.String())
		e.Detail = map[string]string{"handle": conv.Handle}
		if reason != "" {
			e.Detail["reason"] = cleanForAudit(reason)
		}
		return appendAudit(tx, e, now)
	})
	if err == nil && changed {
		r.svc.notifier.Publish(Change{Kind: ChangeConversation, ConversationID: id, AssigneeID: conv.AssigneeID})
	}
	return conv, err
}

// RunDaily purges once a day until ctx ends, starting after first, and reports each
// run (and each failure) to report.
func (r *Retention) RunDaily(ctx context.Context, first time.Duration, report func(PurgeReport, error)) {
	wait := first
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		rep, err := r.Purge(ctx, OperatorCaller(OperatorRetention), false)
		if ctx.Err() != nil {
			return
		}
		report(rep, err)
		wait = 24 * time.Hour
	}
}
