package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
)

// Open a store, write a texter and their conversation in one transaction, and read
// the queue back.
func Example() {
	dir, _ := os.MkdirTemp("", "hotline-example")
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "data", "hotline.db"), store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	ctx := context.Background()
	now := time.Now()
	contact := hotline.Contact{ID: hotline.NewID(now), Address: "+14155550100", Handle: "T-4821", FirstSeen: now}
	conv := hotline.Conversation{ID: hotline.NewID(now), ContactID: contact.ID, Handle: contact.Handle,
		State: hotline.StateWaiting, Priority: hotline.PriorityUrgent, WaitingSince: now}
	err = s.Update(ctx, func(tx hotline.Tx) error {
		if err := tx.PutContact(contact); err != nil {
			return err
		}
		return tx.PutConversation(conv)
	})
	if err != nil {
		log.Fatal(err)
	}

	err = s.View(ctx, func(tx hotline.ReadTx) error {
		return tx.Queue(func(c hotline.Conversation) error {
			fmt.Println(c.Handle, c.Priority, c.State)
			return nil
		})
	})
	if err != nil {
		log.Fatal(err)
	}
	st, _ := s.Stats(ctx)
	fmt.Printf("%d contact, %d conversation, %d waiting\n", st.Contacts, st.Conversations, st.Queue)
	// Output:
	// T-4821 urgent waiting
	// 1 contact, 1 conversation, 1 waiting
}
