package store

import (
	"bytes"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/hotlinehq/hotline/hotline"
)

// Conversation returns the conversation with the ID, or ENOTFOUND.
func (t *tx) Conversation(id hotline.ID) (hotline.Conversation, error) {
	b, err := t.bucket(bucketConversations)
	if err != nil {
		return hotline.Conversation{}, err
	}
	v := b.Get(id[:])
	if v == nil {
		return hotline.Conversation{}, notFound("Conversation %s not found.", id)
	}
	return t.conversationAt(id, v)
}

// conversationAt decodes v, the record stored under the ID, or takes it from the
// store's cache when that holds these very bytes (recordCache). v may be bolt's
// memory.
func (t *tx) conversationAt(id hotline.ID, v []byte) (hotline.Conversation, error) {
	var err error
	if c, ok := t.cache.convs.get(id, v); ok {
		// The chain head moves with every message: read it afresh.
		c.Chain, err = t.chainHead(id)
		return c, err
	}
	if !t.tx.Writable() {
		return t.decodeConversation(id[:], v) // reads do not fill the cache (recordCache)
	}
	v = bytes.Clone(v)
	c, err := t.decodeConversation(id[:], v)
	if err != nil {
		return c, err
	}
	t.cache.convs.put(t.gen, id, v, c)
	return c, nil
}

// storedConversation returns what decoding c's record gives (the conversation as
// the next read returns it), and false when a string in it is not valid UTF-8,
// which JSON replaces: then that is left to decoding.
func storedConversation(c hotline.Conversation) (hotline.Conversation, bool) {
	d := conversationFromRecord(conversationToRecord(c))
	for _, s := range [...][]string{d.TriageTerms, d.Tags, {d.Handle, string(d.State), string(d.Priority), d.Language, d.ClosedReason, d.Disposition}} {
		if !validStrings(s) {
			return d, false
		}
	}
	d.TriageTerms, d.Responders, d.Passed, d.Tags = nilIfEmpty(d.TriageTerms), nilIfEmpty(d.Responders), nilIfEmpty(d.Passed), nilIfEmpty(d.Tags)
	d.Chain = hotline.ChainHead{}
	return d, true
}

func validStrings(ss []string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// nilIfEmpty returns s, or nil when it is empty: JSON leaves an empty list out.
func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

// cloneConversation copies c, with slices of its own (recordCache).
func cloneConversation(c hotline.Conversation) hotline.Conversation {
	c.TriageTerms, c.Responders, c.Passed, c.Tags = slices.Clone(c.TriageTerms), slices.Clone(c.Responders), slices.Clone(c.Passed), slices.Clone(c.Tags)
	return c
}

// LatestConversation returns the contact's newest conversation, open or closed, or
// ENOTFOUND when the contact has none.
func (t *tx) LatestConversation(contactID hotline.ID) (hotline.Conversation, error) {
	b, err := t.bucket(bucketConversationsByContact)
	if err != nil {
		return hotline.Conversation{}, err
	}
	c := b.Cursor()
	end := pairKey(contactID, maxID)
	k, _ := c.Seek(end)
	if k == nil {
		k, _ = c.Last()
	} else if !bytes.Equal(k, end) {
		k, _ = c.Prev()
	}
	if !hasPrefix(k, contactID[:]) {
		return hotline.Conversation{}, notFound("Contact %s has no conversation.", contactID)
	}
	return t.Conversation(idFrom(k, idLen))
}

// Conversations calls fn for each conversation that matches f, oldest first. It
// walks the narrowest index that f allows: the contact's conversations when
// f.ContactID is set, else the held ones when f.Held, else the conversations in
// f.States, else all of them.
func (t *tx) Conversations(f hotline.ConversationFilter, fn func(hotline.Conversation) error) error {
	index, prefixes := bucketConversations, [][]byte{nil}
	switch {
	case !hotline.IsZeroID(f.ContactID):
		index, prefixes = bucketConversationsByContact, [][]byte{bytes.Clone(f.ContactID[:])}
	case f.Held:
		index = bucketConversationsHeld
	case len(f.States) > 0:
		index, prefixes = bucketConversationsByState, nil
		for _, s := range f.States {
			code, ok := stateCodes[s]
			if !ok {
				return hotline.Errorf(hotline.EINVALID, "%q is not a conversation state.", s)
			}
			prefixes = append(prefixes, []byte{code})
		}
	}
	b, err := t.bucket(index)
	if err != nil {
		return err
	}
	matched := 0
	after := f.After
	for {
		// Seek afresh for every conversation: fn may write, and several state
		// prefixes are merged in ID order.
		var next hotline.ID
		found := false
		for _, p := range prefixes {
			k, _ := seekAfter(b.Cursor(), p, after)
			if !hasPrefix(k, p) || len(k) != len(p)+idLen {
				continue
			}
			if id := idFrom(k, len(p)); !found || bytes.Compare(id[:], next[:]) < 0 {
				next, found = id, true
			}
		}
		if !found {
			return nil
		}
		after = next
		c, err := t.Conversation(next)
		if err != nil {
			return err
		}
		if !matches(c, f) {
			continue
		}
		if err := fn(c); err != nil {
			return stopOK(err)
		}
		if matched++; f.Limit > 0 && matched >= f.Limit {
			return nil
		}
	}
}

// matches reports whether c passes every field of f.
func matches(c hotline.Conversation, f hotline.ConversationFilter) bool {
	switch {
	case len(f.States) > 0 && !slices.Contains(f.States, c.State):
		return false
	case !hotline.IsZeroID(f.AssigneeID) && c.AssigneeID != f.AssigneeID:
		return false
	case !hotline.IsZeroID(f.ContactID) && c.ContactID != f.ContactID:
		return false
	case f.Held && !c.LegalHold:
		return false
	case !hotline.IsZeroID(f.After) && bytes.Compare(c.ID[:], f.After[:]) <= 0:
		return false
	}
	return true
}

// Queue calls fn for each waiting conversation, urgent first, then oldest first.
func (t *tx) Queue(fn func(hotline.Conversation) error) error {
	return t.scan(bucketQueue, nil, hotline.ID{}, func(k, _ []byte) error {
		c, err := t.Conversation(idFrom(k, 1+timeLen))
		if err != nil {
			return err
		}
		return fn(c)
	})
}

// DueConversations returns up to limit (all when limit <= 0) conversations whose
// NextDeadline is at or before now, earliest first.
func (t *tx) DueConversations(now time.Time, limit int) ([]hotline.ID, error) {
	b, err := t.bucket(bucketDeadlines)
	if err != nil {
		return nil, err
	}
	end := timeKey(now)
	var ids []hotline.ID
	c := b.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k[:timeLen], end) <= 0; k, _ = c.Next() {
		ids = append(ids, idFrom(k, timeLen))
		if limit > 0 && len(ids) >= limit {
			break
		}
	}
	return ids, nil
}

