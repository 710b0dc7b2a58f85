package hotline

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Tamper-evident history. Each conversation's records form a hash chain: every
// message (inbound, outbound, note, system event) and every change of an outbound
// message's delivery status is an entry with a sequence number (1, 2, 3, …), the
// hash of the entry before it, and its own hash, which covers its sequence number,
// the previous hash and the SHA-256 of its canonical content. The conversation's
// chain head is the sequence number and hash of its last entry. Changing, deleting,
// inserting or reordering any entry breaks a hash or a link, and the head pins the
// end of the chain, so that dropping the last entries shows too.
//
// The chain proves that the records agree with each other and with a head seen
// earlier (in a signed evidence bundle, say); it cannot stop someone who holds the
// master key and writes to the file from rewriting a whole chain and its head.
// Heads published in signed bundles are the anchors that make such a rewrite show.
//
// # Canonical encoding, version 1
//
// Content is encoded as a sequence of fields; each field is its length as 4
// big-endian bytes followed by its bytes. Texts are UTF-8 as stored; IDs are their
// 26-character text form; times are decimal Unix nanoseconds (UTC; "0" for none);
// numbers are decimal; a list is a field holding its decimal length followed by its
// items; a map is its decimal length followed by its keys and values, by key in
// byte order. So no two different records encode alike.
//
// A message's content:
//
//	"hotline-message-v1", conversation ID, message ID, nonce (hex), direction,
//	purpose, author ID ("" for none), target ID ("" for none), created, Twilio
//	SID, segments, status, error code, error message, body, media (its length,
//	then the URL and content type of each), extra (a map, without the delivery
//	key RawDlrDoneDate), webhook digest (hex, "" when none)
//
// where status, SID and error are the message's when it was written (later changes
// are status entries) and nonce is 16 random bytes that keep a short body from
// being guessed from its hash. A delivery status entry's content:
//
//	"hotline-status-v1", conversation ID, message ID, event ID, at, status,
//	Twilio SID, error code, error message, done at (Twilio's RawDlrDoneDate)
//
// An inbound webhook's digest is SHA-256 of:
//
//	"hotline-webhook-v1", URL, X-Twilio-Signature, parameters (a map from each
//	name to a list of its values, in the order they came)
//
// An entry's hash is SHA-256 of the fields:
//
//	"hotline-chain-v1", conversation ID, seq (decimal), previous hash (32 bytes;
//	empty for seq 1), content hash (32 bytes: SHA-256 of the content)

// Digest is a SHA-256 hash.
type Digest [sha256.Size]byte

// String returns the digest in lower-case hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d is all zeros (no digest).
func (d Digest) IsZero() bool { return d == Digest{} }

// ParseDigest reads a hex digest.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(d) {
		return d, Errorf(EINVALID, "%q is not a SHA-256 digest in hex.", truncate(s, 80))
	}
	copy(d[:], b)
	return d, nil
}

// ChainLink is a record's place in its conversation's chain.
type ChainLink struct {
	Seq  uint64 // 1 for the first entry; 0 for a record not chained yet
	Prev Digest // the hash of entry Seq-1; zero for the first
	Hash Digest // this entry's hash
	// Nonce is part of a message's content (16 random bytes); status entries have
	// none.
	Nonce []byte
	// Written is a message's delivery as it was when the message was written, once
	// it has changed (each change is a status entry); nil while it has not.
	Written *Delivery
}

// Delivery is what a message's delivery fields say.
type Delivery struct {
	Status       Status
	SID          string
	ErrorCode    int
	ErrorMessage string
}

// DeliveryOf returns m's delivery fields as they are now.
func DeliveryOf(m Message) Delivery {
	return Delivery{Status: m.Status, SID: m.TwilioSID, ErrorCode: m.ErrorCode, ErrorMessage: m.ErrorMessage}
}

// WrittenDelivery returns m's delivery fields as they were when it was written.
func WrittenDelivery(m Message) Delivery {
	if m.Chain.Written != nil {
		return *m.Chain.Written
	}
	return DeliveryOf(m)
}

// ChainHead is the end of a conversation's chain: its last entry.
type ChainHead struct {
	Seq  uint64
	Hash Digest
}

// Kinds of chain entry.
const (
	ChainMessage = "message"
	ChainStatus  = "status"
)

// ExtraDoneDate is the key of Message.Extra under which a delivery status keeps
// Twilio's RawDlrDoneDate. It is delivery information, recorded in status entries,
// not part of a message's content.
const ExtraDoneDate = "RawDlrDoneDate"

