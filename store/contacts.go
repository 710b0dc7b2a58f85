package store

import (
	"bytes"
	"errors"

	"github.com/hotlinehq/hotline/hotline"
)

// Contact returns the contact with the ID, or ENOTFOUND.
func (t *tx) Contact(id hotline.ID) (hotline.Contact, error) {
	v, err := t.get(bucketContacts, id[:])
	if err != nil {
		return hotline.Contact{}, err
	} else if v == nil {
		return hotline.Contact{}, notFound("Contact %s not found.", id)
	}
	return t.decodeContact(id[:], v)
}

// ContactByAddress returns the contact who texts from a, or ENOTFOUND.
func (t *tx) ContactByAddress(a hotline.Address) (hotline.Contact, error) {
	if t.keys != nil && a != "" {
		c, err := t.contactByIndex(bucketContactByAddress, t.keys.addressKey(a), "No contact with address "+a.Masked()+".")
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
	old, err := t.Contact(c.ID)
	isNew := hotline.IsNotFound(err)
	if err != nil && !isNew {
		return err
	}
	if err := t.claim(bucketContactByAddress, t.addressKey(c.Address), c.ID[:], "Another contact already has the address "+c.Address.Masked()+"."); err != nil {
		return err
	}
	if err := t.claim(bucketContactByHandle, []byte(c.Handle), c.ID[:], "Another contact already has the handle "+c.Handle+"."); err != nil {
		return err
	}
	v, err := t.encodeContact(c)
	if err != nil {
		return err
	}
	b, err := t.bucket(bucketContacts)
	if err != nil {
		return err
	}
	if err := b.Put(c.ID[:], v); err != nil {
		return err
	}
	var oldAddress, oldHandle []byte
	if !isNew {
		oldAddress, oldHandle = t.addressKey(old.Address), nonEmpty(old.Handle)
	} else if err := t.count(bucketContacts, 1); err != nil {
		return err
	}
	if err := t.updateIndex(bucketContactByAddress, oldAddress, t.addressKey(c.Address), c.ID[:]); err != nil {
		return err
	}
	return t.updateIndex(bucketContactByHandle, oldHandle, nonEmpty(c.Handle), c.ID[:])
}

// claim fails with ECONFLICT when the unique index key belongs to another record.
// An address whose contact was crypto-shredded (a store restored from a backup
// older than a purge) is free: nobody can read that contact any more.
func (t *tx) claim(index, key, owner []byte, conflict string) error {
	if len(key) == 0 {
		return nil
	}
	v, err := t.get(index, key)
	if err != nil {
		return err
	}
	if v != nil && !bytes.Equal(v, owner) {
		if bytes.Equal(index, bucketContactByAddress) && len(v) == idLen && t.shredded(contactKey(idFrom(v, 0))) {
			return nil
		}
		return hotline.Errorf(hotline.ECONFLICT, "%s", conflict)
	}
	return nil
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
func (t *tx) addressKey(a hotline.Address) []byte {
	if t.keys != nil {
		return t.keys.addressKey(a)
	}
	return []byte(a)
}
