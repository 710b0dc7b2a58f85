// Package simulator is the built-in SMS provider for trying the hotline without a
// carrier: a hotline.Sender that delivers texts to simulated phones in memory, and a
// web page at /simulator where anyone can play the texter.
//
// Texts the page sends go through the same service path as the Twilio webhook
// (Inbound.ReceiveInbound: dedupe on MessageSid, keywords, triage). Texts the hotline
// sends appear on the page live, and their delivery statuses are reported back through
// StatusRecorder, as Twilio's status callbacks would. A failure switch makes the next
// sends fail like a carrier outage, an unreachable handset or a carrier opt-out.
package simulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// Inbound takes a texter's message into the hotline; *hotline.Service satisfies it.
type Inbound interface {
	ReceiveInbound(ctx context.Context, in hotline.InboundMessage) (hotline.InboundResult, error)
}

// StatusRecorder takes delivery status reports; *hotline.Service satisfies it.
type StatusRecorder interface {
	RecordStatus(ctx context.Context, u hotline.StatusUpdate) error
}

// Mode is the simulated carrier's behaviour for the next sends.
type Mode string

// Modes of the failure switch.
const (
	ModeNormal        Mode = "normal"         // texts are delivered
	ModeFailRetryable Mode = "fail-retryable" // the API answers 503: the hotline retries later
	ModeFailPermanent Mode = "fail-permanent" // error 30003, unreachable handset: the text fails
	ModeOptedOut      Mode = "opted-out"      // error 21610: the texter opted out at the carrier
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool {
	switch m {
	case ModeNormal, ModeFailRetryable, ModeFailPermanent, ModeOptedOut:
		return true
	}
	return false
}

// Error codes the failure switch produces, as Twilio would.
const (
	CodeServiceUnavailable = 20503 // Twilio's "Service Unavailable" (HTTP 503)
	CodeUnreachable        = 30003 // Unreachable destination handset
)

// Options tune a Simulator. Zero fields take the defaults in brackets.
type Options struct {
	// Number is the hotline's own number or short code, the To of texts from the
	// page ["233733"].
	Number hotline.Address
	// DeliveryDelay is how long after "sent" the text is reported delivered [300ms].
	DeliveryDelay time.Duration
	// HistoryLimit is how many texts each phone keeps [200]; MaxPhones how many phones
	// the simulator remembers, forgetting the least recently used first [1000].
	HistoryLimit int
	MaxPhones    int
	// OnError receives failures of background status reports, for the log.
	OnError func(error)
}

// Simulator is the simulated carrier and its phones. It implements hotline.Sender
// and hotline.Reconciler. It is safe for concurrent use.
type Simulator struct {
	inbound Inbound
	status  StatusRecorder
	opts    Options

	ctx    context.Context // ends at Close; background status reports use it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// order keeps a phone's history in causal order: a text from the page is added
	// while its handler holds a read lock across ReceiveInbound, and Send waits for
	// those handlers, so a welcome never shows above the text that caused it.
	order sync.RWMutex

	mu     sync.Mutex
	mode   Mode
	phones *phoneBook
}

var (
	_ hotline.Sender     = (*Simulator)(nil)
	_ hotline.Reconciler = (*Simulator)(nil)
)

// New returns a simulator that hands texts from the page to inbound and reports
// delivery statuses to status. Call Close when done.
func New(inbound Inbound, status StatusRecorder, opts Options) *Simulator {
	if opts.Number == "" {
		opts.Number = "233733"
	}
	if opts.DeliveryDelay <= 0 {
		opts.DeliveryDelay = 300 * time.Millisecond
	}
	if opts.HistoryLimit <= 0 {
		opts.HistoryLimit = 200
	}
	if opts.MaxPhones <= 0 {
		opts.MaxPhones = 1000
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Simulator{inbound: inbound, status: status, opts: opts, ctx: ctx, cancel: cancel,
		mode: ModeNormal, phones: newPhoneBook(opts.HistoryLimit, opts.MaxPhones)}
}

// Close stops pending status reports, ends the live streams and waits for them.
func (s *Simulator) Close() error {
	s.cancel()
	s.mu.Lock()
	s.phones.closeAll()
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Mode returns the failure switch's position.
func (s *Simulator) Mode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// SetMode sets the failure switch. An unknown mode is EINVALID.
func (s *Simulator) SetMode(m Mode) error {
	if !m.Valid() {
		return hotline.Errorf(hotline.EINVALID, "%q is not a simulator mode: use normal, fail-retryable, fail-permanent or opted-out.", m)
	}
	s.mu.Lock()
	s.mode = m
	s.mu.Unlock()
	return nil
}

// Send delivers t to the simulated phone, or fails as the failure switch says. A
// text whose ID was already accepted is not delivered twice: its first receipt is
// returned. After a successful send the statuses sent and delivered are reported in
// the background.
func (s *Simulator) Send(ctx context.Context, t hotline.OutboundText) (hotline.SendReceipt, error) {
	if err := ctx.Err(); err != nil {
		return hotline.SendReceipt{}, err
	}
	if s.ctx.Err() != nil {
		return hotline.SendReceipt{}, &hotline.SendError{Retryable: true, Message: "The simulator is closed."}
	}
	sid, fresh, sendErr := s.accept(t)
	if sendErr != nil {
		return hotline.SendReceipt{}, sendErr
	}
	if !fresh {
		return hotline.SendReceipt{SID: sid, Status: hotline.StatusQueued}, nil
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.progress(t.To, sid)
	}()
	return hotline.SendReceipt{SID: sid, Status: hotline.StatusQueued}, nil
}

// accept delivers t to its phone unless the failure switch refuses it, and reports
// whether it is new (false when the same outbox entry was accepted before).
func (s *Simulator) accept(t hotline.OutboundText) (string, bool, *hotline.SendError) {
	s.order.Lock() // texts from the page being received go first
	defer s.order.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if sid, ok := s.phones.sidFor(t.To, t.ID); ok {
		return sid, false, nil
	}
	if err := modeError(s.mode); err != nil {
		s.phones.add(t.To, Event{Type: EventNotice, At: time.Now().UTC(),
			Body: fmt.Sprintf("The hotline tried to send a text; the simulated carrier refused it: %s", err.Message)})
		return "", false, err
	}
	sid := NewSID()
	s.phones.add(t.To, Event{Type: EventMessage, SID: sid, Direction: DirectionToPhone, Body: t.Body,
		Status: hotline.StatusSent, At: time.Now().UTC(), textID: t.ID})
	return sid, true, nil
}

// Lookup reports whether the simulator accepted t, for reconciliation after a crash
// or a timeout. The simulator's memory is its process's, so after a restart it has
// forgotten everything and the text is sent again.
func (s *Simulator) Lookup(ctx context.Context, t hotline.OutboundText, since time.Time) (hotline.SendReceipt, bool, error) {
	if err := ctx.Err(); err != nil {
		return hotline.SendReceipt{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sid, ok := s.phones.sidFor(t.To, t.ID)
	if !ok {
		return hotline.SendReceipt{}, false, nil
	}
	return hotline.SendReceipt{SID: sid, Status: hotline.StatusSent}, true, nil
}

// progress reports "sent", waits DeliveryDelay, then marks the text delivered on the
// phone and reports "delivered". It ends early when the simulator closes.
func (s *Simulator) progress(to hotline.Address, sid string) {
	s.report(hotline.StatusUpdate{SID: sid, Status: hotline.StatusSent})
	select {
	case <-s.ctx.Done():
		return
	case <-time.After(s.opts.DeliveryDelay):
	}
	s.mu.Lock()
	s.phones.setStatus(to, sid, hotline.StatusDelivered)
	s.mu.Unlock()
	s.report(hotline.StatusUpdate{SID: sid, Status: hotline.StatusDelivered})
}

// report sends a status update. The dispatcher stores a text's SID only after Send
// returns, so an early report may find no message: it is retried for a few seconds,
// as a real callback racing the REST answer would need.
func (s *Simulator) report(u hotline.StatusUpdate) {
	if s.status == nil {
		return
	}
	delay := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := s.status.RecordStatus(s.ctx, u)
		if err == nil || s.ctx.Err() != nil {
			return
		}
		if !hotline.IsNotFound(err) || attempt == 8 {
			if s.opts.OnError != nil {
				s.opts.OnError(fmt.Errorf("simulator: report status %s of %s: %w", u.Status, u.SID, err))
			}
			return
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// modeError returns the send error a failure mode produces, or nil in normal mode.
func modeError(m Mode) *hotline.SendError {
	switch m {
	case ModeFailRetryable:
		return &hotline.SendError{Retryable: true, Code: CodeServiceUnavailable, Message: "Service unavailable (simulated HTTP 503)"}
	case ModeFailPermanent:
		return &hotline.SendError{Code: CodeUnreachable, Message: "Unreachable destination handset (simulated)"}
	case ModeOptedOut:
		return &hotline.SendError{Code: hotline.TwilioErrorOptedOut, Message: "Attempt to send to unsubscribed recipient (simulated)"}
	}
	return nil
}

// NewSID returns a new message SID in Twilio's shape: "SM" and 32 hex digits.
func NewSID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails: it panics rather than return weak bytes
	return "SM" + hex.EncodeToString(b[:])
}
