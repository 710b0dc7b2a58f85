package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// Routing and schedules: who answers, who is on call, the shifts, "take next".

func (a *api) routing() (*hotline.Router, *hotline.Roster, error) {
	if a.Router == nil || a.Roster == nil {
		return nil, nil, hotline.Errorf(hotline.EUNAVAILABLE, "Routing is not enabled on this server.")
	}
	return a.Router, a.Roster, nil
}

type routingView struct {
	Mode                             string `json:"mode"`
	OfferTimeoutSeconds              int    `json:"offer_timeout_seconds"`
	LanguageFallbackAfterSeconds     int    `json:"language_fallback_after_seconds"`
	EscalateAfterSeconds             int    `json:"escalate_after_seconds"`
	EscalateCoordinatorsAfterSeconds int    `json:"escalate_coordinators_after_seconds"`
	Timezone                         string `json:"timezone"`
}

// routingInfo: GET /api/v1/routing → {"mode","offer_timeout_seconds",
// "language_fallback_after_seconds","escalate_after_seconds",
// "escalate_coordinators_after_seconds","timezone"}.
func (a *api) routingInfo(c echo.Context) error {
	if _, err := a.caller(c); err != nil {
		return err
	}
	router, roster, err := a.routing()
	if err != nil {
		return err
	}
	p := router.Policy()
	return render(c, http.StatusOK, routingView{Mode: string(p.Mode), OfferTimeoutSeconds: int(p.OfferTimeout / time.Second),
		LanguageFallbackAfterSeconds: int(p.LanguageFallbackAfter / time.Second), EscalateAfterSeconds: int(p.EscalateAfter / time.Second),
		EscalateCoordinatorsAfterSeconds: int(p.EscalateCoordinatorsAfter / time.Second), Timezone: roster.Location().String()})
}

// takeNext: POST /api/v1/queue/next → 200 {"conversation"}: the top of the queue
// the caller may take, now theirs; 404 when nobody waits; 409 saying why the caller
// may take none of those waiting.
func (a *api) takeNext(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	router, _, err := a.routing()
	if err != nil {
		return err
	}
	conv, err := router.TakeNext(c.Request().Context(), caller)
	if err != nil {
		return err
	}
	return a.renderAfter(c, caller, conv.ID)
}

type responderView struct {
	ID             string     `json:"id"`
	Username       string     `json:"username"`
	DisplayName    string     `json:"display_name"`
	Role           string     `json:"role"`
	Languages      []string   `json:"languages"`
	Capacity       int        `json:"capacity"`
	Availability   string     `json:"availability"`
	OnCall         bool       `json:"on_call"`
	OpenCount      int        `json:"open_conversations"`
	OfferPending   bool       `json:"offer_pending"`
	LastAssignedAt *time.Time `json:"last_assigned_at"`
	Phone          *string    `json:"phone,omitempty"` // only to coordinators and the user themself
	HasPhone       bool       `json:"has_phone"`
}

func viewResponder(s hotline.ResponderStatus, viewer hotline.User) responderView {
	u := s.User
	v := responderView{ID: u.ID.String(), Username: u.Username, DisplayName: u.DisplayName, Role: string(u.Role),
		Languages: nonNil(u.Languages), Capacity: u.Capacity, Availability: string(u.Availability), OnCall: s.OnCall,
		OpenCount: s.Open, OfferPending: s.OfferPending, LastAssignedAt: optionalTime(u.LastAssignedAt), HasPhone: u.Phone != ""}
	if v.Availability == "" {
		v.Availability = string(hotline.AvailabilityOffline)
	}
	if viewer.IsCoordinator() || viewer.ID == u.ID {
		p := string(u.Phone)
		v.Phone = &p
	}
	return v
}

func viewResponders(list []hotline.ResponderStatus, viewer hotline.User) []responderView {
	out := make([]responderView, len(list))
	for i, s := range list {
		out[i] = viewResponder(s, viewer)
	}
	return out
}

// listResponders: GET /api/v1/responders → {"responders":[{"id","username",
// "display_name","role","languages","capacity","availability","on_call",
// "open_conversations","offer_pending","last_assigned_at","has_phone","phone"?}]}:
// everyone who answers texters; phones only to coordinators (and one's own).
func (a *api) listResponders(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	_, roster, err := a.routing()
	if err != nil {
		return err
	}
	list, err := roster.Responders(c.Request().Context(), caller)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]any{"responders": viewResponders(list, caller.User)})
}

