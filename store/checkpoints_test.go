package store_test

import (
	"testing"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store/storetest"
)

func TestCheckpoint_RoundTrip(t *testing.T) {
	s := storetest.MustOpen(t)
	mustView(t, s, func(tx hotline.ReadTx) error {
		if _, ok, err := tx.Checkpoint("inbound_recovery"); ok || err != nil {
			t.Errorf("Checkpoint of a new store = %v, %v; want none", ok, err)
		}
		return nil
	})
	local := time.FixedZone("UTC-5", -5*3600)
	want := t0.In(local)
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutCheckpoint("inbound_recovery", want) })
	mustView(t, s, func(tx hotline.ReadTx) error {
		got, ok, err := tx.Checkpoint("inbound_recovery")
		if !ok || err != nil || !got.Equal(want) {
			t.Errorf("Checkpoint = %v, %v, %v; want %v", got, ok, err, want)
		}
		if got.Location() != time.UTC {
			t.Errorf("Checkpoint location = %v, want UTC", got.Location())
		}
		if _, ok, _ := tx.Checkpoint("other"); ok {
			t.Error("Checkpoint(other) found the inbound_recovery checkpoint")
		}
		return nil
	})
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.PutCheckpoint("inbound_recovery", at(60)) })
	mustView(t, s, func(tx hotline.ReadTx) error {
		if got, _, _ := tx.Checkpoint("inbound_recovery"); !got.Equal(at(60)) {
			t.Errorf("Checkpoint after a second put = %v, want %v", got, at(60))
		}
		return nil
	})
}

func TestPutCheckpoint_NeedsAName(t *testing.T) {
	s := storetest.MustOpen(t)
	err := s.Update(t.Context(), func(tx hotline.Tx) error { return tx.PutCheckpoint("", t0) })
	if got, want := hotline.ErrorCode(err), hotline.EINVALID; got != want {
		t.Errorf("PutCheckpoint(\"\") code = %q, want %q", got, want)
	}
}

func TestOrphanStatus_RoundTrip(t *testing.T) {
	s := storetest.MustOpen(t)
	delivered := hotline.OrphanStatus{
		Update:     hotline.StatusUpdate{SID: "SM2", Status: hotline.StatusDelivered, DoneAt: "2503140926"},
		ReceivedAt: at(1),
	}
	failed := hotline.OrphanStatus{
		Update:     hotline.StatusUpdate{SID: "SM1", Status: hotline.StatusFailed, ErrorCode: 30003, ErrorMessage: "Unreachable"},
		ReceivedAt: at(2),
	}
	mustUpdate(t, s, func(tx hotline.Tx) error {
		if err := tx.PutOrphanStatus(delivered); err != nil {
			return err
		}
		return tx.PutOrphanStatus(failed)
	})
	mustView(t, s, func(tx hotline.ReadTx) error {
		got, err := tx.OrphanStatus("SM2")
		if err != nil || got != delivered {
			t.Errorf("OrphanStatus(SM2) = %+v, %v; want %+v", got, err, delivered)
		}
		if _, err := tx.OrphanStatus("SM3"); !hotline.IsNotFound(err) {
			t.Errorf("OrphanStatus(SM3) error = %v, want ENOTFOUND", err)
		}
		var all []hotline.OrphanStatus
		err = tx.OrphanStatuses(func(o hotline.OrphanStatus) error {
			all = append(all, o)
			return nil
		})
		if err != nil || len(all) != 2 || all[0] != failed || all[1] != delivered {
			t.Errorf("OrphanStatuses = %+v, %v; want SM1 then SM2", all, err)
		}
		return nil
	})
	mustUpdate(t, s, func(tx hotline.Tx) error { return tx.DeleteOrphanStatus("SM1") })
	mustView(t, s, func(tx hotline.ReadTx) error {
		if _, err := tx.OrphanStatus("SM1"); !hotline.IsNotFound(err) {
			t.Errorf("OrphanStatus(SM1) after delete: error = %v, want ENOTFOUND", err)
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx hotline.Tx) error { return tx.DeleteOrphanStatus("SM1") })
	if !hotline.IsNotFound(err) {
		t.Errorf("second DeleteOrphanStatus error = %v, want ENOTFOUND", err)
	}
	err = s.Update(t.Context(), func(tx hotline.Tx) error { return tx.PutOrphanStatus(hotline.OrphanStatus{}) })
	if got, want := hotline.ErrorCode(err), hotline.EINVALID; got != want {
		t.Errorf("PutOrphanStatus without SID: code = %q, want %q", got, want)
	}
}
