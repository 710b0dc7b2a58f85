package console

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

type cannedView struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Language  string    `json:"language"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewCanned(c hotline.CannedResponse) cannedView {
	return cannedView{ID: c.ID.String(), Title: c.Title, Body: c.Body, Language: c.Language,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

// cannedResponses returns the canned responses use cases, or EUNAVAILABLE.
func (a *api) cannedResponses() (*hotline.CannedResponses, error) {
	if a.Canned == nil {
		return nil, hotline.Errorf(hotline.EUNAVAILABLE, "Canned responses are not enabled on this server.")
	}
	return a.Canned, nil
}

// listCanned: GET /api/v1/canned-responses → {"canned_responses":[…]}, by title.
func (a *api) listCanned(c echo.Context) error {
	canned, err := a.cannedResponses()
	if err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	list, err := canned.List(c.Request().Context(), caller)
	if err != nil {
		return err
	}
	out := make([]cannedView, len(list))
	for i, cr := range list {
		out[i] = viewCanned(cr)
	}
	return render(c, http.StatusOK, map[string]any{"canned_responses": out})
}

type cannedRequest struct {
	Title    *string `json:"title"`
	Body     *string `json:"body"`
	Language *string `json:"language"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// createCanned: POST /api/v1/canned-responses (coordinators) {"title","body",
// "language"?} → 201 {"canned_response"}.
func (a *api) createCanned(c echo.Context) error {
	canned, err := a.cannedResponses()
	if err != nil {
		return err
	}
	var req cannedRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	cr, err := canned.Create(c.Request().Context(), caller, hotline.CannedDraft{Title: deref(req.Title), Body: deref(req.Body), Language: deref(req.Language)})
	if err != nil {
		return err
	}
	return render(c, http.StatusCreated, map[string]any{"canned_response": viewCanned(cr)})
}

// updateCanned: PATCH /api/v1/canned-responses/{id} (coordinators) any of
// {"title","body","language"} → {"canned_response"}.
func (a *api) updateCanned(c echo.Context) error {
	canned, err := a.cannedResponses()
	if err != nil {
		return err
	}
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req cannedRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	cr, err := canned.Update(c.Request().Context(), caller, id, hotline.CannedPatch{Title: req.Title, Body: req.Body, Language: req.Language})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]any{"canned_response": viewCanned(cr)})
}

// deleteCanned: DELETE /api/v1/canned-responses/{id} (coordinators) → 204.
func (a *api) deleteCanned(c echo.Context) error {
	canned, err := a.cannedResponses()
	if err != nil {
		return err
	}
	id, err := idParam(c)
	if err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	if err := canned.Delete(c.Request().Context(), caller, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
