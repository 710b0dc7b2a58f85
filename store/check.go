package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/hotlinehq/hotline/hotline"
)

// maxProblems bounds the report of a badly damaged file.
const maxProblems = 1000

// Check verifies the database while the store keeps serving: bbolt's own page check,
// then the store's invariants. Every record decodes and sits under the key it names;
// every record has each index entry it should have; every index entry points to an
// existing record that would produce that very key; messages belong to existing
// conversations and conversations to existing contacts; outbox entries of a
// conversation have their message; the counters behind Stats are right; checkpoints
// and kept status callbacks decode; users, sessions and audit entries decode, the
// username and per-user session indexes match them both ways, and every session's
// user exists (users.go, sessions.go, audit.go); canned responses decode
// (canned.go); every conversation's hash chain verifies against its head, and an
// encrypted store holds no plain record of texters (check_evidence.go). It returns
// the problems found (empty when the file is clean); the error is for failing to
// check at all. Problems name keys and IDs, never message bodies or phone numbers.
func (s *Store) Check(ctx context.Context) ([]string, error) {
	var c checker
	err := s.View(ctx, func(rt hotline.ReadTx) error {
		c = checker{ctx: ctx, t: rt.(*tx)}
		return c.run()
	})
	if c.more > 0 {
		c.problems = append(c.problems, fmt.Sprintf("… and %d more problems", c.more))
	}
	if c.problems == nil {
		c.problems = []string{}
	}
	return c.problems, err
}

type checker struct {
	ctx      context.Context
	t        *tx
	problems []string
	more     int
	steps    int
}