// Webhook is an inbound webhook as Twilio sent it: evidence that Twilio delivered
// the message. With the auth token, anyone can check the signature again (see
// package webhooks: Sign).
type Webhook struct {
	URL       string              // the URL Twilio signed (public_url + path)
	Signature string              // the X-Twilio-Signature header
	Params    map[string][]string // every form parameter, each value in the order received
	// Withheld is the digest of a webhook whose content is not at hand (an
	// evidence bundle that does not reveal numbers): WebhookDigest returns it.
	Withheld Digest
	// digest is WebhookDigest of this webhook, computed ahead by ReceiveInbound
	// (outside the store's write lock) on its own copy, which nothing changes.
	digest Digest
}

// StatusEvent is a change of an outbound message's delivery status (or of what
// Twilio reported with it), appended to the conversation's chain. Messages keep
// their latest status; the events keep its history.
type StatusEvent struct {
	ID             ID
	ConversationID ID
	MessageID      ID
	At             time.Time
	Status         Status
	SID            string
	ErrorCode      int
	ErrorMessage   string
	DoneAt         string
	Chain          ChainLink
}

// canon builds a canonical encoding.
type canon []byte

func (c canon) field(b []byte) canon {
	c = binary.BigEndian.AppendUint32(c, uint32(len(b)))
	return append(c, b...)
}

