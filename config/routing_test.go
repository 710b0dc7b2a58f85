package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/hotline"
)

func TestValidateRouting(t *testing.T) {
	for _, tt := range []struct {
		name    string
		mod     func(*config.Routing)
		wantKey string // "" for valid
		wantMsg string
	}{
		{"the defaults", func(*config.Routing) {}, "", ""},
		{"pull mode", func(r *config.Routing) { r.Mode = "pull" }, "", ""},
		{"no escalation at all", func(r *config.Routing) { r.EscalateAfter, r.EscalateCoordinatorsAfter = 0, 0 }, "", ""},
		{"coordinators only", func(r *config.Routing) { r.EscalateAfter = 0 }, "", ""},
		{"language ignored", func(r *config.Routing) { r.LanguageFallbackAfter = 0 }, "", ""},
		{"an unknown mode", func(r *config.Routing) { r.Mode = "round-robin" }, "routing.mode", `"round-robin" is not one of offer, pull`},
		{"an offer timeout too short to accept", func(r *config.Routing) { r.OfferTimeout = time.Second }, "routing.offer_timeout", "is not between 10s and 1h0m0s"},
		{"a negative fallback", func(r *config.Routing) { r.LanguageFallbackAfter = -time.Minute }, "routing.language_fallback_after", "is negative"},
		{"coordinators before responders", func(r *config.Routing) { r.EscalateCoordinatorsAfter = 2 * time.Minute }, "routing.escalate_coordinators_after", "is not longer than routing.escalate_after"},
		{"pages every second", func(r *config.Routing) { r.PageInterval = time.Second }, "routing.page_interval", "is less than 1m0s"},
		{"a capacity of 0", func(r *config.Routing) { r.DefaultCapacity = 0 }, "routing.default_capacity", "is not between 1 and 50"},
		{"no sweep", func(r *config.Routing) { r.SweepInterval = 0 }, "routing.sweep_interval", "is not more than 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.mod(&c.Routing)
			err := c.Validate()
			if tt.wantKey == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Key != tt.wantKey || !strings.Contains(ce.Msg, tt.wantMsg) {
				t.Errorf("Validate() = %v, want %s: …%s…", err, tt.wantKey, tt.wantMsg)
			}
		})
	}
}

func TestRoutingFromTheEnvironmentReachesThePolicy(t *testing.T) {
	c, err := config.Load("", []string{"HOTLINE_ROUTING__MODE=pull", "HOTLINE_ROUTING__OFFER_TIMEOUT=45s",
		"HOTLINE_ROUTING__PAGE_COORDINATORS_AFTER_HOURS=false", "HOTLINE_TIMEZONE=America/Chicago"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p := c.Policy().Routing
	if p.Mode != hotline.RoutingPull || p.OfferTimeout != 45*time.Second || p.PageCoordinatorsAfterHours {
		t.Errorf("routing policy = %+v", p)
	}
	if p.Location == nil || p.Location.String() != "America/Chicago" {
		t.Errorf("routing location = %v, want the timezone key", p.Location)
	}
	if def := config.Default().Policy().Routing; def.EscalateAfter != hotline.DefaultEscalateAfter || def.Location != time.UTC {
		t.Errorf("default routing policy = %+v", def)
	}
}
