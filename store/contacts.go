package store

import (
	"bytes"
	"errors"

	"github.com/hotlinehq/hotline/hotline"
)

// Contact returns the contact with the ID, or ENOTFOUND.
func (t *tx) Contact(id hotline.ID) (hotline.Contact, error) {
	b, err := t.bucket(bucketContacts)
	if err != nil {
		return hotline.Contact{}, err
	}
	v := b.Get(id[:])
	if v == nil {
		return hotline.Contact{}, notFound("Contact %s not found.", id)
	}
	return t.contactAt(id, v)
}

// contactAt decodes v, the record stored under the ID, or takes it from the
// store's cache when that holds these very bytes (recordCache). v may be bolt's
// memory.
func (t *tx) contactAt(id hotline.ID, v []byte) (hotline.Contact, error) {
	if c, ok := t.cache.contacts.get(id, v); ok {
		return c, nil
	}
	if !t.tx.Writable() {
		return t.decodeContact(id[:], v) // reads do not fill the cache (recordCache)
	}
	v = bytes.Clone(v)
	c, err := t.decodeContact(id[:], v)
	if err != nil {
		return c, err
	}
	t.cache.contacts.put(t.gen, id, v, c)
	return c, nil
}

// storedContact returns what decoding c's record gives, and false when a string
// in it is not valid UTF-8, which JSON replaces: then that is left to decoding.
func storedContact(c hotline.Contact) (hotline.Contact, bool) {
	d := contactFromRecord(contactToRecord(c))
	return d, validStrings([]string{string(d.Address), d.Handle, d.Language})
}

// cloneContact copies c (recordCache); a contact holds no slices or maps.
func cloneContact(c hotline.Contact) hotline.Contact { return c }

// ContactByAddress returns the contact who texts from a, or ENOTFOUND.
func (t *tx) ContactByAddress(a hotline.Address) (hotline.Contact, error) {
	if t.keys != nil && a != "" {
		c, err := t.contactByIndex(bucketContactByAddress, t.addressKey(a), "No contact with address "+a.Masked()+".")
		if !hotline.IsNotFound(err) || !t.encrypting() {
			return c, err
		}
		// A store being encrypted may not have moved this entry yet.
	}
	return t.contactByIndex(bucketContactByAddress, []byte(a), "No contact with address "+a.Masked()+".")
}

// ContactByHandle returns the contact with the handle, or ENOTFOUND.
func (t *tx) ContactByHandle(handle string) (hotline.Contact, error) {
	return t.contactByIndex(bucketContactByHandle, []byte(handle), "No contact with handle "+handle+".")
}

func (t *tx) contactByIndex(index, key []byte, missing string) (hotline.Contact, error) {
	if len(key) == 0 {
		return hotline.Contact{}, notFound("%s", missing)
	}
	v, err := t.get(index, key)
	if err != nil {
		return hotline.Contact{}, err
	} else if len(v) != idLen {
		return hotline.Contact{}, notFound("%s", missing)
	}
	return t.Contact(idFrom(v, 0))
}

// PutContact writes the contact and moves its address and handle index entries.
// An address or handle that belongs to another contact is ECONFLICT.
func (t *tx) PutContact(c hotline.Contact) error {
	switch {
	case hotline.IsZeroID(c.ID):
		return hotline.Errorf(hotline.EINVALID, "A contact needs an ID.")
	case c.Address == "":
		return hotline.Errorf(hotline.EINVALID, "A contact needs an address.")
	}
	b, err := t.bucket(bucketContacts)
	if err != nil {
		return err
	}
	// A new contact has no old record to read; a stored one is usually in the
	// cache, its caller having just read it.
	var old hotline.Contact
	prev := b.Get(c.ID[:])
	isNew := prev == nil
	if !isNew {
		if old, err = t.contactAt(c.ID, prev); err != nil {
			return err
		}
	}
	address, handle := t.addressKey(c.Address), nonEmpty(c.Handle)
	addressHeld, err := t.claimKey(bucketContactByAddress, address, c.ID[:], func() string {
		return "Another contact already has the address " + c.Address.Masked() + "."
	})
	if err != nil {
		return err
	}
	handleHeld, err := t.claimKey(bucketContactByHandle, handle, c.ID[:], func() string {
		return "Another contact already has the handle " + c.Handle + "."
	})
	if err != nil {
		return err
	}
	v, err := t.encodeContact(c)
	if err != nil {
		return err
	}
	if err := b.Put(c.ID[:], v); err != nil {
		return err
	}
	if stored, ok := storedContact(c); ok {
		t.cache.contacts.put(t.gen, c.ID, v, stored)
	}
	var oldAddress, oldHandle []byte
	if !isNew {
		oldAddress, oldHandle = address, nonEmpty(old.Handle)
		if old.Address != c.Address {
			oldAddress = t.addressKey(old.Address)
		}
	} else if err := t.count(bucketContacts, 1); err != nil {
		return err
	}
	// An entry that did not move and is this contact's already (claimKey looked)
	// stays as it is.
	if !addressHeld || !bytes.Equal(oldAddress, address) {
		if err := t.updateIndex(bucketContactByAddress, oldAddress, address, c.ID[:]); err != nil {
			return err
		}
	}
	if !handleHeld || !bytes.Equal(oldHandle, handle) {
		return t.updateIndex(bucketContactByHandle, oldHandle, handle, c.ID[:])
	}
	return nil
}

// claim fails with ECONFLICT when the unique index key belongs to another record.
// An address whose contact was crypto-shredded (a store restored from a backup
// older than a purge) is free: nobody can read that contact any more.
func (t *tx) claim(index, key, owner []byte, conflict string) error {
	_, err := t.claimKey(index, key, owner, func() string { return conflict })
	return err
}

// claimKey is claim, with the conflict's message made only on a conflict; held
// reports whether owner holds the key already.
func (t *tx) claimKey(index, key, owner []byte, conflict func() string) (held bool, err error) {
	if len(key) == 0 {
		return false, nil
	}
	b, err := t.bucket(index)
	if err != nil {
		return false, err
	}
	v := b.Get(key)
	switch {
	case v == nil:
		return false, nil
	case bytes.Equal(v, owner):
		return true, nil
	case bytes.Equal(index, bucketContactByAddress) && len(v) == idLen && t.shredded(contactKey(idFrom(v, 0))):
		return false, nil
	}
	return false, hotline.Errorf(hotline.ECONFLICT, "%s", conflict())
}

// shredded reports whether ref's data key was destroyed.
func (t *tx) shredded(ref keyRef) bool {
	if t.keys == nil {
		return false
	}
	_, err := t.keys.dataKey(t, ref, false)
	return errors.Is(err, errShredded)
}

// nonEmpty returns s as a key, or nil (no index entry) when it is empty.
func nonEmpty(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// addressKey is a texter's address as idx_contact_address keys it: the address
// itself in a store without a master key, else its keyed hash (crypto.go), so that
// the index holds no phone number.
//
// The keyed hash of the last address asked for is kept: an inbound text looks its
// texter up by address, then PutContact claims and indexes the same address. The
// key returned must not be changed.
func (t *tx) addressKey(a hotline.Address) []byte {
	if t.keys == nil {
		return []byte(a)
	}
	if t.lastAddressKey == nil || a != t.lastAddress {
		t.lastAddress, t.lastAddressKey = a, t.keys.addressKey(a)
	}
	return t.lastAddressKey
}
