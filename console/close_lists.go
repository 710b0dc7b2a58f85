package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

type closeListsBody struct {
	Dispositions []string `json:"dispositions"`
	Tags         []string `json:"tags"`
}

func viewCloseLists(l hotline.CloseLists) closeListsBody {
	return closeListsBody{Dispositions: nonNil(l.Dispositions), Tags: nonNil(l.Tags)}
}

// closeListSettings returns the editable dispositions and tags, or EUNAVAILABLE.
func (a *api) closeListSettings() (*hotline.CloseListSettings, error) {
	if a.Tools.CloseLists == nil {
		return nil, hotline.Errorf(hotline.EUNAVAILABLE, "Dispositions and tags cannot be edited on this server.")
	}
	return a.Tools.CloseLists, nil
}

func renderCloseLists(c echo.Context, v hotline.CloseListsView) error {
	l := viewCloseLists(v.Effective)
	return render(c, http.StatusOK, map[string]any{"dispositions": l.Dispositions, "tags": l.Tags,
		"edited": v.Edited, "configured": viewCloseLists(v.Configured)})
}

// getCloseLists: GET /api/v1/settings/dispositions (coordinators) →
// {"dispositions","tags","edited","configured":{"dispositions","tags"}}.
func (a *api) getCloseLists(c echo.Context) error {
	s, err := a.closeListSettings()
	if err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	v, err := s.Get(c.Request().Context(), caller)
	if err != nil {
		return err
	}
	return renderCloseLists(c, v)
}

// putCloseLists: PUT /api/v1/settings/dispositions (coordinators)
// {"dispositions":[…],"tags":[…]} → as GET: in force at once, audited.
func (a *api) putCloseLists(c echo.Context) error {
	var req closeListsBody
	if err := bind(c, &req); err != nil {
		return err
	}
	s, err := a.closeListSettings()
	if err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	v, err := s.Put(c.Request().Context(), caller, hotline.CloseLists{Dispositions: req.Dispositions, Tags: req.Tags})
	if err != nil {
		return err
	}
	return renderCloseLists(c, v)
}

// resetCloseLists: DELETE /api/v1/settings/dispositions (coordinators) → as GET:
// the configuration's lists are in force again, audited.
func (a *api) resetCloseLists(c echo.Context) error {
	s, err := a.closeListSettings()
	if err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	v, err := s.Reset(c.Request().Context(), caller)
	if err != nil {
		return err
	}
	return renderCloseLists(c, v)
}
