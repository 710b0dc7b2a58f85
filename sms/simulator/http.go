package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// Router is where the simulator's routes go: an *echo.Echo or an *echo.Group.
type Router interface {
	GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

var (
	_ Router = (*echo.Echo)(nil)
	_ Router = (*echo.Group)(nil)
)

// Register adds the simulator's page and API to r:
//
//	GET  /simulator                 the page
//	GET  /simulator/app.js, app.css its assets
//	POST /simulator/messages        {"from","body","sid"?} → {"sid","conversation_id","duplicate"}
//	GET  /simulator/events?number=  server-sent events: the phone's history, then live texts and statuses
//	GET  /simulator/mode            → {"mode"}
//	POST /simulator/mode            {"mode"} → {"mode"}
//
// Errors are hotline domain errors, for the server's error handler to render.
func (s *Simulator) Register(r Router) {
	r.GET("/simulator", s.page)
	r.GET("/simulator/app.js", asset("app.js"))
	r.GET("/simulator/app.css", asset("app.css"))
	r.POST("/simulator/messages", s.postMessage)
	r.GET("/simulator/events", s.events)
	r.GET("/simulator/mode", s.getMode)
	r.POST("/simulator/mode", s.postMode)
}

// maxRequestBytes bounds a JSON request: a 1,600-character text is at most 6.4 kB.
const maxRequestBytes = 32 << 10

// MessageRequest is the body of POST /simulator/messages.
type MessageRequest struct {
	From string `json:"from"`
	Body string `json:"body"`
	// SID is the MessageSid to use; empty makes a new one. Sending the same SID twice
	// shows the hotline's dedupe.
	SID string `json:"sid,omitempty"`
}

// MessageResponse is the answer to POST /simulator/messages.
type MessageResponse struct {
	SID            string `json:"sid"`
	ConversationID string `json:"conversation_id"`
	Duplicate      bool   `json:"duplicate"`
}

// ModeBody is the body and answer of /simulator/mode.
type ModeBody struct {
	Mode Mode `json:"mode"`
}

func (s *Simulator) postMessage(c echo.Context) error {
	var req MessageRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	from, err := hotline.NormalizeAddress(req.From, "US")
	if err != nil {
		return err
	}
	if req.SID == "" {
		req.SID = NewSID()
	}
	in := hotline.InboundMessage{SID: req.SID, From: from, To: s.opts.Number, Body: req.Body, Segments: hotline.Segments(req.Body)}
	res, err := s.receive(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, MessageResponse{SID: req.SID, ConversationID: res.ConversationID.String(), Duplicate: res.Duplicate})
}

// receive hands a text from the page to the hotline and, unless it is a repeat, adds
// it to the phone's history before any reply can be sent (see Simulator.order).
func (s *Simulator) receive(ctx context.Context, in hotline.InboundMessage) (hotline.InboundResult, error) {
	s.order.RLock()
	defer s.order.RUnlock()
	res, err := s.inbound.ReceiveInbound(ctx, in)
	if err != nil || res.Duplicate {
		return res, err
	}
	s.mu.Lock()
	s.phones.add(in.From, Event{Type: EventMessage, SID: in.SID, Direction: DirectionFromPhone, Body: in.Body,
		Status: hotline.StatusReceived, At: time.Now().UTC()})
	s.mu.Unlock()
	return res, nil
}

// events streams a phone's texts as server-sent events: its history first, then what
// happens live, until the client leaves or the simulator closes.
func (s *Simulator) events(c echo.Context) error {
	number, err := hotline.NormalizeAddress(c.QueryParam("number"), "US")
	if err != nil {
		return err
	}
	if s.ctx.Err() != nil {
		return hotline.Errorf(hotline.EUNAVAILABLE, "The simulator is shutting down.")
	}
	s.mu.Lock()
	history, sub := s.phones.subscribe(number)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.phones.unsubscribe(number, sub)
		s.mu.Unlock()
	}()

	w := c.Response()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 2000\n\n"); err != nil {
		return nil
	}
	for _, ev := range history {
		if writeEvent(w, ev) != nil {
			return nil
		}
	}
	if rc.Flush() != nil {
		return nil
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-c.Request().Context().Done():
			return nil
		case <-s.ctx.Done():
			return nil
		case ev, ok := <-sub.ch:
			if !ok {
				return nil // fell behind or closing: the page reconnects and replays
			}
			if writeEvent(w, ev) != nil {
				return nil
			}
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return nil
			}
		}
		if rc.Flush() != nil {
			return nil
		}
	}
}

// writeEvent writes one server-sent event. JSON has no raw newlines, so one data
// line carries it.
func writeEvent(w io.Writer, ev Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "data: %s\n\n", b)
	return err
}

func (s *Simulator) getMode(c echo.Context) error {
	return c.JSON(http.StatusOK, ModeBody{Mode: s.Mode()})
}

func (s *Simulator) postMode(c echo.Context) error {
	var req ModeBody
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.SetMode(req.Mode); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ModeBody{Mode: s.Mode()})
}

// decodeJSON reads a JSON request body into v. Requiring the JSON content type also
// keeps other sites' plain forms from posting here.
func decodeJSON(c echo.Context, v any) error {
	r := c.Request()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
		return hotline.Errorf(hotline.EINVALID, "Send JSON with Content-Type: application/json.")
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), r.Body, maxRequestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return hotline.Errorf(hotline.ETOOLARGE, "The request is larger than %d bytes.", maxRequestBytes)
		}
		return hotline.Errorf(hotline.EINVALID, "The request is not valid JSON: %s.", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}
