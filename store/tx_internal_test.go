package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotlinehq/hotline/hotline"
)

// TestMessageIDBySID_WithoutDecoding: the duplicate check reads the SID index and
// looks the message's key up, and decodes nothing, so a record that would not
// decode still counts as stored; a SID index entry whose message is gone does not.
func TestMessageIDBySID_WithoutDecoding(t *testing.T) {
	s := openTest(t, Options{})
	_, conv, m := fixture(t, s)
	key := pairKey(conv.ID, m.ID)
	raw(t, s, func(btx *bolt.Tx) error { return btx.Bucket(bucketMessages).Put(key, []byte("{not json")) })
	err := s.View(t.Context(), func(rt hotline.ReadTx) error {
		if _, err := rt.MessageBySID("SM1"); err == nil || hotline.IsNotFound(err) {
			t.Errorf("MessageBySID of an undecodable record: %v, want a decoding error", err)
		}
		convID, id, err := rt.MessageIDBySID("SM1")
		if err != nil || convID != conv.ID || id != m.ID {
			t.Errorf("MessageIDBySID = %s %s, %v; want %s %s", convID, id, err, conv.ID, m.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	raw(t, s, func(btx *bolt.Tx) error { return btx.Bucket(bucketMessages).Delete(key) })
	err = s.View(t.Context(), func(rt hotline.ReadTx) error {
		_, _, err := rt.MessageIDBySID("SM1")
		if !hotline.IsNotFound(err) {
			t.Errorf("MessageIDBySID of a dangling index entry: %v, want ENOTFOUND", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRecordCache_ReadsWhatIsStored: reading a conversation or a contact again
// gets what is stored now: the same value while the record is unchanged (the
// conversation with its chain head as it is now), the new one once the record
// changed by any path, and never what an earlier caller did to the value it got.
func TestRecordCache_ReadsWhatIsStored(t *testing.T) {
	for _, enc := range []bool{false, true} {
		opts := Options{}
		if enc {
			opts.MasterKey = testKey(t)
		}
		s := openTest(t, opts)
		c, conv, _ := fixture(t, s)
		conv.TriageTerms, conv.Tags = []string{"gun"}, []string{"a"}
		update(t, s, func(x *tx) error { return x.PutConversation(conv) })
		update(t, s, func(x *tx) error {
			first, err := x.Conversation(conv.ID)
			if err != nil {
				return err
			}
			first.TriageTerms[0], first.Tags[0] = "changed", "changed" // the caller's copy
			again, err := x.Conversation(conv.ID)
			if err != nil {
				return err
			}
			if again.TriageTerms[0] != "gun" || again.Tags[0] != "a" {
				t.Errorf("encrypted %v: read again = %v %v, want what is stored", enc, again.TriageTerms, again.Tags)
			}
			again.Tags[0] = "changed too"
			if later, err := s.viewConversation(t, conv.ID); err != nil || later.Tags[0] != "a" {
				t.Errorf("encrypted %v: read in another transaction = %v, %v; want what is stored", enc, later.Tags, err)
			}
			// A message moves the chain head, which the conversation carries.
			m := hotline.Message{ID: hotline.NewID(testTime), ConversationID: conv.ID, Direction: hotline.DirectionInbound, Body: "x"}
			if err := x.PutMessage(m); err != nil {
				return err
			}
			withHead, err := x.Conversation(conv.ID)
			if err != nil {
				return err
			}
			if withHead.Chain.Seq != again.Chain.Seq+1 {
				t.Errorf("encrypted %v: chain head after a message = %d, want %d", enc, withHead.Chain.Seq, again.Chain.Seq+1)
			}
			// Changed behind the Put methods' back: the bytes of another record.
			other := conv
			other.State, other.Handle, other.TriageTerms = hotline.StateActive, "T-2000", []string{"other"}
			v, err := x.encodeConversation(other)
			if err != nil {
				return err
			}
			if err := x.tx.Bucket(bucketConversations).Put(conv.ID[:], v); err != nil {
				return err
			}
			changed, err := x.Conversation(conv.ID)
			if err != nil {
				return err
			}
			if changed.State != hotline.StateActive || changed.Handle != "T-2000" || changed.TriageTerms[0] != "other" {
				t.Errorf("encrypted %v: after a raw put = %s %s %v, want active T-2000 [other]", enc, changed.State, changed.Handle, changed.TriageTerms)
			}
			// Back through PutConversation, whose old index keys must be those of
			// the raw record, so that the indexes agree again.
			return x.PutConversation(conv)
		})
		update(t, s, func(x *tx) error {
			got, err := x.Contact(c.ID)
			if err != nil {
				return err
			}
			got.Handle = "changed"
			if again, err := x.Contact(c.ID); err != nil || again != stored(t, c) {
				t.Errorf("encrypted %v: contact read again = %+v, %v; want %+v", enc, again, err, c)
			}
			return nil
		})
		checkClean(t, s)
	}
}

// TestRecordCache_ConversationFields: cloneConversation copies every slice a
// conversation has; a new field of a reference type must be added to it.
func TestRecordCache_ConversationFields(t *testing.T) {
	cloned := map[string]bool{"TriageTerms": true, "Responders": true, "Passed": true, "Tags": true}
	typ := reflect.TypeFor[hotline.Conversation]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch f.Type.Kind() {
		case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface, reflect.Chan, reflect.Func:
			if !cloned[f.Name] {
				t.Errorf("Conversation.%s is a %s that cloneConversation does not copy", f.Name, f.Type.Kind())
			}
		}
	}
	for i := range reflect.TypeFor[hotline.Contact]().NumField() {
		if f := reflect.TypeFor[hotline.Contact]().Field(i); f.Type.Kind() == reflect.Slice || f.Type.Kind() == reflect.Map || f.Type.Kind() == reflect.Pointer {
			t.Errorf("Contact.%s is a %s: cloneContact must copy it", f.Name, f.Type.Kind())
		}
	}
}

// TestPut_NewAndStored: the Put methods look up the key and read the old record only
// when there is one: a new record is counted and indexed, a stored one (read in the
// same transaction or not) moves its index entries, whether or not it was read
// before in the same transaction.
func TestPut_NewAndStored(t *testing.T) {
	for _, readFirst := range []bool{false, true} {
		s := openTest(t, Options{MasterKey: testKey(t)})
		c, conv, m := fixture(t, s)
		update(t, s, func(x *tx) error {
			if readFirst {
				if _, err := x.Contact(c.ID); err != nil {
					return err
				}
				if _, err := x.Conversation(conv.ID); err != nil {
					return err
				}
				if _, err := x.Message(conv.ID, m.ID); err != nil {
					return err
				}
			}
			c.Address, c.Handle = "+14155550199", "T-1999"
			if err := x.PutContact(c); err != nil {
				return err
			}
			conv.State, conv.AssigneeID, conv.WaitingSince = hotline.StateAssigned, hotline.NewID(testTime), time.Time{}
			if err := x.PutConversation(conv); err != nil {
				return err
			}
			m.TwilioSID, m.Status = "SM2", hotline.StatusDelivered
			return x.PutMessage(m)
		})
		err := s.View(t.Context(), func(rt hotline.ReadTx) error {
			if got, err := rt.ContactByAddress("+14155550199"); err != nil || got.ID != c.ID {
				t.Errorf("readFirst %v: ContactByAddress(new address) = %v, %v", readFirst, got.ID, err)
			}
			if _, err := rt.ContactByAddress("+14155550100"); !hotline.IsNotFound(err) {
				t.Errorf("readFirst %v: ContactByAddress(old address) = %v, want ENOTFOUND", readFirst, err)
			}
			if _, err := rt.ContactByHandle("T-1000"); !hotline.IsNotFound(err) {
				t.Errorf("readFirst %v: ContactByHandle(old handle) = %v, want ENOTFOUND", readFirst, err)
			}
			if _, _, err := rt.MessageIDBySID("SM1"); !hotline.IsNotFound(err) {
				t.Errorf("readFirst %v: old SID = %v, want ENOTFOUND", readFirst, err)
			}
			if got, err := rt.MessageBySID("SM2"); err != nil || got.Status != hotline.StatusDelivered || got.Chain.Written == nil {
				t.Errorf("readFirst %v: MessageBySID(new SID) = %+v, %v; want delivered, its written delivery kept", readFirst, got, err)
			}
			n := 0
			err := rt.Queue(func(hotline.Conversation) error { n++; return nil })
			if err != nil || n != 0 {
				t.Errorf("readFirst %v: queue holds %d, %v; want 0 (assigned)", readFirst, n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Contacts != 1 || st.Conversations != 1 || st.Messages != 1 {
			t.Errorf("readFirst %v: counts = %+v, want one of each (updates are not counted)", readFirst, st)
		}
		checkClean(t, s)
	}
}

// update runs fn in a write transaction of the store's own type.
func update(tb testing.TB, s *Store, fn func(*tx) error) {
	tb.Helper()
	if err := s.Update(tb.Context(), func(htx hotline.Tx) error { return fn(htx.(*tx)) }); err != nil {
		tb.Fatal(err)
	}
}

// checkClean fails the test on any problem Check finds.
func checkClean(tb testing.TB, s *Store) {
	tb.Helper()
	problems, err := s.Check(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range problems {
		tb.Errorf("store inconsistency: %s", p)
	}
}

// viewConversation reads a conversation in a read transaction of its own.
func (s *Store) viewConversation(tb testing.TB, id hotline.ID) (hotline.Conversation, error) {
	var c hotline.Conversation
	err := s.View(tb.Context(), func(rt hotline.ReadTx) error {
		var err error
		c, err = rt.Conversation(id)
		return err
	})
	return c, err
}

// stored returns c as reading it back gives it.
func stored(tb testing.TB, c hotline.Contact) hotline.Contact {
	d, ok := storedContact(c)
	if !ok {
		tb.Fatalf("contact %+v is not kept", c)
	}
	return d
}

// TestRecordCache_KeepsWhatDecodes: what Put keeps for the next read is what
// decoding the record it wrote gives, for random contacts and conversations (every
// field set or not, strings that are not valid UTF-8, empty lists); when it cannot
// tell (a string JSON would change), it keeps nothing.
func TestRecordCache_KeepsWhatDecodes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, enc := range []bool{false, true} {
		opts := Options{}
		if enc {
			opts.MasterKey = testKey(t)
		}
		s := openTest(t, opts)
		kept, skipped := 0, 0
		for i := range 300 {
			var c hotline.Contact
			var conv hotline.Conversation
			randomize(r, reflect.ValueOf(&c).Elem())
			randomize(r, reflect.ValueOf(&conv).Elem())
			c.ID, conv.ID = hotline.NewID(testTime), hotline.NewID(testTime)
			conv.ContactID = c.ID
			conv.State = []hotline.State{hotline.StateWaiting, hotline.StateActive, hotline.StateClosed}[r.IntN(3)]
			conv.Chain = hotline.ChainHead{}
			c.Address += hotline.Address(fmt.Sprintf("+1415555%04d", i)) // unique, as the index requires
			if c.Handle != "" {
				c.Handle += fmt.Sprint(i)
			}
			err := s.Update(t.Context(), func(htx hotline.Tx) error {
				x := htx.(*tx)
				if err := x.PutContact(c); err != nil {
					return err
				}
				if err := x.PutConversation(conv); err != nil {
					return err
				}
				cv := x.tx.Bucket(bucketContacts).Get(c.ID[:])
				if got, ok := s.cache.contacts.get(c.ID, cv); ok {
					want, err := x.decodeContact(c.ID[:], bytes.Clone(cv))
					if err != nil || got != want {
						t.Errorf("encrypted %v: kept contact\n%+v\nwant what decodes\n%+v (%v)", enc, got, want, err)
					}
					kept++
				} else {
					skipped++
				}
				vv := x.tx.Bucket(bucketConversations).Get(conv.ID[:])
				if got, ok := s.cache.convs.get(conv.ID, vv); ok {
					want, err := x.decodeConversation(conv.ID[:], bytes.Clone(vv))
					want.Chain = hotline.ChainHead{}
					if err != nil || !reflect.DeepEqual(got, want) {
						t.Errorf("encrypted %v: kept conversation\n%+v\nwant what decodes\n%+v (%v)", enc, got, want, err)
					}
					kept++
				} else {
					skipped++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if kept < 100 || skipped < 10 {
			t.Errorf("encrypted %v: %d records kept, %d left to decoding: the test does not cover both", enc, kept, skipped)
		}
	}
}

// randomize sets v's fields at random: each left zero a third of the time, strings
// sometimes not valid UTF-8, lists sometimes empty but not nil.
func randomize(r *rand.Rand, v reflect.Value) {
	if r.IntN(3) == 0 && v.Kind() != reflect.Struct {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString([]string{"a", "T-4821", "é😢", "<&>\"", "\xff\xfeinvalid", "\n\t"}[r.IntN(6)])
	case reflect.Int, reflect.Int64:
		v.SetInt(r.Int64N(1 << 40))
	case reflect.Uint64:
		v.SetUint(r.Uint64N(1 << 40))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Array:
		for i := range v.Len() {
			v.Index(i).SetUint(uint64(r.UintN(256)))
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), r.IntN(3), 3)
		for i := range s.Len() {
			randomize(r, s.Index(i))
		}
		v.Set(s)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(0, r.Int64N(1<<62)).In(time.FixedZone("x", 3600))))
			return
		}
		for i := range v.NumField() {
			randomize(r, v.Field(i))
		}
	}
}

// TestRecordCache_EmptiedByDeletes: a transaction that deletes a conversation or a
// contact empties the cache once it commits, and a read transaction that began
// before keeps nothing after.
func TestRecordCache_EmptiedByDeletes(t *testing.T) {
	s := openTest(t, Options{MasterKey: testKey(t)})
	c, conv, _ := fixture(t, s)
	if _, err := s.viewConversation(t, conv.ID); err != nil {
		t.Fatal(err)
	}
	if len(s.cache.convs.entries) == 0 || len(s.cache.contacts.entries) == 0 {
		t.Fatalf("nothing cached after writing and reading")
	}
	old := s.cache.convs.generation()
	update(t, s, func(x *tx) error {
		if err := x.DeleteConversation(conv.ID); err != nil {
			return err
		}
		return x.DeleteContact(c.ID)
	})
	if n, m := len(s.cache.convs.entries), len(s.cache.contacts.entries); n != 0 || m != 0 {
		t.Errorf("%d conversations and %d contacts cached after deleting them", n, m)
	}
	s.cache.convs.put(old, conv.ID, []byte("{}"), conv)
	if len(s.cache.convs.entries) != 0 {
		t.Errorf("a transaction older than the deletion kept a record")
	}
}

// TestPutContact_UnchangedIndexes: a contact written again with the same address and
// handle keeps its index entries without writing them; one whose entry went missing
// gets it back.
func TestPutContact_UnchangedIndexes(t *testing.T) {
	s := openTest(t, Options{MasterKey: testKey(t)})
	c, _, _ := fixture(t, s)
	c.Language = "es"
	update(t, s, func(x *tx) error { return x.PutContact(c) })
	checkClean(t, s)
	raw(t, s, func(btx *bolt.Tx) error { return btx.Bucket(bucketContactByHandle).Delete([]byte(c.Handle)) })
	update(t, s, func(x *tx) error { return x.PutContact(c) })
	err := s.View(t.Context(), func(rt hotline.ReadTx) error {
		for name, get := range map[string]func() (hotline.Contact, error){
			"address": func() (hotline.Contact, error) { return rt.ContactByAddress(c.Address) },
			"handle":  func() (hotline.Contact, error) { return rt.ContactByHandle(c.Handle) },
		} {
			if got, err := get(); err != nil || got.ID != c.ID || got.Language != "es" {
				t.Errorf("contact by %s = %+v, %v", name, got, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, s)
}

// TestRecordCache_ReadsDoNotFill: a read transaction takes what the writer cached
// but adds nothing, so that a scan such as an export neither evicts the writer's
// records nor keeps decrypted records it will not read again.
func TestRecordCache_ReadsDoNotFill(t *testing.T) {
	s := openTest(t, Options{MasterKey: testKey(t)})
	c, conv, _ := fixture(t, s)
	if len(s.cache.convs.entries) != 1 || len(s.cache.contacts.entries) != 1 {
		t.Fatalf("after writing: %d conversations and %d contacts cached, want 1 and 1", len(s.cache.convs.entries), len(s.cache.contacts.entries))
	}
	s.cache.clear()
	if got, err := s.viewConversation(t, conv.ID); err != nil || got.ID != conv.ID {
		t.Fatalf("read = %v, %v", got.ID, err)
	}
	err := s.View(t.Context(), func(rt hotline.ReadTx) error {
		_, err := rt.Contact(c.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, m := len(s.cache.convs.entries), len(s.cache.contacts.entries); n != 0 || m != 0 {
		t.Errorf("reads cached %d conversations and %d contacts, want none", n, m)
	}
	// A write transaction's read fills it, and a later read takes from it.
	update(t, s, func(x *tx) error { _, err := x.Conversation(conv.ID); return err })
	if len(s.cache.convs.entries) != 1 {
		t.Fatalf("a write transaction's read cached %d conversations, want 1", len(s.cache.convs.entries))
	}
	for id, e := range s.cache.convs.entries {
		e.v.Handle = "from the cache"
		s.cache.convs.entries[id] = e
	}
	if got, err := s.viewConversation(t, conv.ID); err != nil || got.Handle != "from the cache" {
		t.Errorf("a read after the writer cached it = %q, %v; want the cached record", got.Handle, err)
	}
}