type closureView struct {
	ID     string    `json:"id"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Reason string    `json:"reason"`
}

func viewClosure(cl hotline.Closure) closureView {
	return closureView{ID: cl.ID.String(), Start: cl.Start.UTC(), End: cl.End.UTC(), Reason: cl.Reason}
}

// onCall: GET /api/v1/oncall?at=RFC3339 (default now) → {"at","staffed",
// "schedule_set","closure","responders":[…]}: who is on call then.
func (a *api) onCall(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	_, roster, err := a.routing()
	if err != nil {
		return err
	}
	at := a.Accounts.Clock().Now()
	if s := c.QueryParam("at"); s != "" {
		if at, err = time.Parse(time.RFC3339, s); err != nil {
			return hotline.Errorf(hotline.EINVALID, "at: write an RFC 3339 time, like 2026-03-08T21:30:00-05:00.")
		}
	}
	rep, err := roster.OnCall(c.Request().Context(), caller, at)
	if err != nil {
		return err
	}
	var closure *closureView
	if rep.Closure != nil {
		v := viewClosure(*rep.Closure)
		closure = &v
	}
	return render(c, http.StatusOK, map[string]any{"at": rep.At.UTC(), "staffed": rep.Staffed, "schedule_set": rep.ScheduleSet,
		"closure": closure, "responders": viewResponders(rep.Responders, caller.User)})
}

type rotationView struct {
	ID          string     `json:"id"`
	ResponderID string     `json:"responder_id"`
	Weekdays    []string   `json:"weekdays"`
	Start       string     `json:"start"`
	End         string     `json:"end"`
	From        *time.Time `json:"from"`
	Until       *time.Time `json:"until"`
}

var weekdayCodes = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseWeekday reads "mon" or "Monday", in any case.
func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, code := range weekdayCodes {
		if s == code || s == strings.ToLower(time.Weekday(i).String()) {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

func viewRotation(r hotline.Rotation) rotationView {
	days := make([]string, len(r.Weekdays))
	for i, d := range r.Weekdays {
		days[i] = weekdayCodes[d]
	}
	return rotationView{ID: r.ID.String(), ResponderID: r.ResponderID.String(), Weekdays: days, Start: r.Start.String(),
		End: r.End.String(), From: optionalTime(r.From), Until: optionalTime(r.Until)}
}

type overrideView struct {
	ID          string    `json:"id"`
	ResponderID string    `json:"responder_id"`
	Kind        string    `json:"kind"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Note        string    `json:"note"`
}

func viewOverride(o hotline.Override) overrideView {
	return overrideView{ID: o.ID.String(), ResponderID: o.ResponderID.String(), Kind: string(o.Kind), Start: o.Start.UTC(),
		End: o.End.UTC(), Note: o.Note}
}

// listShifts: GET /api/v1/shifts?from=RFC3339 → {"timezone","rotations":[…],
// "overrides":[…],"closures":[…]}; with from, only overrides and closures that end
// after it.
func (a *api) listShifts(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	_, roster, err := a.routing()
	if err != nil {
		return err
	}
	var from time.Time
	if s := c.QueryParam("from"); s != "" {
		if from, err = time.Parse(time.RFC3339, s); err != nil {
			return hotline.Errorf(hotline.EINVALID, "from: write an RFC 3339 time, like 2026-03-01T00:00:00Z.")
		}
	}
	s, err := roster.Schedule(c.Request().Context(), caller)
	if err != nil {
		return err
	}
	rots, ovs, cls := []rotationView{}, []overrideView{}, []closureView{}
	for _, r := range s.Rotations {
		rots = append(rots, viewRotation(r))
	}
	for _, o := range s.Overrides {
		if from.IsZero() || o.End.After(from) {
			ovs = append(ovs, viewOverride(o))
		}
	}
	for _, cl := range s.Closures {
		if from.IsZero() || cl.End.After(from) {
			cls = append(cls, viewClosure(cl))
		}
	}
	return render(c, http.StatusOK, map[string]any{"timezone": roster.Location().String(), "rotations": rots, "overrides": ovs, "closures": cls})
}

// parseInstant reads an RFC 3339 time for field.
func parseInstant(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, hotline.Errorf(hotline.EINVALID, "%s: write an RFC 3339 time, like 2026-03-08T18:00:00-05:00.", field)
	}
	return t, nil
}

// parseDay reads a rotation bound: a date (midnight in the hotline's zone) or an RFC
// 3339 time; "" or null is no bound.
func parseDay(field string, s *string, loc *time.Location) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, *s, loc); err == nil {
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return t, hotline.Errorf(hotline.EINVALID, "%s: write a date like 2026-03-01 (midnight in the hotline's time zone) or an RFC 3339 time.", field)
	}
	return t, nil
}

