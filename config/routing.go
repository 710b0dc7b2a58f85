package config

import (
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// Routing is how waiting texters reach responders, and who is paged when they wait
// too long (see hotline.RoutingPolicy).
type Routing struct {
	// Mode is offer (the hotline offers each conversation to the responder the
	// policy picks, who accepts it within OfferTimeout or it goes to the next) or
	// pull (responders take the top of the queue with "take next").
	Mode string `yaml:"mode"`
	// OfferTimeout is how long an offer waits to be accepted.
	OfferTimeout time.Duration `yaml:"offer_timeout"`
	// LanguageFallbackAfter is how long a texter waits for a speaker of their
	// language before anyone may answer; 0 ignores language.
	LanguageFallbackAfter time.Duration `yaml:"language_fallback_after"`
	// EscalateAfter pages the on-call responders' phones about a texter waiting this
	// long; 0 never does.
	EscalateAfter time.Duration `yaml:"escalate_after"`
	// EscalateCoordinatorsAfter pages the coordinators' phones about a texter waiting
	// this long; 0 never does.
	EscalateCoordinatorsAfter time.Duration `yaml:"escalate_coordinators_after"`
	// PageInterval is the least time between two pages to one person.
	PageInterval time.Duration `yaml:"page_interval"`
	// PageCoordinatorsAfterHours pages the coordinators when a texter writes while
	// nobody is on call.
	PageCoordinatorsAfterHours bool `yaml:"page_coordinators_after_hours"`
	// DefaultCapacity is how many conversations at once a new user takes, unless
	// set when the user is created.
	DefaultCapacity int `yaml:"default_capacity"`
	// SweepInterval is how often the router looks at the queue when nothing wakes
	// it (a shift that starts is noticed this way).
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

// Routing modes.
const (
	RoutingOffer = string(hotline.RoutingOffer)
	RoutingPull  = string(hotline.RoutingPull)
)

// Limits that Validate enforces on routing.
const (
	MinOfferTimeout  = 10 * time.Second // a person needs time to see and accept an offer
	MaxOfferTimeout  = time.Hour
	MinPageInterval  = time.Minute
	MaxSweepInterval = 5 * time.Minute
)

// DefaultRouting returns the routing used when nothing is set.
func DefaultRouting() Routing {
	p := hotline.DefaultRoutingPolicy()
	return Routing{
		Mode:                       string(p.Mode),
		OfferTimeout:               p.OfferTimeout,
		LanguageFallbackAfter:      p.LanguageFallbackAfter,
		EscalateAfter:              p.EscalateAfter,
		EscalateCoordinatorsAfter:  p.EscalateCoordinatorsAfter,
		PageInterval:               p.PageInterval,
		PageCoordinatorsAfterHours: p.PageCoordinatorsAfterHours,
		DefaultCapacity:            hotline.DefaultCapacity,
		SweepInterval:              15 * time.Second,
	}
}

// policy returns the routing policy in the hotline's time zone.
func (r Routing) policy(loc *time.Location) hotline.RoutingPolicy {
	return hotline.RoutingPolicy{
		Mode:                       hotline.RoutingMode(r.Mode),
		OfferTimeout:               r.OfferTimeout,
		LanguageFallbackAfter:      r.LanguageFallbackAfter,
		EscalateAfter:              r.EscalateAfter,
		EscalateCoordinatorsAfter:  r.EscalateCoordinatorsAfter,
		PageInterval:               r.PageInterval,
		PageCoordinatorsAfterHours: r.PageCoordinatorsAfterHours,
		Location:                   loc,
	}
}

// validateRouting checks the routing keys.
func (c Config) validateRouting(p *problems) {
	r := c.Routing
	p.oneOf("routing.mode", r.Mode, []string{RoutingOffer, RoutingPull})
	if r.OfferTimeout < MinOfferTimeout || r.OfferTimeout > MaxOfferTimeout {
		p.add("routing.offer_timeout", "%s is not between %s and %s; a minute gives a responder time to see and accept an offer", r.OfferTimeout, MinOfferTimeout, MaxOfferTimeout)
	}
	for _, f := range []struct {
		key string
		d   time.Duration
	}{
		{"routing.language_fallback_after", r.LanguageFallbackAfter},
		{"routing.escalate_after", r.EscalateAfter},
		{"routing.escalate_coordinators_after", r.EscalateCoordinatorsAfter},
	} {
		if f.d < 0 {
			p.add(f.key, "%s is negative; write 0 to turn it off, or a duration like 5m", f.d)
		}
	}
	if r.EscalateAfter > 0 && r.EscalateCoordinatorsAfter > 0 && r.EscalateCoordinatorsAfter <= r.EscalateAfter {
		p.add("routing.escalate_coordinators_after", "%s is not longer than routing.escalate_after (%s); coordinators are paged after the on-call responders, so make it longer, like 15m", r.EscalateCoordinatorsAfter, r.EscalateAfter)
	}
	if r.PageInterval < MinPageInterval {
		p.add("routing.page_interval", "%s is less than %s; pages summarise everyone waiting, so one every 10m or so is enough", r.PageInterval, MinPageInterval)
	}
	if r.DefaultCapacity < 1 || r.DefaultCapacity > hotline.MaxCapacity {
		p.add("routing.default_capacity", "%d is not between 1 and %d conversations at once", r.DefaultCapacity, hotline.MaxCapacity)
	}
	if r.SweepInterval <= 0 || r.SweepInterval > MaxSweepInterval {
		p.add("routing.sweep_interval", "%s is not more than 0 and at most %s; 15s notices a shift that starts within seconds", r.SweepInterval, MaxSweepInterval)
	}
}
