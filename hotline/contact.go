package hotline

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Contact is a texter: whoever writes from one channel address.
type Contact struct {
	ID ID
	// Address identifies the texter to the carrier. Responders never see it.
	Address Address
	// Handle is what responders see instead of the address, such as "T-4821".
	Handle string
	// OptedOut is set by STOP (or a carrier opt-out, Twilio error 21610) and cleared
	// by START: while set, nothing but the one opt-out confirmation is sent.
	OptedOut   bool
	OptedOutAt time.Time
	Language   string
	FirstSeen  time.Time
	LastSeen   time.Time
	// AutoReplyWindow and AutoReplies count the automatic texts sent to this contact
	// in the current hour, so that two bots cannot loop forever.
	AutoReplyWindow time.Time
	AutoReplies     int
}

// NewHandle proposes a handle for a new contact. Short handles are easier to say on a
// call; attempt > 2 widens the range so that a crowded hotline still finds a free one.
func NewHandle(attempt int) string {
	if attempt > 2 {
		return fmt.Sprintf("T-%06d", rand.IntN(1_000_000))
	}
	return fmt.Sprintf("T-%04d", 1000+rand.IntN(9000))
}
