package console

import (
	"net/http"
	"slices"

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
}

type settingsView struct {
	Dispositions       []string `json:"dispositions"`
	Tags               []string `json:"tags"`
	MaxSegments        int      `json:"max_segments"`
	Assignment         string   `json:"assignment"`
	CannedPlaceholders []string `json:"canned_placeholders"`
}

// settings: GET /api/v1/settings → {"dispositions","tags","max_segments",
// "assignment","canned_placeholders"}.
func (a *api) settings(c echo.Context) error {
	if _, err := a.caller(c); err != nil {
		return err
	}
	s := a.Settings
	return render(c, http.StatusOK, settingsView{Dispositions: nonNil(s.Dispositions), Tags: nonNil(s.Tags),
		MaxSegments: s.MaxSegments, Assignment: s.Assignment, CannedPlaceholders: hotline.CannedPlaceholders})
}

// checkDisposition refuses a disposition outside the configured list.
func (a *api) checkDisposition(d string) error {
	if d == "" || len(a.Settings.Dispositions) == 0 || slices.Contains(a.Settings.Dispositions, d) {
		return nil
	}
	return hotline.Errorf(hotline.EINVALID, "disposition: %q is not one of the configured dispositions (conversation.dispositions); GET /api/v1/settings lists them.", truncate(d, 40))
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