func (c *checker) report(format string, args ...any) {
	if len(c.problems) >= maxProblems {
		c.more++
		return
	}
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// tick checks for cancellation now and then during long walks.
func (c *checker) tick() error {
	if c.steps++; c.steps%1024 == 0 {
		return c.ctx.Err()
	}
	return nil
}

func (c *checker) run() error {
	for err := range c.t.tx.Check() {
		c.report("bbolt: %v", err)
	}
	if v, err := schemaVersion(c.t.tx); err != nil {
		c.report("meta: %v", err)
	} else if v != SchemaVersion() {
		c.report("meta: schema version %d, want %d", v, SchemaVersion())
	}
	missing := false
	for _, name := range allBuckets {
		if c.t.tx.Bucket(name) == nil {
			c.report("bucket %s is missing", name)
			missing = true
		}
	}
	if missing {
		return nil
	}
	for _, step := range []func() error{c.contacts, c.conversations, c.messages, c.outbox, c.chains, c.sealing, c.counters, c.checkpoints, c.orphans,
		c.users, c.sessions, c.audit, c.routing, c.canned, c.coordinator} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// each walks a bucket, checking for cancellation.
func (c *checker) each(name []byte, fn func(k, v []byte)) error {
	cur := c.t.tx.Bucket(name).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if err := c.tick(); err != nil {
			return err
		}
		fn(k, v)
	}
	return nil
}

// wantEntry reports an index entry that is missing or points elsewhere.
func (c *checker) wantEntry(index, key, value []byte, what string) {
	got := c.t.tx.Bucket(index).Get(key)
	switch {
	case got == nil:
		c.report("%s: no %s entry", what, index)
	case value != nil && !bytes.Equal(got, value):
		c.report("%s: %s entry points to %x", what, index, got)
	}
}

func (c *checker) contacts() error {
	err := c.each(bucketContacts, func(k, v []byte) {
		ct, err := c.t.decodeContact(k, v)
		switch {
		case err != nil:
			c.report("contact %x: %v", k, err)
			return
		case !bytes.Equal(k, ct.ID[:]):
			c.report("contact %x: record has ID %s", k, ct.ID)
			return
		}
		what := "contact " + ct.ID.String()
		c.wantEntry(bucketContactByAddress, c.t.addressKey(ct.Address), k, what)
		if ct.Handle != "" {
			c.wantEntry(bucketContactByHandle, []byte(ct.Handle), k, what)
		}
	})
	if err != nil {
		return err
	}
	indexes := []struct {
		name []byte
		key  func(hotline.Contact) string
		show func([]byte) string
	}{
		{bucketContactByAddress, func(ct hotline.Contact) string { return string(c.t.addressKey(ct.Address)) }, func(k []byte) string {
			if len(k) > 0 && k[0] == 0 {
				return fmt.Sprintf("%x", k[1:9]) // a keyed hash: its start is enough to find it
			}
			return hotline.Address(k).Masked()
		}},
		{bucketContactByHandle, func(ct hotline.Contact) string { return ct.Handle }, func(k []byte) string { return string(k) }},
	}
	for _, ix := range indexes {
		err := c.each(ix.name, func(k, v []byte) {
			what := fmt.Sprintf("%s %q", ix.name, ix.show(k))
			if len(v) != idLen {
				c.report("%s: malformed value", what)
				return
			}
			ct, err := c.t.Contact(idFrom(v, 0))
			switch {
			case hotline.IsNotFound(err):
				c.report("%s: contact %s does not exist", what, idFrom(v, 0))
			case err != nil:
				c.report("%s: %v", what, err)
			case ix.key(ct) != string(k):
				c.report("%s: contact %s no longer has this key", what, ct.ID)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) conversations() error {
	err := c.each(bucketConversations, func(k, v []byte) {
		cv, err := c.t.decodeConversation(k, v)
		switch {
		case err != nil:
			c.report("conversation %x: %v", k, err)
			return
		case !bytes.Equal(k, cv.ID[:]):
			c.report("conversation %x: record has ID %s", k, cv.ID)
			return
		}
		what := "conversation " + cv.ID.String()
		if c.t.tx.Bucket(bucketContacts).Get(cv.ContactID[:]) == nil {
			c.report("%s: contact %s does not exist", what, cv.ContactID)
		}
		for i, key := range indexKeys(cv) {
			if key != nil {
				c.wantEntry(conversationIndexes[i], key, nil, what)
			}
		}
	})
	if err != nil {
		return err
	}
	// Where each index keeps the conversation ID in its keys.
	idOffset := [len(conversationIndexes)]int{idLen, 1, 1 + timeLen, timeLen, idLen, 0}
	for i, index := range conversationIndexes {
		err := c.each(index, func(k, _ []byte) {
			if len(k) != idOffset[i]+idLen {
				c.report("%s %x: malformed key", index, k)
				return
			}
			id := idFrom(k, idOffset[i])
			what := fmt.Sprintf("%s %x", index, k)
			cv, err := c.t.Conversation(id)
			switch {
			case hotline.IsNotFound(err):
				c.report("%s: conversation %s does not exist", what, id)
			case err != nil:
				c.report("%s: %v", what, err)
			case !bytes.Equal(indexKeys(cv)[i], k):
				c.report("%s: stale entry for conversation %s", what, id)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) messages() error {
	err := c.each(bucketMessages, func(k, v []byte) {
		if len(k) != 2*idLen {
			c.report("messages %x: malformed key", k)
			return
		}
		m, err := c.t.decodeMessage(k, v)
		what := fmt.Sprintf("message %s/%s", idFrom(k, 0), idFrom(k, idLen))
		if err != nil {
			c.report("%s: %v", what, err)
			return
		}
		if c.t.tx.Bucket(bucketConversations).Get(m.ConversationID[:]) == nil {
			c.report("%s: conversation does not exist", what)
		}
		if m.TwilioSID != "" {
			c.wantEntry(bucketMessageBySID, []byte(m.TwilioSID), k, what)
		}
	})
	if err != nil {
		return err
	}
	return c.each(bucketMessageBySID, func(k, v []byte) {
		what := fmt.Sprintf("%s %q", bucketMessageBySID, k)
		if len(v) != 2*idLen {
			c.report("%s: malformed value", what)
			return
		}
		m, err := c.t.Message(idFrom(v, 0), idFrom(v, idLen))
		switch {
		case hotline.IsNotFound(err):
			c.report("%s: message %s/%s does not exist", what, idFrom(v, 0), idFrom(v, idLen))
		case err != nil:
			c.report("%s: %v", what, err)
		case m.TwilioSID != string(k):
			c.report("%s: message %s no longer has this SID", what, m.ID)
		}
	})
}

func (c *checker) outbox() error {
	return c.each(bucketOutbox, func(k, v []byte) {
		if len(k) != idLen {
			c.report("outbox %x: malformed key", k)
			return
		}
		e, err := c.t.decodeOutbox(k, v)
		what := "outbox entry " + idFrom(k, 0).String()
		switch {
		case err != nil:
			c.report("%s: %v", what, err)
		case !hotline.IsZeroID(e.ConversationID) && c.t.tx.Bucket(bucketMessages).Get(pairKey(e.ConversationID, e.ID)) == nil:
			c.report("%s: message %s/%s does not exist", what, e.ConversationID, e.ID)
		}
	})
}

func (c *checker) counters() error {
	meta := c.t.tx.Bucket(bucketMeta)
	for _, name := range countedBuckets {
		n, err := parseCounter(meta.Get(counterKey(name)))
		if err != nil {
			c.report("meta: %v", err)
			continue
		}
		if actual := int64(c.t.tx.Bucket(name).Stats().KeyN); n != actual {
			c.report("meta: counter %s is %d, bucket holds %d", counterKey(name), n, actual)
		}
	}
	return nil
}

func (c *checker) checkpoints() error {
	return c.each(bucketCheckpoints, func(k, _ []byte) {
		if _, _, err := c.t.Checkpoint(string(k)); err != nil {
			c.report("checkpoint %q: %v", k, err)
		}
	})
}

func (c *checker) orphans() error {
	return c.each(bucketOrphanStatuses, func(k, v []byte) {
		if _, err := decodeOrphan(k, v); err != nil {
			c.report("orphan status %q: %v", k, err)
		}
	})
}
