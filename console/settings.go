package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// Settings are what the console shows and checks that comes from configuration.
type Settings struct {
	// Dispositions are the outcomes a conversation is closed with; when set, the
	// API refuses others.
	Dispositions []string
	// Tags are offered when closing; others are allowed.
	Tags []string
	// MaxSegments is the longest text the hotline sends, in SMS segments: the
	// composer warns past it.
	MaxSegments int
	// Assignment is how conversations reach responders: "pull" (take next),
	// "offer" (offered with a deadline), or "" when not known.
	Assignment string
	// Encrypted says whether the store is encrypted at rest; when not,
	// PlaintextWarning is what coordinators see in a banner.
	Encrypted        bool
	PlaintextWarning string
}

type settingsView struct {
	Dispositions       []string `json:"dispositions"`
	Tags               []string `json:"tags"`
	MaxSegments        int      `json:"max_segments"`
	Assignment         string   `json:"assignment"`
	CannedPlaceholders []string `json:"canned_placeholders"`
	// Encrypted and, when false, EncryptionWarning (for coordinators' banner).
	Encrypted         bool   `json:"encrypted"`
	EncryptionWarning string `json:"encryption_warning,omitempty"`
}

// settings: GET /api/v1/settings → {"dispositions","tags","max_segments",
// "assignment","canned_placeholders","encrypted","encryption_warning"}: the
// dispositions and tags in force now (as coordinators edited them, else from
// configuration); whether the store is encrypted at rest, and when it is not the
// warning the console shows coordinators.
func (a *api) settings(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	s := a.Settings
	l := a.closeLists()
	v := settingsView{Dispositions: nonNil(l.Dispositions), Tags: nonNil(l.Tags),
		MaxSegments: s.MaxSegments, Assignment: s.Assignment, CannedPlaceholders: hotline.CannedPlaceholders, Encrypted: s.Encrypted}
	if !s.Encrypted && caller.User.IsCoordinator() {
		v.EncryptionWarning = s.PlaintextWarning
	}
	return render(c, http.StatusOK, v)
}

// closeLists returns the dispositions and tags in force: edited by coordinators
// (Tools.CloseLists), else Settings'.
func (a *api) closeLists() hotline.CloseLists {
	if a.Tools.CloseLists != nil {
		return a.Tools.CloseLists.Current()
	}
	return hotline.CloseLists{Dispositions: a.Settings.Dispositions, Tags: a.Settings.Tags}
}

// checkDisposition refuses a disposition outside the list in force, naming where it
// comes from (closing checks it again in its transaction).
func (a *api) checkDisposition(d string) error {
	if l := a.closeLists(); l.AllowsDisposition(d) {
		return nil
	}
	return hotline.Errorf(hotline.EINVALID, "disposition: %q is not one of the hotline's dispositions (coordinators edit them on the Dispositions and tags page; conversation.dispositions in the configuration); GET /api/v1/settings lists them.", truncate(d, 40))
}

type memberView struct {
	ID           string   `json:"id"`
	Username     string   `json:"username"`
	DisplayName  string   `json:"display_name"`
	Role         string   `json:"role"`
	Languages    []string `json:"languages"`
	Availability string   `json:"availability"`
}

// team: GET /api/v1/team → {"members":[{"id","username","display_name","role",
// "languages","availability"}]}: the enabled users, for names in threads and
// transfers. No phone numbers.
func (a *api) team(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	users, err := a.Accounts.Team(c.Request().Context(), caller)
	if err != nil {
		return err
	}
	out := make([]memberView, len(users))
	for i, u := range users {
		av := string(u.Availability)
		if av == "" {
			av = string(hotline.AvailabilityOffline)
		}
		out[i] = memberView{ID: u.ID.String(), Username: u.Username, DisplayName: u.DisplayName, Role: string(u.Role),
			Languages: nonNil(u.Languages), Availability: av}
	}
	return render(c, http.StatusOK, map[string]any{"members": out})
}
