package hotline

import (
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Channel is how a texter reaches the hotline.
type Channel string

// Channels the hotline understands. A channel other than SMS is kept as the prefix
// Twilio uses ("whatsapp:+14155550100").
const (
	ChannelSMS      Channel = "sms"
	ChannelWhatsApp Channel = "whatsapp"
)

// Address is a normalised channel address: an E.164 number ("+14155550100"), a short
// code ("233733"), or either with a channel prefix ("whatsapp:+14155550100").
// It is what identifies a contact; it is never shown to responders.
type Address string

// Channel returns the address's channel.
func (a Address) Channel() Channel {
	if ch, _, ok := strings.Cut(string(a), ":"); ok {
		return Channel(ch)
	}
	return ChannelSMS
}

// Number returns the address without its channel prefix.
func (a Address) Number() string {
	if _, n, ok := strings.Cut(string(a), ":"); ok {
		return n
	}
	return string(a)
}

// Masked returns the address with all but the first and the last four digits hidden
// ("+1******7890"): what logs and default exports show.
func (a Address) Masked() string {
	n := []rune(a.Number())
	prefix := ""
	if a.Channel() != ChannelSMS {
		prefix = string(a.Channel()) + ":"
	}
	if len(n) <= 6 {
		return prefix + strings.Repeat("*", len(n))
	}
	keep := 2
	if n[0] != '+' {
		keep = 1
	}
	return prefix + string(n[:keep]) + strings.Repeat("*", len(n)-keep-4) + string(n[len(n)-4:])
}

// NormalizeAddress turns an address as Twilio or a person writes it into an Address.
// Numbers become E.164 (defaultRegion, such as "US", is used for national numbers);
// short codes (3 to 8 digits) are kept as digits; a "whatsapp:" or other channel
// prefix is kept, lower-cased. Anything else is EINVALID.
func NormalizeAddress(raw, defaultRegion string) (Address, error) {
	s := strings.TrimSpace(raw)
	prefix := ""
	if ch, rest, ok := strings.Cut(s, ":"); ok {
		ch = strings.ToLower(strings.TrimSpace(ch))
		if ch == "" || strings.ContainsAny(ch, " +0123456789") {
			return "", Errorf(EINVALID, "The address has an unknown channel prefix.")
		}
		prefix, s = ch+":", strings.TrimSpace(rest)
	}
	if s == "" {
		return "", Errorf(EINVALID, "The address is empty.")
	}
	if isDigits(s) && len(s) >= 3 && len(s) <= 8 {
		return Address(prefix + s), nil
	}
	e164, ok := numbers.get(s, defaultRegion)
	if !ok {
		num, err := phonenumbers.Parse(s, defaultRegion)
		if err != nil || !phonenumbers.IsPossibleNumber(num) {
			// The message does not repeat the input: it may be somebody's phone number.
			return "", Errorf(EINVALID, "The address is not a phone number.")
		}
		e164 = phonenumbers.Format(num, phonenumbers.E164)
		numbers.put(s, defaultRegion, e164)
	}
	return Address(prefix + e164), nil
}

// numbers remembers the phone numbers NormalizeAddress parsed last: parsing one
// costs about 5 µs (the library's regular expressions), twice per inbound webhook
// (From and To), and the same texters and the hotline's own number come back.
var numbers = numberCache{m: map[numberKey]string{}}

// numberCacheSize bounds the cache; when it is full it starts afresh.
const numberCacheSize = 4096

type numberKey struct{ raw, region string }

type numberCache struct {
	mu sync.Mutex
	m  map[numberKey]string // raw number as written and default region → E.164
}

func (c *numberCache) get(raw, region string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e164, ok := c.m[numberKey{raw, region}]
	return e164, ok
}

func (c *numberCache) put(raw, region, e164 string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= numberCacheSize {
		clear(c.m)
	}
	c.m[numberKey{strings.Clone(raw), strings.Clone(region)}] = e164
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
