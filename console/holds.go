package console

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

type holdView struct {
	ID          string     `json:"id"`
	Handle      string     `json:"handle"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ClosedAt    *time.Time `json:"closed_at"`
	Disposition string     `json:"disposition"`
}

// holds: GET /api/v1/holds (coordinators) → {"holds":[{"id","handle","state",
// "created_at","closed_at","disposition"}]}: the conversations under a legal hold,
// oldest first (at most 1,000). No message is read, so it is not audited.
func (a *api) holds(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	if a.Tools.Retention == nil {
		return hotline.Errorf(hotline.EUNAVAILABLE, "Retention is not available on this server.")
	}
	list, err := a.Tools.Retention.Holds(c.Request().Context(), caller)
	if err != nil {
		return err
	}
	out := make([]holdView, len(list))
	for i, conv := range list {
		out[i] = holdView{ID: conv.ID.String(), Handle: conv.Handle, State: string(conv.State), CreatedAt: conv.CreatedAt.UTC(),
			ClosedAt: optionalTime(conv.ClosedAt), Disposition: conv.Disposition}
	}
	return render(c, http.StatusOK, map[string]any{"holds": out})
}
