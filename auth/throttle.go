package auth

import (
	"net"
	"sync"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// ThrottleOptions tune a Throttle. Zero fields take the defaults in brackets.
type ThrottleOptions struct {
	// Initial is the first delay once free attempts are used up [1s]; each further
	// failure doubles it, up to Max [15m].
	Initial, Max time.Duration
	// PairFree is how many failures one address may have on one account before
	// delays start [3]; AddrFree the same for one address on any account [10].
	PairFree, AddrFree int
	// AccountSoft is how many failures on one account, from anywhere, mark it as
	// under attack [50]: then every address gets no free failure on it, but each
	// address still has its own delay, so the account is never locked for all.
	AccountSoft int
	// Forget is how long after its last failure a key starts afresh [2×Max, at least 1h].
	Forget time.Duration
	// MaxEntries bounds the memory the throttle uses [100,000 keys].
	MaxEntries int
}

// Throttle slows down password guessing: failed sign-ins back off exponentially per
// (account, address) and per address (IPv6 addresses by /64), and an account under
// attack from many addresses loses its free attempts. It never locks an account:
// another address (the real user's) keeps its own budget. A successful sign-in
// clears the (account, address) pair.
//
// It lives in memory: a restart forgets it, and when it holds MaxEntries keys it
// drops the oldest quiet ones first. It is safe for concurrent use.
type Throttle struct {
	opts    ThrottleOptions
	mu      sync.Mutex
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures     int
	inflight     int // attempts begun and not yet decided
	last         time.Time
	blockedUntil time.Time
}

var _ hotline.LoginLimiter = (*Throttle)(nil)

// NewThrottle returns a throttle with opts.
func NewThrottle(opts ThrottleOptions) *Throttle {
	if opts.Initial <= 0 {
		opts.Initial = time.Second
	}
	if opts.Max <= 0 {
		opts.Max = 15 * time.Minute
	}
	if opts.Max < opts.Initial {
		opts.Max = opts.Initial
	}
	if opts.PairFree <= 0 {
		opts.PairFree = 3
	}
	if opts.AddrFree <= 0 {
		opts.AddrFree = 10
	}
	if opts.AccountSoft <= 0 {
		opts.AccountSoft = 50
	}
	if opts.Forget <= 0 {
		opts.Forget = max(time.Hour, 2*opts.Max)
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 100_000
	}
	return &Throttle{opts: opts, entries: map[string]*throttleEntry{}}
}

// Begin asks to try a sign-in to account from addr at now. A refused attempt gets
// how long to wait; an allowed one gets done, to call with the outcome.
//
// An attempt in flight counts against the budget until it is decided, so that a
// burst of concurrent guesses cannot all slip in before the first one fails.
func (t *Throttle) Begin(account, addr string, now time.Time) (time.Duration, func(ok bool, at time.Time)) {
	addr = addressKey(addr)
	pairKey, addrKey, acctKey := "p\x00"+account+"\x00"+addr, "a\x00"+addr, "u\x00"+account
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) >= t.opts.MaxEntries {
		t.sweep(now)
	}
	pairFree := t.opts.PairFree
	if a := t.entries[acctKey]; a != nil && !t.forgotten(a, now) && a.failures >= t.opts.AccountSoft {
		pairFree = 0
	}
	pair, ad := t.entry(pairKey, now), t.entry(addrKey, now)
	var wait time.Duration
	for _, c := range []struct {
		e    *throttleEntry
		free int
	}{{pair, pairFree}, {ad, t.opts.AddrFree}} {
		switch {
		case now.Before(c.e.blockedUntil):
			wait = max(wait, c.e.blockedUntil.Sub(now))
		case c.e.inflight > 0 && c.e.failures+c.e.inflight >= max(c.free, 1):
			wait = max(wait, t.opts.Initial)
		}
	}
	if wait > 0 {
		return roundUp(wait), nil
	}
	pair.inflight++
	ad.inflight++
	var once sync.Once
	return 0, func(ok bool, at time.Time) {
		once.Do(func() { t.done(pairKey, addrKey, acctKey, pairFree, ok, at) })
	}
}

func (t *Throttle) done(pairKey, addrKey, acctKey string, pairFree int, ok bool, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pair, ad := t.entry(pairKey, at), t.entry(addrKey, at)
	pair.inflight = max(0, pair.inflight-1)
	ad.inflight = max(0, ad.inflight-1)
	if ok {
		delete(t.entries, pairKey)
		return
	}
	t.fail(pair, pairFree, at)
	t.fail(ad, t.opts.AddrFree, at)
	t.fail(t.entry(acctKey, at), -1, at)
}

// fail records a failure; past free failures (free < 0: never) the key is blocked.
func (t *Throttle) fail(e *throttleEntry, free int, at time.Time) {
	e.failures++
	e.last = at
	if free >= 0 && e.failures > free {
		e.blockedUntil = at.Add(t.delay(e.failures - free))
	}
}

// delay is Initial doubled n-1 times, at most Max.
func (t *Throttle) delay(n int) time.Duration {
	d := t.opts.Initial
	for i := 1; i < n && d < t.opts.Max; i++ {
		d *= 2
	}
	return min(d, t.opts.Max)
}

// entry returns the key's entry, creating it, or starting it afresh when forgotten.
func (t *Throttle) entry(key string, now time.Time) *throttleEntry {
	e := t.entries[key]
	if e == nil {
		e = &throttleEntry{}
		t.entries[key] = e
	} else if t.forgotten(e, now) {
		*e = throttleEntry{}
	}
	return e
}

func (t *Throttle) forgotten(e *throttleEntry, now time.Time) bool {
	return e.inflight == 0 && !now.Before(e.blockedUntil) && now.Sub(e.last) >= t.opts.Forget
}

// sweep drops forgotten keys, then, if the map is still nearly full, any key with no
// attempt in flight, so that memory stays bounded whatever an attacker sends.
func (t *Throttle) sweep(now time.Time) {
	for k, e := range t.entries {
		if t.forgotten(e, now) {
			delete(t.entries, k)
		}
	}
	target := t.opts.MaxEntries * 9 / 10
	for k, e := range t.entries {
		if len(t.entries) <= target {
			break
		}
		if e.inflight == 0 {
			delete(t.entries, k)
		}
	}
}

// Len returns how many keys the throttle holds.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// addressKey groups IPv6 addresses by /64, the block one customer usually holds.
func addressKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// roundUp rounds a wait up to whole seconds, as Retry-After says it.
func roundUp(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}