func parseUserID(field, s string) (hotline.ID, error) {
	id, err := hotline.ParseID(s)
	if err != nil {
		return id, hotline.Errorf(hotline.EINVALID, "%s: %s", field, hotline.ErrorMessage(err))
	}
	return id, nil
}

type rotationRequest struct {
	ResponderID string   `json:"responder_id"`
	Weekdays    []string `json:"weekdays"`
	Start       string   `json:"start"`
	End         string   `json:"end"`
	From        *string  `json:"from"`
	Until       *string  `json:"until"`
}

func (req rotationRequest) rotation(loc *time.Location) (hotline.Rotation, error) {
	var r hotline.Rotation
	var err error
	if r.ResponderID, err = parseUserID("responder_id", req.ResponderID); err != nil {
		return r, err
	}
	for _, d := range req.Weekdays {
		day, ok := parseWeekday(d)
		if !ok {
			return r, hotline.Errorf(hotline.EINVALID, "weekdays: %q is not a weekday; write mon, tue, wed, thu, fri, sat or sun.", truncate(d, 20))
		}
		r.Weekdays = append(r.Weekdays, day)
	}
	if r.Start, err = hotline.ParseClockTime(req.Start); err != nil {
		return r, hotline.Errorf(hotline.EINVALID, "start: %s", hotline.ErrorMessage(err))
	}
	if r.End, err = hotline.ParseClockTime(req.End); err != nil {
		return r, hotline.Errorf(hotline.EINVALID, "end: %s", hotline.ErrorMessage(err))
	}
	if r.From, err = parseDay("from", req.From, loc); err != nil {
		return r, err
	}
	r.Until, err = parseDay("until", req.Until, loc)
	return r, err
}

// createRotation: POST /api/v1/shifts/rotations (coordinators) {"responder_id",
// "weekdays":["mon",…],"start":"18:00","end":"02:00","from"?,"until"?} → 201
// {"rotation"}. An end at or before the start ends the next day.
func (a *api) createRotation(c echo.Context) error {
	var req rotationRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	_, roster, err := a.routing()
	if err != nil {
		return err
	}
	r, err := req.rotation(roster.Location())
	if err != nil {
		return err
	}
	if r, err = roster.CreateRotation(c.Request().Context(), caller, r); err != nil {
		return err
	}
	return render(c, http.StatusCreated, map[string]any{"rotation": viewRotation(r)})
}

// updateRotation: PUT /api/v1/shifts/rotations/{id} (coordinators), the whole
// rotation as for POST → {"rotation"}.
func (a *api) updateRotation(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req rotationRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	_, roster, err := a.routing()
	if err != nil {
		return err
	}
	r, err := req.rotation(roster.Location())
	if err != nil {
		return err
	}
	r.ID = id
	if r, err = roster.UpdateRotation(c.Request().Context(), caller, r); err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]any{"rotation": viewRotation(r)})
}

// deleteScheduled runs a delete of a rotation, override or closure: 204.
func (a *api) deleteScheduled(c echo.Context, del func(*hotline.Roster, hotline.Caller, hotline.ID) error) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	_, roster, err := a.routing()
	if err != nil {
		return err
	}
	if err := del(roster, caller, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// deleteRotation: DELETE /api/v1/shifts/rotations/{id} (coordinators) → 204.
func (a *api) deleteRotation(c echo.Context) error {
	return a.deleteScheduled(c, func(r *hotline.Roster, caller hotline.Caller, id hotline.ID) error {
		return r.DeleteRotation(c.Request().Context(), caller, id)
	})
}

// deleteOverride: DELETE /api/v1/shifts/overrides/{id} (coordinators) → 204.
func (a *api) deleteOverride(c echo.Context) error {
	return a.deleteScheduled(c, func(r *hotline.Roster, caller hotline.Caller, id hotline.ID) error {
		return r.DeleteOverride(c.Request().Context(), caller, id)
	})
}

// deleteClosure: DELETE /api/v1/shifts/closures/{id} (coordinators) → 204.
func (a *api) deleteClosure(c echo.Context) error {
	return a.deleteScheduled(c, func(r *hotline.Roster, caller hotline.Caller, id hotline.ID) error {
		return r.DeleteClosure(c.Request().Context(), caller, id)
	})
}

type overrideRequest struct {
	ResponderID string `json:"responder_id"`
	Kind        string `json:"kind"`
	Start       string `json:"start"`
	End         string `json:"end"`
	Note        string `json:"note"`
}

func (req overrideRequest) override() (hotline.Override, error) {
	o := hotline.Override{Kind: hotline.OverrideKind(req.Kind), Note: req.Note}
	var err error
	if o.ResponderID, err = parseUserID("responder_id", req.ResponderID); err != nil {
		return o, err
	}
	if o.Kind != hotline.OverrideCover && o.Kind != hotline.OverrideOff {
		return o, hotline.Errorf(hotline.EINVALID, "kind: write cover (on call in the window) or off (not on call in it).")
	}
	if o.Start, err = parseInstant("start", req.Start); err != nil {
		return o, err
	}
	o.End, err = parseInstant("end", req.End)
	return o, err
}

func (a *api) addOverride(c echo.Context, req overrideRequest, key string) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	_, roster, err := a.routing()
	if err != nil {
		return err
	}
	o, err := req.override()
	if err != nil {
		return err
	}
	if o, err = roster.CreateOverride(c.Request().Context(), caller, o); err != nil {
		return err
	}
	return render(c, http.StatusCreated, map[string]any{key: viewOverride(o)})
}