func (c canon) str(s string) canon     { return c.field([]byte(s)) }
func (c canon) num(n int64) canon      { return c.str(strconv.FormatInt(n, 10)) }
func (c canon) unum(n uint64) canon    { return c.str(strconv.FormatUint(n, 10)) }
func (c canon) id(id ID) canon         { return c.str(idText(id)) }
func (c canon) time(t time.Time) canon { return c.num(unixNanos(t)) }
func (c canon) sum() Digest            { return sha256.Sum256(c) }
func (c canon) mapped(m map[string]string, skip string) canon {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != skip {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	c = c.num(int64(len(keys)))
	for _, k := range keys {
		c = c.str(k).str(m[k])
	}
	return c
}

// idText is an ID's text form, or "" for the zero ID.
func idText(id ID) string {
	if IsZeroID(id) {
		return ""
	}
	return id.String()
}

// unixNanos is t in Unix nanoseconds, 0 for the zero time.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// MessageContent returns the canonical content of a message as it was written
// (see the encoding above).
func MessageContent(m Message) []byte {
	d := WrittenDelivery(m)
	c := canon(nil).str("hotline-message-v1").id(m.ConversationID).id(m.ID).str(hex.EncodeToString(m.Chain.Nonce)).
		str(string(m.Direction)).str(string(m.Purpose)).id(m.AuthorID).id(m.TargetID).time(m.CreatedAt).str(d.SID).
		num(int64(m.Segments)).str(string(d.Status)).num(int64(d.ErrorCode)).str(d.ErrorMessage).str(m.Body)
	c = c.num(int64(len(m.Media)))
	for _, md := range m.Media {
		c = c.str(md.URL).str(md.ContentType)
	}
	c = c.mapped(m.Extra, ExtraDoneDate)
	if m.Webhook != nil {
		c = c.str(WebhookDigest(*m.Webhook).String())
	} else {
		c = c.str("")
	}
	return c
}

// StatusContent returns the canonical content of a delivery status entry.
func StatusContent(e StatusEvent) []byte {
	return canon(nil).str("hotline-status-v1").id(e.ConversationID).id(e.MessageID).id(e.ID).time(e.At).
		str(string(e.Status)).str(e.SID).num(int64(e.ErrorCode)).str(e.ErrorMessage).str(e.DoneAt)
}

// WebhookDigest returns the digest of an inbound webhook that a message's content
// holds.
func WebhookDigest(w Webhook) Digest {
	if !w.Withheld.IsZero() {
		return w.Withheld
	}
	if !w.digest.IsZero() {
		return w.digest
	}
	c := canon(nil).str("hotline-webhook-v1").str(w.URL).str(w.Signature)
	names := make([]string, 0, len(w.Params))
	for n := range w.Params {
		names = append(names, n)
	}
	slices.Sort(names)
	c = c.num(int64(len(names)))
	for _, n := range names {
		c = c.str(n).num(int64(len(w.Params[n])))
		for _, v := range w.Params[n] {
			c = c.str(v)
		}
	}
	return c.sum()
}

// ContentHash is SHA-256 of canonical content.
func ContentHash(content []byte) Digest { return sha256.Sum256(content) }

// ChainHash returns the hash of the entry seq of a conversation's chain, from the
// hash before it and its content hash.
func ChainHash(conversationID ID, seq uint64, prev, content Digest) Digest {
	c := canon(nil).str("hotline-chain-v1").id(conversationID).unum(seq)
	if seq <= 1 {
		c = c.field(nil)
	} else {
		c = c.field(prev[:])
	}
	return c.field(content[:]).sum()
}

// Link returns the link of a new entry with the content hash after head.
func Link(conversationID ID, head ChainHead, content Digest) ChainLink {
	seq := head.Seq + 1
	return ChainLink{Seq: seq, Prev: head.Hash, Hash: ChainHash(conversationID, seq, head.Hash, content)}
}

// ChainEntry is one entry of a chain as a verifier sees it: what the record says
// of its place, and the hash of its content as recomputed from the record.
type ChainEntry struct {
	Kind string // ChainMessage or ChainStatus
	ID   ID     // the message's or the status event's ID
	// MessageID is the message a status entry is about.
	MessageID ID
	Link      ChainLink
	Content   Digest
}

// Name names the entry for a report, such as "message 01J… (seq 3)".
func (e ChainEntry) Name() string {
	if e.Kind == ChainStatus {
		return fmt.Sprintf("status entry %s of message %s (seq %d)", idText(e.ID), idText(e.MessageID), e.Link.Seq)
	}
	return fmt.Sprintf("%s %s (seq %d)", e.Kind, idText(e.ID), e.Link.Seq)
}

// ChainBreak is the first place a chain does not verify.
type ChainBreak struct {
	ConversationID ID
	// Entry is the first entry that does not match; zero when the chain is whole
	// but the head does not match its end.
	Entry  ChainEntry
	Reason string
}

// Error implements the error interface: "conversation …: message … (seq 3): …".
func (b *ChainBreak) Error() string {
	if b.Entry.Kind == "" {
		return fmt.Sprintf("conversation %s: %s", idText(b.ConversationID), b.Reason)
	}
	return fmt.Sprintf("conversation %s: %s: %s", idText(b.ConversationID), b.Entry.Name(), b.Reason)
}

// VerifyChain checks a conversation's entries (in any order) against each other and
// against its head, and returns the first break, or nil when the chain is whole.
// Entries are taken in sequence order; the first that is missing, repeated, links
// to the wrong hash or does not hash to what it says is the break.
func VerifyChain(conversationID ID, entries []ChainEntry, head ChainHead) *ChainBreak {
	es := slices.Clone(entries)
	slices.SortStableFunc(es, func(a, b ChainEntry) int {
		switch {
		case a.Link.Seq < b.Link.Seq:
			return -1
		case a.Link.Seq > b.Link.Seq:
			return 1
		}
		return 0
	})
	brk := func(e ChainEntry, format string, args ...any) *ChainBreak {
		return &ChainBreak{ConversationID: conversationID, Entry: e, Reason: fmt.Sprintf(format, args...)}
	}
	var prev Digest
	for i, e := range es {
		want := uint64(i) + 1
		switch {
		case e.Link.Seq == 0:
			return brk(e, "the record is not in the chain (no sequence number)")
		case e.Link.Seq < want:
			return brk(e, "sequence number %d appears twice", e.Link.Seq)
		case e.Link.Seq > want:
			return brk(e, "entries %d to %d are missing before it (deleted?)", want, e.Link.Seq-1)
		case e.Link.Prev != prev:
			return brk(e, "it does not follow the entry before it (previous hash %s, the entry before hashes to %s): reordered or an entry was replaced", short(e.Link.Prev), short(prev))
		}
		if got := ChainHash(conversationID, e.Link.Seq, prev, e.Content); got != e.Link.Hash {
			return brk(e, "its content does not match its hash (changed after it was written)")
		}
		prev = e.Link.Hash
	}
	n := uint64(len(es))
	switch {
	case head.Seq > n:
		return &ChainBreak{ConversationID: conversationID, Reason: fmt.Sprintf("the chain head names entry %d but the chain ends at entry %d: the last entries were deleted", head.Seq, n)}
	case head.Seq < n:
		return &ChainBreak{ConversationID: conversationID, Entry: es[head.Seq], Reason: fmt.Sprintf("the chain head names entry %d: this entry was added behind its back", head.Seq)}
	case head.Hash != prev:
		return &ChainBreak{ConversationID: conversationID, Reason: fmt.Sprintf("the chain head hash %s does not match the last entry's %s", short(head.Hash), short(prev))}
	}
	return nil
}

func short(d Digest) string {
	if d.IsZero() {
		return "(none)"
	}
	return d.String()[:16] + "…"
}

// MessageEntry returns a message's chain entry, with its content hash recomputed
// from the message.
func MessageEntry(m Message) ChainEntry {
	return ChainEntry{Kind: ChainMessage, ID: m.ID, Link: m.Chain, Content: ContentHash(MessageContent(m))}
}

// StatusEntry returns a status event's chain entry, with its content hash
// recomputed from the event.
func StatusEntry(e StatusEvent) ChainEntry {
	return ChainEntry{Kind: ChainStatus, ID: e.ID, MessageID: e.MessageID, Link: e.Chain, Content: ContentHash(StatusContent(e))}
}
