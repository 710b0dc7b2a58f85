package store

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// testKey returns a new random master key.
func testKey(tb testing.TB) []byte {
	tb.Helper()
	k := make([]byte, MasterKeySize)
	rand.Read(k)
	return k
}

var threads int

// thread stores a contact, a conversation and n messages (inbound, then a reply, a
// note, …), and returns the conversation and its messages.
func thread(tb testing.TB, s *Store, n int, body string) (hotline.Conversation, []hotline.Message) {
	tb.Helper()
	now := testTime
	threads++
	c := hotline.Contact{ID: hotline.NewID(now), Address: hotline.Address(fmt.Sprintf("+1415555%04d", 7000+threads)), Handle: fmt.Sprintf("T-%04d", threads)}
	conv := hotline.Conversation{ID: hotline.NewID(now), ContactID: c.ID, Handle: c.Handle, State: hotline.StateActive,
		Priority: hotline.PriorityUrgent, TriageTerms: []string{"passport"}, CreatedAt: now}
	var msgs []hotline.Message
	dirs := []hotline.Direction{hotline.DirectionInbound, hotline.DirectionOutbound, hotline.DirectionNote, hotline.DirectionSystem}
	for i := range n {
		at := now.Add(time.Duration(i) * time.Second)
		m := hotline.Message{ID: hotline.NewID(at), ConversationID: conv.ID, Direction: dirs[i%len(dirs)],
			Body: body + " " + string(rune('a'+i)), CreatedAt: at, UpdatedAt: at}
		switch m.Direction {
		case hotline.DirectionInbound:
			m.Status, m.TwilioSID = hotline.StatusReceived, "SMin"+m.ID.String()
			m.Webhook = &hotline.Webhook{URL: "https://hotline.example.org/webhooks/twilio/sms", Signature: "c2lnbmF0dXJl",
				Params: map[string][]string{"Body": {m.Body}, "From": {string(c.Address)}, "MessageSid": {m.TwilioSID}, "FromCity": {"OAKLAND"}}}
		case hotline.DirectionOutbound:
			m.Status, m.Purpose = hotline.StatusQueued, hotline.PurposeReply
		}
		msgs = append(msgs, m)
	}
	err := s.Update(tb.Context(), func(tx hotline.Tx) error {
		if err := tx.PutContact(c); err != nil {
			return err
		}
		if err := tx.PutConversation(conv); err != nil {
			return err
		}
		for _, m := range msgs {
			if err := tx.PutMessage(m); err != nil {
				return err
			}
			if m.Direction == hotline.DirectionOutbound {
				if err := tx.PutOutbox(hotline.OutboxEntry{ID: m.ID, ConversationID: conv.ID, To: c.Address, Body: m.Body, Status: hotline.StatusQueued}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return conv, msgs
}

// mustCheckClean fails the test unless Check finds nothing.
func mustCheckClean(tb testing.TB, s *Store) {
	tb.Helper()
	problems, err := s.Check(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range problems {
		tb.Errorf("Check: %s", p)
	}
}

// TestChain_StatusChangesAreEntries: each change of an outbound message's delivery is
// an entry of the chain, the message keeps how it was written, and the chain
// verifies with the head at the last entry.
func TestChain_StatusChangesAreEntries(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run(map[bool]string{false: "plaintext", true: "encrypted"}[encrypted], func(t *testing.T) {
			var opts Options
			if encrypted {
				opts.MasterKey = testKey(t)
			}
			s := openTest(t, opts)
			conv, msgs := thread(t, s, 2, "hello")
			out := msgs[1]
			for i, st := range []hotline.Status{hotline.StatusSending, hotline.StatusSent, hotline.StatusDelivered} {
				err := s.Update(t.Context(), func(tx hotline.Tx) error {
					m, err := tx.Message(conv.ID, out.ID)
					if err != nil {
						return err
					}
					m.Status, m.UpdatedAt = st, testTime.Add(time.Duration(10+i)*time.Second)
					if st == hotline.StatusSent {
						m.TwilioSID = "SMout1"
					}
					if st == hotline.StatusDelivered {
						m.Extra = map[string]string{hotline.ExtraDoneDate: "2603141200"}
					}
					return tx.PutMessage(m)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			var events []hotline.StatusEvent
			var got hotline.Message
			var head hotline.Conversation
			err := s.View(t.Context(), func(tx hotline.ReadTx) error {
				var err error
				if got, err = tx.Message(conv.ID, out.ID); err != nil {
					return err
				}
				if head, err = tx.Conversation(conv.ID); err != nil {
					return err
				}
				return tx.StatusEvents(conv.ID, func(e hotline.StatusEvent) error { events = append(events, e); return nil })
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 3 || events[2].Status != hotline.StatusDelivered || events[2].DoneAt != "2603141200" || events[1].SID != "SMout1" {
				t.Errorf("status entries = %+v, want sending, sent (with the SID), delivered (with the done date)", events)
			}
			if got.Chain.Written == nil || got.Chain.Written.Status != hotline.StatusQueued || got.Status != hotline.StatusDelivered {
				t.Errorf("message = status %s, written %+v; want delivered, written as queued", got.Status, got.Chain.Written)
			}
			if head.Chain.Seq != 5 || head.Chain.Hash != events[2].Chain.Hash {
				t.Errorf("head = %+v, want entry 5 (2 messages, 3 status changes) with the last status entry's hash", head.Chain)
			}
			rep, err := s.Verify(t.Context(), hotline.ID{})
			if err != nil || len(rep.Breaks) != 0 || rep.Entries != 5 || rep.Conversations != 1 {
				t.Errorf("Verify = %+v, %v; want 1 conversation, 5 entries, no break", rep, err)
			}
			mustCheckClean(t, s)
		})
	}
}

// TestChain_ContentIsAppendOnly: a stored message's content cannot be rewritten
// through the store.
func TestChain_ContentIsAppendOnly(t *testing.T) {
	s := openTest(t, Options{})
	conv, msgs := thread(t, s, 1, "hello")
	err := s.Update(t.Context(), func(tx hotline.Tx) error {
		m, err := tx.Message(conv.ID, msgs[0].ID)
		if err != nil {
			return err
		}
		m.Body = "something else"
		return tx.PutMessage(m)
	})
	if hotline.ErrorCode(err) != hotline.EINTERNAL || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("rewriting a body: err = %v, want EINTERNAL: append-only", err)
	}
}

// TestChain_DetectsTampering changes the file behind the store's back, as someone
// with the file and the master key could, and expects Verify (and Check) to name
// the first record that does not match.
func TestChain_DetectsTampering(t *testing.T) {
	tests := []struct {
		name string
		// tamper changes the records; msgs are the conversation's messages.
		tamper func(t *testing.T, tx *tx, conv hotline.Conversation, msgs []hotline.Message)
		// want is in the break's text; wantEntry names the message it should name (index
		// into msgs), or -1 for a break of the head.
		want      string
		wantEntry int
	}{
		{"changed body", func(t *testing.T, tx *tx, conv hotline.Conversation, msgs []hotline.Message) {
			rewrite(t, tx, conv.ID, msgs[2].ID, func(m *hotline.Message) { m.Body = "I never said that" })
		}, "content does not match its hash", 2},
		{"changed time", func(t *testing.T, tx *tx, conv hotline.Conversation, msgs []hotline.Message) {
			rewrite(t, tx, conv.ID, msgs[1].ID, func(m *hotline.Message) { m.CreatedAt = m.CreatedAt.Add(-time.Hour) })
		}, "content does not match its hash", 1},
		{"deleted message", func(t *testing.T, tx *tx, conv hotline.Conversation, msgs []hotline.Message) {
			must(t, tx.tx.Bucket(bucketMessages).Delete(pairKey(conv.ID, msgs[1].ID)))
		}, "entries 2 to 2 are missing before it", 2},
		{"deleted last message", func(t *testing.T, tx *tx, conv hotline.Conversation, msgs []hotline.Message) {
			must(t, tx.tx.Bucket(bucketMessages).Delete(pairKey(conv.ID, msgs[3].ID)))
		}, "the last entries were deleted", -1},
		{"reordered pair (positions swapped)", func(t *testing.T, tx *tx, conv hotline.Conversation, msgs []hotline.Message) {
			// Swap the places of messages 1 and 2 in the chain, links and all.
			a, b := msgs[1], msgs[2]
			rewrite(t, tx, conv.ID, a.ID, func(m *hotline.Message) {
				m.Chain.Seq, m.Chain.Prev, m.Chain.Hash = b.Chain.Seq, b.Chain.Prev, b.Chain.Hash
			})
			rewrite(t, tx, conv.ID, b.ID, func(m *hotline.Message) {
				m.Chain.Seq, m.Chain.Prev, m.Chain.Hash = a.Chain.Seq, a.Chain.Prev, a.Chain.Hash
			})
		}, "content does not match its hash", 2},
		{"reordered pair (bodies swapped)", func(t *testing.T, tx *tx, conv hotline.Conversation, msgs []hotline.Message) {
			a, b := msgs[0], msgs[1]
			rewrite(t, tx, conv.ID, a.ID, func(m *hotline.Message) { m.Body = b.Body })
			rewrite(t, tx, conv.ID, b.ID, func(m *hotline.Message) { m.Body = a.Body })
		}, "content does not match its hash", 0},
		{"rechained after a change, head kept", func(t *testing.T, tx *tx, conv hotline.Conversation, msgs []hotline.Message) {
			// Change the last body and recompute its hash: the head still names the old one.
			rewrite(t, tx, conv.ID, msgs[3].ID, func(m *hotline.Message) {
				m.Body = "forged"
				m.Chain.Hash = hotline.ChainHash(conv.ID, m.Chain.Seq, m.Chain.Prev, hotline.ContentHash(hotline.MessageContent(*m)))
			})
		}, "does not match the last entry", -1},
	}
	for _, tt := range tests {
		for _, encrypted := range []bool{false, true} {
			t.Run(tt.name+map[bool]string{false: "", true: " (encrypted)"}[encrypted], func(t *testing.T) {
				var opts Options
				if encrypted {
					opts.MasterKey = testKey(t)
				}
				s := openTest(t, opts)
				conv, _ := thread(t, s, 4, "words")
				other, _ := thread(t, s, 3, "other")
				var msgs []hotline.Message
				err := s.View(t.Context(), func(rt hotline.ReadTx) error {
					return rt.Messages(conv.ID, hotline.ID{}, func(m hotline.Message) error { msgs = append(msgs, m); return nil })
				})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Update(t.Context(), func(htx hotline.Tx) error { tt.tamper(t, htx.(*tx), conv, msgs); return nil }); err != nil {
					t.Fatal(err)
				}
				rep, err := s.Verify(t.Context(), hotline.ID{})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Breaks) != 1 {
					t.Fatalf("Verify found %d breaks (%v), want 1", len(rep.Breaks), rep.Breaks)
				}
				brk := rep.Breaks[0]
				if brk.ConversationID != conv.ID || !strings.Contains(brk.Error(), tt.want) {
					t.Errorf("break = %v, want conversation %s: …%s…", brk, conv.ID, tt.want)
				}
				if tt.wantEntry >= 0 && brk.Entry.ID != msgs[tt.wantEntry].ID {
					t.Errorf("break names %s, want message %d (%s)", brk.Entry.Name(), tt.wantEntry, msgs[tt.wantEntry].ID)
				}
				if strings.Contains(brk.Error(), "words") || strings.Contains(brk.Error(), "forged") {
					t.Errorf("break %q shows a message body", brk)
				}
				if one, err := s.Verify(t.Context(), other.ID); err != nil || len(one.Breaks) != 0 {
					t.Errorf("Verify(the other conversation) = %+v, %v; want it whole", one, err)
				}
				problems, err := s.Check(t.Context())
				if err != nil || !strings.Contains(strings.Join(problems, "\n"), tt.want) {
					t.Errorf("Check = %q, %v; want the break", problems, err)
				}
			})
		}
	}
}

// rewrite changes a stored message record as it is, chain fields included.
func rewrite(t *testing.T, tx *tx, convID, id hotline.ID, change func(*hotline.Message)) {
	t.Helper()
	key := pairKey(convID, id)
	m, err := tx.decodeMessage(key, tx.tx.Bucket(bucketMessages).Get(key))
	if err != nil {
		t.Fatal(err)
	}
	change(&m)
	v, err := tx.encodeMessage(key, m)
	if err != nil {
		t.Fatal(err)
	}
	must(t, tx.tx.Bucket(bucketMessages).Put(key, v))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestChain_Migration: messages stored before the chain are chained by the
// migration, in the order they were written.
func TestChain_Migration(t *testing.T) {
	s := openTest(t, Options{})
	conv, _ := thread(t, s, 3, "old")
	at := -1
	for i, m := range migrations {
		if m.name == "chain the messages (tamper-evident history)" {
			at = i
		}
	}
	if at < 0 {
		t.Fatal("the migration is not in the list")
	}
	raw(t, s, func(btx *bolt.Tx) error {
		// Back to before the chain: no chain fields, no chain buckets.
		b := btx.Bucket(bucketMessages)
		var kvs [][2][]byte
		must(t, b.ForEach(func(k, v []byte) error {
			m, err := decodeMessage(k, v)
			if err != nil {
				return err
			}
			m.Chain = hotline.ChainLink{}
			nv, err := encodeMessage(m)
			kvs = append(kvs, [2][]byte{bytes.Clone(k), nv})
			return err
		}))
		for _, kv := range kvs {
			must(t, b.Put(kv[0], kv[1]))
		}
		for _, name := range evidenceBuckets {
			must(t, btx.DeleteBucket(name))
		}
		return setSchemaVersion(btx, at)
	})
	path := s.Path()
	must(t, s.Close())
	s2, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rep, err := s2.Verify(t.Context(), conv.ID)
	if err != nil || len(rep.Breaks) != 0 || rep.Entries != 3 {
		t.Errorf("Verify after the migration = %+v, %v; want 3 entries, whole", rep, err)
	}
	mustCheckClean(t, s2)
}

// TestEncryption_NoPlaintextInFile: with a master key, the database file holds
// neither bodies, nor numbers, nor webhook parameters, nor triage terms; and
// everything reads back.
func TestEncryption_NoPlaintextInFile(t *testing.T) {
	s := openTest(t, Options{MasterKey: testKey(t)})
	conv, msgs := thread(t, s, 4, "zebra-marmalade")
	var c hotline.Contact
	err := s.View(t.Context(), func(rt hotline.ReadTx) error {
		cv, err := rt.Conversation(conv.ID)
		if err != nil {
			return err
		}
		if len(cv.TriageTerms) != 1 {
			t.Errorf("triage terms = %v, want them back", cv.TriageTerms)
		}
		if c, err = rt.Contact(cv.ContactID); err != nil {
			return err
		}
		if got, err := rt.ContactByAddress(c.Address); err != nil || got.ID != c.ID {
			t.Errorf("ContactByAddress = %v, %v; want the contact", got.ID, err)
		}
		m, err := rt.Message(conv.ID, msgs[0].ID)
		if err != nil {
			return err
		}
		if m.Body != msgs[0].Body || m.Webhook == nil || m.Webhook.Params["FromCity"][0] != "OAKLAND" {
			t.Errorf("message = %+v, want the body and the webhook back", m)
		}
		return rt.Outbox(func(e hotline.OutboxEntry) error {
			if e.To != c.Address || e.Body != msgs[1].Body {
				t.Errorf("outbox entry = %+v, want the number and body back", e)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	mustCheckClean(t, s)
	path := s.Path()
	must(t, s.Close())
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"zebra-marmalade", string(c.Address), strings.TrimPrefix(string(c.Address), "+"), "OAKLAND", "passport", "c2lnbmF0dXJl"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("the database file holds %q in plaintext", secret)
		}
	}
}

// TestEncryption_SwappedCiphertextsDoNotOpen: a sealed value moved to another
// record does not open there (the record's key is associated data).
func TestEncryption_SwappedCiphertextsDoNotOpen(t *testing.T) {
	s := openTest(t, Options{MasterKey: testKey(t)})
	conv, msgs := thread(t, s, 2, "swap")
	raw(t, s, func(btx *bolt.Tx) error {
		b := btx.Bucket(bucketMessages)
		a, c := bytes.Clone(b.Get(pairKey(conv.ID, msgs[0].ID))), bytes.Clone(b.Get(pairKey(conv.ID, msgs[1].ID)))
		must(t, b.Put(pairKey(conv.ID, msgs[0].ID), c))
		return b.Put(pairKey(conv.ID, msgs[1].ID), a)
	})
	err := s.View(t.Context(), func(rt hotline.ReadTx) error {
		_, err := rt.Message(conv.ID, msgs[0].ID)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Errorf("reading a swapped record: err = %v, want it not to open", err)
	}
}

// TestEncryption_Keys: a store written with a key is refused without it, with
// another key, and with another keystore; and a plaintext store is encrypted when
// opened with a key.
func TestEncryption_Keys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hotline.db")
	plain, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	conv, msgs := thread(t, plain, 3, "was-plain")
	if _, err := plain.SigningKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	pub, _, _ := plain.PublicKey(t.Context())
	must(t, plain.Close())

	key := testKey(t)
	var progress []EncryptProgress
	s, err := Open(path, Options{NoSync: true, MasterKey: key, OnEncrypt: func(p EncryptProgress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Encrypted() || len(progress) == 0 || !progress[len(progress)-1].Done {
		t.Errorf("Encrypted = %v, progress %+v; want it encrypted, with progress", s.Encrypted(), progress)
	}
	err = s.View(t.Context(), func(rt hotline.ReadTx) error {
		m, err := rt.Message(conv.ID, msgs[2].ID)
		if err == nil && m.Body != msgs[2].Body {
			t.Errorf("body after encryption = %q, want %q", m.Body, msgs[2].Body)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	mustCheckClean(t, s)
	if rep, err := s.Verify(t.Context(), hotline.ID{}); err != nil || len(rep.Breaks) > 0 {
		t.Errorf("Verify after encryption = %+v, %v", rep, err)
	}
	if priv, err := s.SigningKey(t.Context()); err != nil || !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
		t.Errorf("signing key after encryption: %v; want the same key", err)
	}
	must(t, s.Close())
	data, _ := os.ReadFile(path)
	if bytes.Contains(data, []byte("was-plain")) {
		t.Error("the file still holds the plaintext of before the encryption (free pages)")
	}

	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no key", Options{}, "the store is encrypted"},
		{"wrong key", Options{MasterKey: testKey(t)}, "does not open the keystore"},
		{"another keystore", Options{MasterKey: key, KeysPath: filepath.Join(dir, "other.keys.db")}, "keystore"},
	} {
		if tc.name == "another keystore" {
			other, err := Open(filepath.Join(dir, "other.db"), Options{NoSync: true, MasterKey: key, KeysPath: filepath.Join(dir, "other.keys.db")})
			if err != nil {
				t.Fatal(err)
			}
			must(t, other.Close())
		}
		_, err := Open(path, Options{NoSync: true, LockTimeout: time.Second, MasterKey: tc.opts.MasterKey, KeysPath: tc.opts.KeysPath})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Open = %v, want an error about %q", tc.name, err, tc.want)
		}
	}
	// The keystore missing altogether.
	_, err = Open(path, Options{NoSync: true, MasterKey: key, KeysPath: filepath.Join(dir, "nowhere.keys.db")})
	if err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Errorf("missing keystore: Open = %v, want it named", err)
	}
}

// TestCryptoShredding: purging a conversation destroys its data key, so a backup
// taken before the purge cannot show it either, while the rest of the backup reads;
// a conversation kept by a legal hold keeps its key.
func TestCryptoShredding(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t)
	keys := filepath.Join(dir, "keys", "hotline.keys.db")
	s, err := Open(filepath.Join(dir, "hotline.db"), Options{NoSync: true, MasterKey: key, KeysPath: keys})
	if err != nil {
		t.Fatal(err)
	}
	purged, _ := thread(t, s, 2, "gone")
	kept, keptMsgs := thread(t, s, 2, "kept")
	backup := filepath.Join(dir, "backup.db")
	must(t, s.BackupToFile(t.Context(), backup))
	must(t, s.Update(t.Context(), func(tx hotline.Tx) error { return tx.DeleteConversation(purged.ID) }))
	if ok, err := s.HasDataKey(purged.ID); err != nil || ok {
		t.Errorf("HasDataKey(purged) = %v, %v; want the key destroyed", ok, err)
	}
	if ok, _ := s.HasDataKey(kept.ID); !ok {
		t.Error("the kept conversation lost its key")
	}
	mustCheckClean(t, s)
	must(t, s.Close())

	old, err := Open(backup, Options{NoSync: true, MasterKey: key, KeysPath: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	err = old.View(t.Context(), func(rt hotline.ReadTx) error {
		if err := rt.Messages(purged.ID, hotline.ID{}, func(hotline.Message) error { return nil }); err == nil {
			t.Error("the purged conversation's messages read from the older backup")
		} else if !strings.Contains(err.Error(), "destroyed") {
			t.Errorf("reading the purged conversation: %v, want its key destroyed", err)
		}
		m, err := rt.Message(kept.ID, keptMsgs[0].ID)
		if err != nil || m.Body != keptMsgs[0].Body {
			t.Errorf("the kept conversation in the backup: %v, %v; want it readable", m.Body, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The raw ciphertext is in the backup, but nothing can open it any more.
	data, _ := os.ReadFile(backup)
	if bytes.Contains(data, []byte("gone a")) {
		t.Error("the backup holds the purged body in plaintext")
	}
}

// TestRotateMasterKey: after a rotation everything reads with the new key, and the
// old key no longer opens the store.
func TestRotateMasterKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hotline.db")
	oldKey, newKey := testKey(t), testKey(t)
	s, err := Open(path, Options{NoSync: true, MasterKey: oldKey})
	if err != nil {
		t.Fatal(err)
	}
	conv, msgs := thread(t, s, 3, "rotate")
	priv, err := s.SigningKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Close())

	n, err := RotateMasterKey(DefaultKeysPath(path), oldKey, newKey, Options{NoSync: true})
	if err != nil || n < 4 { // two data keys, the index key, the signing key
		t.Fatalf("RotateMasterKey = %d, %v; want every key re-wrapped", n, err)
	}
	if _, err := RotateMasterKey(DefaultKeysPath(path), oldKey, newKey, Options{NoSync: true}); hotline.ErrorCode(err) != hotline.ECONFLICT {
		t.Errorf("rotating again = %v, want ECONFLICT: already done", err)
	}
	if _, err := Open(path, Options{NoSync: true, MasterKey: oldKey}); err == nil {
		t.Error("the old key still opens the store")
	}
	s, err = Open(path, Options{NoSync: true, MasterKey: newKey})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(t.Context(), func(rt hotline.ReadTx) error {
		m, err := rt.Message(conv.ID, msgs[1].ID)
		if err == nil && m.Body != msgs[1].Body {
			t.Errorf("body = %q, want %q", m.Body, msgs[1].Body)
		}
		c, err := rt.Contact(mustConv(t, rt, conv.ID).ContactID)
		if err == nil {
			_, err = rt.ContactByAddress(c.Address)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if p2, err := s.SigningKey(t.Context()); err != nil || !p2.Equal(priv) {
		t.Errorf("signing key after rotation: %v; want the same key", err)
	}
	mustCheckClean(t, s)
}

func mustConv(t *testing.T, rt hotline.ReadTx, id hotline.ID) hotline.Conversation {
	t.Helper()
	c, err := rt.Conversation(id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
