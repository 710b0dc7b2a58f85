package auth_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/auth"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// attempt tries once and reports the wait (zero when allowed), failing the attempt.
func attempt(th *auth.Throttle, account, addr string, now time.Time, ok bool) time.Duration {
	wait, done := th.Begin(account, addr, now)
	if wait == 0 {
		done(ok, now)
	}
	return wait
}

func TestThrottle_BacksOffExponentially(t *testing.T) {
	th := auth.NewThrottle(auth.ThrottleOptions{Initial: time.Second, Max: 15 * time.Minute, PairFree: 3, AddrFree: 100})
	now := t0
	for i := range 3 {
		if w := attempt(th, "ana", "192.0.2.1", now, false); w != 0 {
			t.Fatalf("free attempt %d refused for %s", i+1, w)
		}
	}
	// The 4th failure starts the delays: 1s, 2s, 4s, … up to 15 minutes.
	if w := attempt(th, "ana", "192.0.2.1", now, false); w != 0 {
		t.Fatalf("4th attempt refused for %s", w)
	}
	want := time.Second
	for range 12 {
		if w := attempt(th, "ana", "192.0.2.1", now, false); w != want {
			t.Fatalf("attempt right after a failure waits %s, want %s", w, want)
		}
		now = now.Add(want)
		if w := attempt(th, "ana", "192.0.2.1", now, false); w != 0 {
			t.Fatalf("attempt after waiting %s refused for %s", want, w)
		}
		want = min(2*want, 15*time.Minute)
	}
	// Another address is not held back by this one's failures.
	if w := attempt(th, "ana", "198.51.100.7", now, true); w != 0 {
		t.Errorf("the real user from another address waits %s, want 0", w)
	}
	// A success clears the pair.
	now = now.Add(15 * time.Minute)
	if w := attempt(th, "ana", "192.0.2.1", now, true); w != 0 {
		t.Fatalf("attempt after the longest delay refused for %s", w)
	}
	for i := range 3 {
		if w := attempt(th, "ana", "192.0.2.1", now, false); w != 0 {
			t.Errorf("after a success, free attempt %d refused for %s", i+1, w)
		}
	}
}

func TestThrottle_PerAddressAcrossAccounts(t *testing.T) {
	th := auth.NewThrottle(auth.ThrottleOptions{PairFree: 100, AddrFree: 5})
	for i := range 6 {
		if w := attempt(th, fmt.Sprintf("user%d", i), "192.0.2.1", t0, false); w != 0 {
			t.Fatalf("attempt %d refused for %s", i+1, w)
		}
	}
	if w := attempt(th, "someone-else", "192.0.2.1", t0, false); w != time.Second {
		t.Errorf("an address that failed on 6 accounts waits %s for a 7th, want 1s", w)
	}
	// IPv6 addresses count by /64.
	for i := range 6 {
		attempt(th, fmt.Sprintf("user%d", i), fmt.Sprintf("2001:db8::%x", i+1), t0, false)
	}
	if w := attempt(th, "x", "2001:db8::ffff", t0, false); w == 0 {
		t.Error("another address in the same IPv6 /64 was not held back")
	}
}

// A burst of concurrent guesses cannot slip past the budget before the first fails.
func TestThrottle_ConcurrentBurst(t *testing.T) {
	th := auth.NewThrottle(auth.ThrottleOptions{PairFree: 3, AddrFree: 10})
	var mu sync.Mutex
	var dones []func(bool, time.Time)
	refused := 0
	var wg sync.WaitGroup
	for range 1000 {
		wg.Go(func() {
			wait, done := th.Begin("ana", "192.0.2.1", t0)
			mu.Lock()
			defer mu.Unlock()
			if wait > 0 {
				refused++
			} else {
				dones = append(dones, done)
			}
		})
	}
	wg.Wait()
	if len(dones) != 3 || refused != 997 {
		t.Errorf("%d of 1000 concurrent attempts allowed, %d refused; want 3 allowed (the free budget)", len(dones), refused)
	}
	for _, d := range dones {
		d(false, t0)
	}
}

func TestThrottle_AccountUnderAttackIsNeverLocked(t *testing.T) {
	th := auth.NewThrottle(auth.ThrottleOptions{PairFree: 3, AddrFree: 10, AccountSoft: 20})
	for i := range 40 { // a botnet: one guess from each of 40 addresses
		attempt(th, "ana", fmt.Sprintf("203.0.113.%d", i), t0, false)
	}
	// A new address gets one try (no free failures on an account under attack)…
	if w := attempt(th, "ana", "198.51.100.7", t0, false); w != 0 {
		t.Fatalf("a new address waits %s on an account under attack, want one try", w)
	}
	if w := attempt(th, "ana", "198.51.100.7", t0, false); w == 0 {
		t.Error("a second failure from it was not delayed")
	}
	// …and the real user, from yet another address, still signs in.
	if w := attempt(th, "ana", "198.51.100.8", t0, true); w != 0 {
		t.Errorf("the real user waits %s, want 0: the account must never be locked", w)
	}
}

func TestThrottle_StaysBounded(t *testing.T) {
	th := auth.NewThrottle(auth.ThrottleOptions{MaxEntries: 1000})
	for i := range 10_000 {
		attempt(th, fmt.Sprintf("u%d", i), fmt.Sprintf("10.0.%d.%d", i/256, i%256), t0, false)
	}
	if n := th.Len(); n > 1000+3 {
		t.Errorf("throttle holds %d keys, want at most about 1000", n)
	}
}

func TestThrottle_Forgets(t *testing.T) {
	th := auth.NewThrottle(auth.ThrottleOptions{PairFree: 1, AddrFree: 100, Max: time.Minute, Forget: time.Hour})
	for range 5 {
		attempt(th, "ana", "192.0.2.1", t0, false)
	}
	if w := attempt(th, "ana", "192.0.2.1", t0.Add(time.Hour+time.Minute), false); w != 0 {
		t.Errorf("an hour after the last failure the pair still waits %s", w)
	}
}
