package store_test

import (
	"reflect"
	"testing"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

func TestContact_RoundTrip(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	c.OptedOut, c.OptedOutAt = true, at(5)
	c.AutoReplyWindow, c.AutoReplies = at(3), 2
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutContact(c) })

	mustView(t, s, func(tx hotline.ReadTx) error {
		lookups := map[string]func() (hotline.Contact, error){
			"Contact":          func() (hotline.Contact, error) { return tx.Contact(c.ID) },
			"ContactByAddress": func() (hotline.Contact, error) { return tx.ContactByAddress(c.Address) },
			"ContactByHandle":  func() (hotline.Contact, error) { return tx.ContactByHandle(c.Handle) },
		}
		for name, lookup := range lookups {
			got, err := lookup()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(got, c) {
				t.Errorf("%s = %+v, want %+v", name, got, c)
			}
		}
		return nil
	})
}

func TestContact_NotFound(t *testing.T) {
	s := storetest.MustOpen(t)
	mustView(t, s, func(tx hotline.ReadTx) error {
		_, err := tx.Contact(hotline.NewID(t0))
		wantCode(t, "Contact", err, hotline.ENOTFOUND)
		_, err = tx.ContactByAddress("+14155550100")
		wantCode(t, "ContactByAddress", err, hotline.ENOTFOUND)
		_, err = tx.ContactByAddress("")
		wantCode(t, "ContactByAddress empty", err, hotline.ENOTFOUND)
		_, err = tx.ContactByHandle("T-1234")
		wantCode(t, "ContactByHandle", err, hotline.ENOTFOUND)
		return nil
	})
}

func TestPutContact_MovesIndexes(t *testing.T) {
	s := storetest.MustOpen(t)
	c := newContact(1)
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutContact(c) })
	moved := c
	moved.Address, moved.Handle = "whatsapp:+14155550199", "T-9999"
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutContact(moved) })

	mustView(t, s, func(tx hotline.ReadTx) error {
		_, err := tx.ContactByAddress(c.Address)
		wantCode(t, "old address", err, hotline.ENOTFOUND)
		_, err = tx.ContactByHandle(c.Handle)
		wantCode(t, "old handle", err, hotline.ENOTFOUND)
		if got, err := tx.ContactByAddress(moved.Address); err != nil || got.ID != c.ID {
			t.Errorf("ContactByAddress(new) = %v, %v; want contact %s", got.ID, err, c.ID)
		}
		if got, err := tx.ContactByHandle(moved.Handle); err != nil || got.ID != c.ID {
			t.Errorf("ContactByHandle(new) = %v, %v; want contact %s", got.ID, err, c.ID)
		}
		return nil
	})
}

func TestPutContact_Rejects(t *testing.T) {
	s := storetest.MustOpen(t)
	a := newContact(1)
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutContact(a) })

	sameAddress, sameHandle := newContact(2), newContact(3)
	sameAddress.Address, sameHandle.Handle = a.Address, a.Handle
	noID, noAddress := newContact(4), newContact(5)
	noID.ID, noAddress.Address = hotline.ID{}, ""
	tests := []struct {
		name string
		c    hotline.Contact
		code string
	}{
		{"another contact's address", sameAddress, hotline.ECONFLICT},
		{"another contact's handle", sameHandle, hotline.ECONFLICT},
		{"zero ID", noID, hotline.EINVALID},
		{"no address", noAddress, hotline.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Update(t.Context(), func(tx hotline.Tx) error { return tx.PutContact(tt.c) })
			wantCode(t, "PutContact", err, tt.code)
		})
	}
}