// createOverride: POST /api/v1/shifts/overrides (coordinators) {"responder_id",
// "kind":"cover"|"off","start","end","note"?} (RFC 3339) → 201 {"override"}.
func (a *api) createOverride(c echo.Context) error {
	var req overrideRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	return a.addOverride(c, req, "override")
}

type shiftRequest struct {
	ResponderID string `json:"responder_id"`
	Start       string `json:"start"`
	End         string `json:"end"`
	Note        string `json:"note"`
}

// createShift: POST /api/v1/shifts (coordinators) {"responder_id","start","end",
// "note"?} (RFC 3339) → 201 {"shift"}: a one-off shift, which is a cover override.
func (a *api) createShift(c echo.Context) error {
	var req shiftRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	return a.addOverride(c, overrideRequest{ResponderID: req.ResponderID, Kind: string(hotline.OverrideCover),
		Start: req.Start, End: req.End, Note: req.Note}, "shift")
}

type closureRequest struct {
	Start  string `json:"start"`
	End    string `json:"end"`
	Reason string `json:"reason"`
}

// createClosure: POST /api/v1/shifts/closures (coordinators) {"start","end",
// "reason"?} (RFC 3339) → 201 {"closure"}: nobody is on call in the window.
func (a *api) createClosure(c echo.Context) error {
	var req closureRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	_, roster, err := a.routing()
	if err != nil {
		return err
	}
	cl := hotline.Closure{Reason: req.Reason}
	if cl.Start, err = parseInstant("start", req.Start); err != nil {
		return err
	}
	if cl.End, err = parseInstant("end", req.End); err != nil {
		return err
	}
	if cl, err = roster.CreateClosure(c.Request().Context(), caller, cl); err != nil {
		return err
	}
	return render(c, http.StatusCreated, map[string]any{"closure": viewClosure(cl)})
}

type pageView struct {
	ID             string    `json:"id"`
	UserID         string    `json:"user_id"`
	ConversationID *string   `json:"conversation_id"`
	Audience       string    `json:"audience"`
	AfterHours     bool      `json:"after_hours"`
	Waiting        int       `json:"waiting"`
	Urgent         int       `json:"urgent"`
	Body           string    `json:"body"`
	CreatedAt      time.Time `json:"created_at"`
}

// listPages: GET /api/v1/pages?before=&limit= (coordinators) → {"pages":[…],
// "next_before"}: the pages sent to responders' and coordinators' phones, newest
// first.
func (a *api) listPages(c echo.Context) error {
	var before hotline.ID
	if s := c.QueryParam("before"); s != "" {
		var err error
		if before, err = hotline.ParseID(s); err != nil {
			return hotline.Errorf(hotline.EINVALID, "before: %s", hotline.ErrorMessage(err))
		}
	}
	limit, err := intParam(c, "limit", 100, 1, 500)
	if err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	_, roster, err := a.routing()
	if err != nil {
		return err
	}
	pages, err := roster.Pages(c.Request().Context(), caller, before, limit)
	if err != nil {
		return err
	}
	out := make([]pageView, len(pages))
	for i, p := range pages {
		out[i] = pageView{ID: p.ID.String(), UserID: p.UserID.String(), ConversationID: optionalID(p.ConversationID),
			Audience: string(p.Audience), AfterHours: p.AfterHours, Waiting: p.Waiting, Urgent: p.Urgent, Body: p.Body,
			CreatedAt: p.CreatedAt.UTC()}
	}
	var next *string
	if len(pages) == limit {
		next = optionalID(pages[len(pages)-1].ID)
	}
	return render(c, http.StatusOK, map[string]any{"pages": out, "next_before": next})
}