// NextDeadline returns the earliest NextDeadline of any conversation; false when no
// conversation has one.
func (t *tx) NextDeadline() (time.Time, bool, error) {
	b, err := t.bucket(bucketDeadlines)
	if err != nil {
		return time.Time{}, false, err
	}
	k, _ := b.Cursor().First()
	if k == nil {
		return time.Time{}, false, nil
	}
	return keyTime(k[:timeLen]), true, nil
}

// PutConversation writes the conversation and moves its index entries: its contact,
// its state, its place in the queue (only while waiting) and its next deadline.
func (t *tx) PutConversation(c hotline.Conversation) error {
	switch {
	case hotline.IsZeroID(c.ID):
		return hotline.Errorf(hotline.EINVALID, "A conversation needs an ID.")
	case hotline.IsZeroID(c.ContactID):
		return hotline.Errorf(hotline.EINVALID, "A conversation needs a contact.")
	case !c.State.Valid():
		return hotline.Errorf(hotline.EINVALID, "%q is not a conversation state.", c.State)
	}
	b, err := t.bucket(bucketConversations)
	if err != nil {
		return err
	}
	// A new conversation has no old record to read; a stored one is usually in the
	// cache, its caller having just read it.
	var old hotline.Conversation
	prev := b.Get(c.ID[:])
	isNew := prev == nil
	if !isNew {
		if old, err = t.conversationAt(c.ID, prev); err != nil {
			return err
		}
	}
	v, err := t.encodeConversation(c)
	if err != nil {
		return err
	}
	if err := b.Put(c.ID[:], v); err != nil {
		return err
	}
	if stored, ok := storedConversation(c); ok {
		t.cache.convs.put(t.gen, c.ID, v, stored)
	}
	var oldKeys conversationKeys
	if isNew {
		if err := t.count(bucketConversations, 1); err != nil {
			return err
		}
	} else {
		oldKeys = indexKeys(old)
	}
	newKeys := indexKeys(c)
	for i, index := range conversationIndexes {
		if err := t.updateIndex(index, oldKeys[i], newKeys[i], emptyValue); err != nil {
			return err
		}
	}
	return nil
}

// conversationIndexes are the index buckets a conversation has entries in, in the
// order of conversationKeys.
var conversationIndexes = [...][]byte{bucketConversationsByContact, bucketConversationsByState, bucketQueue, bucketDeadlines,
	bucketConversationsByAssignee, bucketConversationsHeld}

// conversationKeys are a conversation's index keys, nil where it has no entry.
type conversationKeys [len(conversationIndexes)][]byte

// indexKeys returns the index entries a conversation must have.
func indexKeys(c hotline.Conversation) conversationKeys {
	var k conversationKeys
	k[0] = pairKey(c.ContactID, c.ID)
	k[1] = stateKey(c.State, c.ID)
	if c.State == hotline.StateWaiting {
		k[2] = queueKey(c)
	}
	if d := c.NextDeadline(); !d.IsZero() {
		k[3] = deadlineKey(d, c.ID)
	}
	k[4] = assigneeKey(c)
	k[5] = heldKey(c)
	return k
}
