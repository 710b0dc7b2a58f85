// Package store keeps the hotline in one bbolt file: the implementation of
// hotline.Store, with its buckets and indexes, migrations, online backup and a
// consistency check.
//
// # Layout
//
// Every bucket is at the top level. IDs are 16-byte ULIDs, whose byte order is
// creation-time order, so a key that starts with an ID (or a time) iterates oldest
// first. Times in keys are 8 big-endian bytes of Unix nanoseconds with the sign bit
// flipped, so that byte order is time order (the zero time sorts first). ‖ is
// concatenation; "→ ∅" means an empty value.
//
//	meta
//	  schema_version                      → decimal text, such as "1" (see migrate.go)
//	  count/contacts                      → decimal text: keys in contacts        (Stats)
//	  count/conversations                 → decimal text: keys in conversations   (Stats)
//	  count/messages                      → decimal text: keys in messages        (Stats)
//	contacts
//	  contactID                           → contact record
//	idx_contact_address                     find a texter by the number they text from
//	  address ("+14155550100")            → contactID            (unique)
//	idx_contact_handle                      find a texter by the handle responders see
//	  handle ("T-4821")                   → contactID            (unique)
//	conversations
//	  conversationID                      → conversation record
//	idx_conversations_by_contact            a texter's conversations; the last is the latest
//	  contactID ‖ conversationID          → ∅
//	idx_conversations_by_state              the console's lists (open conversations are few)
//	  state (1 byte: 1 waiting, 2 assigned, 3 active, 4 closed) ‖ conversationID → ∅
//	queue                                   waiting conversations only, in the order to answer them
//	  priority (1 byte: 0 urgent, 1 normal) ‖ waitingSince ‖ conversationID → ∅
//	deadlines                               durable timers: the scheduler's wake-up list
//	  Conversation.NextDeadline() ‖ conversationID → ∅   (open conversations with a timer)
//	messages
//	  conversationID ‖ messageID          → message record   (a thread is one key range)
//	idx_message_sid                         dedupe retried webhooks; match status callbacks
//	  Twilio MessageSid                   → conversationID ‖ messageID   (unique)
//	outbox                                  texts waiting to leave, oldest first
//	  messageID                           → outbox entry record
//	checkpoints                             progress of periodic jobs (schema 2)
//	  name ("inbound_recovery")           → decimal Unix nanoseconds, such as the newest text recovered
//	orphan_statuses                         status callbacks that came before their SID was recorded (schema 2)
//	  Twilio MessageSid                   → orphan status record   (applied with the SID, or pruned after a day)
//	users                                   console accounts (schema 3)
//	  userID                              → user record (password as an argon2id PHC string)
//	idx_user_username                       sign-in: find a user by name
//	  lower-cased username                → userID               (unique)
//	sessions                                signed-in consoles (schema 3); the token itself is never stored
//	  SHA-256(session token) (32 bytes)   → session record (user, CSRF token, created, last seen)
//	idx_sessions_by_user                    end a user's sessions at once (logout-all, disable)
//	  userID ‖ SHA-256(token)             → ∅
//	audit                                   append-only: no method changes or deletes an entry (schema 3)
//	  auditID                             → audit entry record (who, what, target, when, from where)
//	canned_responses                        the console's prepared replies (schema 4)
//	  cannedID                            → canned response record (title, body with {{placeholders}}, language)
//	rotations                               weekly shifts in the hotline's time zone (schema 5, routing)
//	  rotationID                          → rotation record (responder, weekdays, start and end clock times, from, until)
//	overrides                               one-off cover or time off (schema 5)
//	  overrideID                          → override record (responder, cover|off, start, end, note)
//	closures                                times the line is not staffed at all, such as holidays (schema 5)
//	  closureID                           → closure record (start, end, reason)
//	idx_conversations_by_assignee           capacity: a responder's open conversations, counted without decoding (schema 5)
//	  assigneeID ‖ conversationID         → ∅   (open conversations with an assignee: offered, taken or active)
//	pages                                   texts to responders' and coordinators' own phones (schema 5)
//	  pageID (= its outbox entry's ID)    → page record (user, audience, waiting and urgent counts, body; no texter content)
//	idx_pages_by_user                       rate-limit pages: a user's newest page is the last key of their range
//	  userID ‖ pageID                     → ∅
//	api_tokens                              coordinators' read-only API tokens (schema 6); the token itself is never stored
//	  SHA-256(token) (32 bytes)           → API token record (id, user, name, created, last used, expires)
//	settings                                what coordinators edit in the console, overriding the configuration (schema 6)
//	  "texts"                             → the edited automatic texts by language
//	  "close_lists"                       → the edited dispositions and tags of the close dialog (replace conversation.*)
//	stats_hourly                            the dashboard's texts per hour, counted with each new message (schema 6);
//	  hour (timeKey) ‖ 'i' or 'o'         → decimal count   statistics: a purge does not take them back
//	idx_conversations_held                  conversations under a legal hold, for the coordinators' list (schema 7)
//	  conversationID                      → ∅   (moved with the hold flag by PutConversation; purge never deletes a held one)
//	chain_heads                             the end of each conversation's hash chain (schema 8, chain.go)
//	  conversationID                      → head: version byte 1 ‖ seq (8 bytes, big-endian) ‖ hash of the last entry (32 bytes)
//	status_events                           delivery status changes, chained entries (schema 8); no content
//	  conversationID ‖ eventID            → status entry record (message, status, SID, error, done date, seq, prev, hash)
//	data_keys                               which keystore entry holds each data key (schema 8, encrypted stores)
//	  kind ('c' conversation, 't' contact) ‖ ID → key name (16 random bytes)   (written with the first sealed record)
//	shred_pending                           data keys to destroy: their records were deleted (schema 8)
//	  key name                            → ∅   (emptied once the keystore has forgotten them)
//	meta (encryption, signing)
//	  crypto                              → {"state": "encrypting"|"encrypted", "keystore": ID}; absent: plaintext
//	  signing_key                         → {"public": Ed25519 key, "seed": private seed in a plaintext store only}
//
// The keystore is a second bbolt file (crypto.keys_file, default hotline.keys.db
// beside the database), never part of a store backup:
//
//	meta
//	  format, id (the keystore ID meta/crypto names), kwk_check (tells a wrong master key), master_key_id
//	data_keys
//	  key name                            → data key wrapped by the key-wrapping key (AES-256-GCM, AAD: the name)
//	                                        (made 256 at a time ahead of use, so a new texter writes nothing here)
//	secrets
//	  "index"                             → the HMAC key of idx_contact_address, wrapped
//	  "signing"                           → the Ed25519 seed that signs evidence bundles, wrapped
//
// # Tamper-evident history
//
// Every message and every delivery status change of a conversation is an entry of
// its hash chain (hotline/chain.go documents the canonical encoding). PutMessage
// appends: a new message gets the next sequence number, the previous entry's hash
// and its own; a changed delivery status of a stored message becomes a
// status_events entry, and the message keeps the delivery it was written with
// ("written"), so that every entry can be hashed again from the records alone.
// Nothing else of a stored message may change. Verify (and Check) recompute every
// chain and name the first entry that does not match.
//
// # Encryption at rest
//
// With a master key (Options.MasterKey, from crypto.master_key_file or the
// environment; never in a file the hotline writes), what texters wrote and where
// they write from is sealed with AES-256-GCM (crypto.go, sealed.go): message bodies,
// media, extra fields, webhook evidence and chain nonces under the conversation's
// data key; contact addresses under the contact's; the triage terms of a
// conversation; outbox entries to texters (number and body). Associated data is
// the bucket and the record key, so a ciphertext moved to another record does not
// open. idx_contact_address is keyed by 0x00 ‖ HMAC-SHA256(index key, address).
// Left in plaintext: IDs, states, times, handles, Twilio SIDs, statuses and error
// codes, chain hashes (which cover a random nonce, so a short body cannot be
// guessed from its hash), users (responders' own phones), pages to responders (no
// texter content), audit entries (never content), settings and counters.
//
// Data keys live in the keystore, not in the store, because crypto-shredding must
// reach backups: a purge deletes the conversation and destroys its data key
// (shred_pending makes that survive a crash), and since store backups (Backup,
// `hotline backup`) never contain the keystore, a backup taken before the purge
// holds records no key opens any more (it still holds their unsealed parts: the
// conversation's state, times, handle, disposition and tags, and the chain's
// hashes). The keystore gets data keys 256 at a time, synced before any record
// uses one; a record's transaction only names its key in data_keys, so new texters
// cost no second fsync and concurrent webhooks keep their group commit. A key
// given out by a transaction that fails is never used (a key of nothing). The keystore must then be backed up on its
// own (BackupKeys), and only its newest copy kept: an older copy of the keystore
// would still hold the destroyed key. RotateMasterKey re-wraps the keystore's keys
// in one transaction without touching a record.
//
// Records are JSON objects with a version field "v" and times as Unix nanoseconds
// (records.go). They are private to this package: the domain's types may change
// without rewriting the file, and a record of an unknown version is an error, never
// a guess. Values returned by a transaction are decoded into fresh memory and never
// alias the memory map.
//
// # Invariants
//
// Each Put reads the previous record and moves every index entry in the same
// transaction: a record has exactly the index entries it implies, and every index
// entry points to a record that implies it. Retention's DeleteConversation and
// DeleteContact (purge.go) remove a record with every entry that hangs off it. Check verifies this, with bbolt's own
// page check, and Open refuses a file written by a newer schema. Update
// group-commits concurrent writers (see Store.groupCommit).
//
// Keep this drawing in step with keys.go, and add a migration for every change.
package store
