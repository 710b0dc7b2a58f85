package console

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// listUsers: GET /api/v1/users (coordinators) → {"users":[…]}, oldest first.
func (a *api) listUsers(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	users, err := a.Accounts.ListUsers(c.Request().Context(), caller)
	if err != nil {
		return err
	}
	out := make([]userView, len(users))
	for i, u := range users {
		out[i] = viewUser(u, caller.User)
	}
	return render(c, http.StatusOK, map[string]any{"users": out})
}

type createUserRequest struct {
	Username    string   `json:"username"`
	Password    string   `json:"password"`
	Role        string   `json:"role"`
	DisplayName string   `json:"display_name"`
	Languages   []string `json:"languages"`
	Capacity    *int     `json:"capacity"`
	Phone       string   `json:"phone"`
}

// createUser: POST /api/v1/users (coordinators) {"username","password","role",
// "display_name","languages","capacity","phone"} → 201 {"user"}.
func (a *api) createUser(c echo.Context) error {
	var req createUserRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	u, err := a.Accounts.CreateUser(c.Request().Context(), caller, hotline.NewUser{Username: req.Username, Password: req.Password,
		Role: hotline.Role(req.Role), DisplayName: req.DisplayName, Languages: req.Languages, Capacity: req.Capacity, Phone: req.Phone})
	if err != nil {
		return err
	}
	return render(c, http.StatusCreated, map[string]any{"user": viewUser(u, caller.User)})
}

// getUser: GET /api/v1/users/{id} (coordinators, or the user themself) → {"user"}.
func (a *api) getUser(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	u, err := a.Accounts.User(c.Request().Context(), caller, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]any{"user": viewUser(u, caller.User)})
}

type updateUserRequest struct {
	DisplayName *string   `json:"display_name"`
	Role        *string   `json:"role"`
	Languages   *[]string `json:"languages"`
	Capacity    *int      `json:"capacity"`
	Phone       *string   `json:"phone"`
	Disabled    *bool     `json:"disabled"`
}

// updateUser: PATCH /api/v1/users/{id} (coordinators) with any of "display_name",
// "role", "languages", "capacity", "phone" ("" removes it), "disabled" → {"user"}.
func (a *api) updateUser(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req updateUserRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	p := hotline.UserPatch{DisplayName: req.DisplayName, Languages: req.Languages, Capacity: req.Capacity,
		Phone: req.Phone, Disabled: req.Disabled}
	if req.Role != nil {
		r := hotline.Role(*req.Role)
		p.Role = &r
	}
	u, err := a.Accounts.UpdateUser(c.Request().Context(), caller, id, p)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]any{"user": viewUser(u, caller.User)})
}

type passwordRequest struct {
	Password        string `json:"password"`
	CurrentPassword string `json:"current_password"`
}

// setPassword: POST /api/v1/users/{id}/password {"password","current_password"?} →
// 204. Coordinators reset anyone's (their sessions end); users change their own with
// the current password (their other sessions end).
func (a *api) setPassword(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req passwordRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	if err := a.Accounts.ResetPassword(c.Request().Context(), caller, id, req.Password, req.CurrentPassword); err != nil {
		return withRetryAfter(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// listAudit: GET /api/v1/audit?before=ID&limit=N (coordinators) → {"entries":[…],
// "next_before"}: newest first; pass next_before as before for the next page (null
// on the last).
func (a *api) listAudit(c echo.Context) error {
	var before hotline.ID
	if s := c.QueryParam("before"); s != "" {
		var err error
		if before, err = hotline.ParseID(s); err != nil {
			return hotline.Errorf(hotline.EINVALID, "before: %s", hotline.ErrorMessage(err))
		}
	}
	limit, err := intParam(c, "limit", 100, 1, hotline.MaxAuditPage)
	if err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	entries, err := a.Accounts.AuditLog(c.Request().Context(), caller, before, limit)
	if err != nil {
		return err
	}
	out := make([]auditView, len(entries))
	for i, e := range entries {
		out[i] = viewAudit(e)
	}
	var next *string
	if len(entries) == limit {
		next = optionalID(entries[len(entries)-1].ID)
	}
	return render(c, http.StatusOK, map[string]any{"entries": out, "next_before": next})
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(c echo.Context, name string, def, lo, hi int) (int, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, hotline.Errorf(hotline.EINVALID, "%s: a whole number from %d to %d.", name, lo, hi)
	}
	return n, nil
}
