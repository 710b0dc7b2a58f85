package store

import (
	"bytes"
	"fmt"

	"github.com/hotlinehq/hotline/hotline"
)

// chains checks the hash chains (chain.go): every status entry decodes and belongs
// to a stored message, every chain head to a stored conversation, and every
// conversation's chain verifies against its head. It reports the first entry of
// each chain that does not match.
func (c *checker) chains() error {
	err := c.each(bucketStatusEvents, func(k, v []byte) {
		if len(k) != 2*idLen {
			c.report("status_events %x: malformed key", k)
			return
		}
		e, err := decodeStatus(k, v)
		what := fmt.Sprintf("status entry %s/%s", idFrom(k, 0), idFrom(k, idLen))
		if err != nil {
			c.report("%s: %v", what, err)
			return
		}
		if c.t.tx.Bucket(bucketMessages).Get(pairKey(e.ConversationID, e.MessageID)) == nil {
			c.report("%s: message %s does not exist", what, e.MessageID)
		}
	})
	if err != nil {
		return err
	}
	err = c.each(bucketChainHeads, func(k, _ []byte) {
		if len(k) != idLen {
			c.report("chain_heads %x: malformed key", k)
			return
		}
		if c.t.tx.Bucket(bucketConversations).Get(k) == nil {
			c.report("chain head of conversation %s: the conversation does not exist", idFrom(k, 0))
		}
	})
	if err != nil {
		return err
	}
	return c.each(bucketConversations, func(k, _ []byte) {
		if len(k) != idLen {
			return
		}
		brk, err := c.t.verifyConversation(idFrom(k, 0))
		switch {
		case err != nil:
			c.report("chain of conversation %s: %v", idFrom(k, 0), err)
		case brk != nil:
			c.report("chain: %v", brk)
		}
	})
}

// sealing checks that an encrypted store holds no plain record of what texters
// wrote or where they write from, and no plain address in idx_contact_address.
func (c *checker) sealing() error {
	state, err := readCrypto(c.t.tx)
	if err != nil {
		c.report("meta: %v", err)
		return nil
	}
	if state.State != cryptoEncrypted {
		return nil
	}
	if c.t.keys == nil {
		c.report("meta: the store is encrypted but was opened without its master key")
		return nil
	}
	for _, name := range [][]byte{bucketContacts, bucketMessages} {
		err := c.each(name, func(k, v []byte) {
			if !isSealed(v) {
				c.report("%s %x: a plain record in an encrypted store", name, k)
			}
		})
		if err != nil {
			return err
		}
	}
	err = c.each(bucketOutbox, func(k, v []byte) {
		if e, err := decodeOutbox(k, v); err == nil && !hotline.IsZeroID(e.ConversationID) && !isSealed(v) {
			c.report("outbox %x: a plain entry to a texter in an encrypted store", k)
		}
	})
	if err != nil {
		return err
	}
	return c.each(bucketContactByAddress, func(k, _ []byte) {
		if !bytes.HasPrefix(k, []byte{0}) {
			c.report("idx_contact_address: a plain address (%s) in an encrypted store", hotline.Address(k).Masked())
		}
	})
}
