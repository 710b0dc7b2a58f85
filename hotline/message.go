package hotline

import "time"

// Direction says who a message came from and whether it leaves the hotline.
type Direction string

// Message directions. Notes and system events are never sent to anyone.
const (
	DirectionInbound  Direction = "inbound"  // from the texter
	DirectionOutbound Direction = "outbound" // to the texter (a responder's reply or an automatic text)
	DirectionNote     Direction = "note"     // a responder's internal note
	DirectionSystem   Direction = "system"   // an event in the thread, such as "texter opted out"
)

// Status is the delivery status of a message. Inbound messages are "received";
// outbound ones move forward through the outbox states and never back.
type Status string

// Delivery statuses, in the order they may be reached.
const (
	StatusReceived    Status = "received"
	StatusQueued      Status = "queued"
	StatusSending     Status = "sending"
	StatusSent        Status = "sent"
	StatusDelivered   Status = "delivered"
	StatusUndelivered Status = "undelivered"
	StatusFailed      Status = "failed"
)

// rank orders outbound statuses so that a late callback cannot move one backwards.
func (s Status) rank() int {
	switch s {
	case StatusQueued:
		return 1
	case StatusSending:
		return 2
	case StatusSent:
		return 3
	case StatusDelivered, StatusUndelivered, StatusFailed:
		return 4
	}
	return 0
}

// Final reports whether no further status can follow s.
func (s Status) Final() bool { return s.rank() == 4 }

// Advances reports whether moving from s to next is a step forward.
func (s Status) Advances(next Status) bool { return next.rank() > s.rank() }

// Purpose says why an outbound message was sent.
type Purpose string

// Purposes of outbound messages.
const (
	PurposeReply      Purpose = "reply" // written by a responder
	PurposeWelcome    Purpose = "welcome"
	PurposeHelp       Purpose = "help"
	PurposeOptOut     Purpose = "opt_out"
	PurposeOptIn      Purpose = "opt_in"
	PurposeClosing    Purpose = "closing"
	PurposeAfterHours Purpose = "after_hours"
)

// Automatic reports whether messages of this purpose are sent by the hotline itself
// (and so count against the automatic-reply cap).
func (p Purpose) Automatic() bool { return p != PurposeReply && p != "" }

// Media is one attachment of an inbound message.
type Media struct {
	URL         string
	ContentType string
}

// Message is one entry in a conversation's thread.
type Message struct {
	ID             ID
	ConversationID ID
	Direction      Direction
	Body           string
	Media          []Media
	Purpose        Purpose // outbound only
	AuthorID       ID      // the responder who wrote a reply or note; zero for texters and the hotline
	// TargetID is the responder a system event is about, such as whom a transfer
	// went to (the event's text does not name them: names change); zero otherwise.
	TargetID ID
	// TwilioSID is the MessageSid: Twilio's for inbound texts, and the one Twilio gave
	// an outbound text when it accepted it.
	TwilioSID    string
	Segments     int
	Status       Status
	ErrorCode    int
	ErrorMessage string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Extra holds inbound webhook parameters kept by configuration (location fields).
	Extra map[string]string
	// Webhook is the inbound webhook as Twilio sent it, signature included (nil
	// for other messages): evidence, sealed like the body.
	Webhook *Webhook
	// Chain is the message's place in its conversation's hash chain (chain.go). The
	// store sets it when the message is first written and never changes it.
	Chain ChainLink
}
