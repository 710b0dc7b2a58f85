package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// Live events: GET /api/v1/events is a server-sent event stream of what changes in
// the conversations the signed-in user may see.
//
// The Hub receives every committed hotline.Change (it is a hotline.Notifier), numbers
// it and keeps the newest ones in a bounded ring. Each stream walks the ring from its
// own position and shows each change to its user through the access rules, at the
// moment it sends it: a responder gets the queue as the queue shows it (never a
// message), and the messages and status changes of the threads they may read;
// coordinators get everything. Events say what changed in the shapes the API
// returns, so the console never needs a second request to show a text.
//
// Coordinators may read every thread, but reading one is audited (transcript_view,
// when they open it): so their streams carry the messages of the conversations
// assigned to them and of those they opened (GET /api/v1/conversations/{id}) while
// signed in, and only the conversation summaries of the others.
//
// Every event has an id. A client that reconnects with Last-Event-ID (browsers do
// it by themselves) is replayed what it missed; when the id is too old for the ring,
// or from before a restart, it gets a reset event instead and reloads its lists, so
// a network blip can never hide a text.

// Event names on the wire.
const (
	// EventReady starts a stream: {"resumed": false} when the client must load its
	// lists (it had no Last-Event-ID), true after a replay of what it missed.
	EventReady = "ready"
	// EventReset says that events were lost (the Last-Event-ID is too old or from
	// before a restart, or the client fell too far behind): reload every list.
	EventReset = "reset"
	// EventConversation is a conversation the user may see, as the API shows it:
	// {"conversation": {…}}.
	EventConversation = "conversation"
	// EventRemoved is a conversation that has left the user's view (someone else
	// took it from the queue; it was transferred away): {"conversation_id"}.
	EventRemoved = "removed"
	// EventMessage is a new message in a thread the user may read:
	// {"conversation_id", "message": {…}}.
	EventMessage = "message"
	// EventStatus is a new delivery status of an outbound message:
	// {"conversation_id", "message": {…}}.
	EventStatus = "status"
	// EventPing is the heartbeat, every HeartbeatInterval; its id moves the
	// client's Last-Event-ID forward past events it was not shown.
	EventPing = "ping"
	// EventSignedOut ends a stream whose session has ended.
	EventSignedOut = "signed_out"
	// EventUser is a user whose availability or capacity changed: {"user_id"}.
	EventUser = "user"
	// EventSchedule says that rotations, overrides or closures changed: {}.
	EventSchedule = "schedule"
)

// Defaults of the Hub.
const (
	DefaultRingSize   = 4096
	HeartbeatInterval = 15 * time.Second
	// retryMillis is how soon a browser reconnects a dropped stream.
	retryMillis = 2000
	// maxPending bounds changes waiting to be numbered; beyond it they are dropped
	// and every stream is told to reset.
	maxPending = 100_000
	// maxOpened bounds the conversations remembered as opened, per coordinator.
	maxOpened = 200
)

// entry is one numbered change in the ring.
type entry struct {
	seq  uint64
	kind string // EventConversation, EventMessage, EventStatus, EventUser, EventSchedule or EventReset
	conv hotline.ID
	msg  hotline.ID
	user hotline.ID // of EventUser
	// assignee holds the conversation when the change was numbered.
	assignee hotline.ID
	// queued: the conversation is or was until this change in the queue, which every
	// responder sees, so every responder may be told when it leaves their view.
	queued     bool
	responders []hotline.ID
}

// Hub numbers committed changes and keeps the newest for the event streams. Run it
// (it reads the store to note which conversations every responder has seen); Close
// it at shutdown, before waiting for requests to finish, to end the streams.
type Hub struct {
	access *hotline.Access
	size   int
	epoch  string
	// HeartbeatInterval is how often streams send a ping and check their session.
	heartbeat time.Duration

	signal chan struct{}
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	pending []hotline.Change
	dropped bool
	ring    []entry // oldest first: the newest size to 2×size entries
	seq     uint64  // the newest entry's number; 0 before the first
	wake    chan struct{}
	queued  map[hotline.ID]bool
	// opened are the conversations each coordinator opened, newest last.
	opened map[hotline.ID][]hotline.ID
}

var _ hotline.Notifier = (*Hub)(nil)

// NewHub returns a hub over the access rules, keeping the last ringSize changes
// (DefaultRingSize when 0).
func NewHub(access *hotline.Access, ringSize int) *Hub {
	if ringSize <= 0 {
		ringSize = DefaultRingSize
	}
	return &Hub{access: access, size: ringSize, epoch: strconv.FormatInt(time.Now().UnixNano(), 36),
		heartbeat: HeartbeatInterval, signal: make(chan struct{}, 1), done: make(chan struct{}),
		wake: make(chan struct{}), queued: map[hotline.ID]bool{}, opened: map[hotline.ID][]hotline.ID{}}
}

// Opened records that a coordinator opened a conversation (an audited transcript
// view), so that their streams carry its messages from then on.
func (h *Hub) Opened(userID, conversationID hotline.ID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := slices.DeleteFunc(h.opened[userID], func(id hotline.ID) bool { return id == conversationID })
	list = append(list, conversationID)
	if len(list) > maxOpened {
		list = slices.Clone(list[len(list)-maxOpened:])
	}
	h.opened[userID] = list
}

// hasOpened reports whether the coordinator opened the conversation.
func (h *Hub) hasOpened(userID, conversationID hotline.ID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Contains(h.opened[userID], conversationID)
}

// SetHeartbeat changes the heartbeat interval (tests make it short).
func (h *Hub) SetHeartbeat(d time.Duration) {
	h.mu.Lock()
	h.heartbeat = d
	h.mu.Unlock()
}

// Publish implements hotline.Notifier: it queues the changes and returns at once.
func (h *Hub) Publish(changes ...hotline.Change) {
	h.mu.Lock()
	if len(h.pending)+len(changes) > maxPending {
		h.pending, h.dropped = h.pending[:0], true
	} else {
		h.pending = append(h.pending, changes...)
	}
	h.mu.Unlock()
	select {
	case h.signal <- struct{}{}:
	default:
	}
}

// Close ends every stream; Publish drops changes from then on.
func (h *Hub) Close() {
	h.once.Do(func() { close(h.done) })
}

// Run numbers published changes until ctx ends or the hub is closed.
func (h *Hub) Run(ctx context.Context) {
	if ids, err := h.access.WaitingIDs(ctx); err == nil {
		h.mu.Lock()
		for _, id := range ids {
			h.queued[id] = true
		}
		h.mu.Unlock()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.done:
			return
		case <-h.signal:
			h.process(ctx)
		}
	}
}

// process numbers the pending changes: one store read for the batch tells which
// conversations have been in the queue.
func (h *Hub) process(ctx context.Context) {
	h.mu.Lock()
	batch, dropped := h.pending, h.dropped
	h.pending, h.dropped = nil, false
	h.mu.Unlock()

	var ids []hotline.ID
	for _, c := range batch {
		if !hotline.IsZeroID(c.ConversationID) && !slices.Contains(ids, c.ConversationID) {
			ids = append(ids, c.ConversationID)
		}
	}
	facts, err := h.access.ConversationFacts(ctx, ids)
	if err != nil {
		// Without the facts a stream cannot tell who saw a conversation leave the
		// queue: have every client reload rather than guess.
		dropped = true
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if dropped {
		h.appendLocked(entry{kind: EventReset})
	}
	for _, c := range batch {
		e := entry{conv: c.ConversationID, msg: c.MessageID}
		switch c.Kind {
		case hotline.ChangeMessage:
			e.kind = EventMessage
		case hotline.ChangeStatus:
			e.kind = EventStatus
		case hotline.ChangeOutbox:
			continue // the message change has told it already
		case hotline.ChangeUser:
			if !hotline.IsZeroID(c.UserID) {
				h.appendLocked(entry{kind: EventUser, user: c.UserID})
			}
			continue
		case hotline.ChangeSchedule:
			h.appendLocked(entry{kind: EventSchedule})
			continue
		default: // conversation, contact, and kinds added later
			e.kind = EventConversation
		}
		if hotline.IsZeroID(e.conv) {
			continue
		}
		if f, ok := facts[e.conv]; ok {
			e.responders, e.assignee = f.Responders, f.AssigneeID
			e.queued = h.queued[e.conv] || f.State == hotline.StateWaiting
			// Only the change that takes it out of the queue tells everyone.
			if f.State == hotline.StateWaiting {
				h.queued[e.conv] = true
			} else {
				delete(h.queued, e.conv)
			}
		}
		if e.kind == EventMessage || e.kind == EventStatus {
			e.queued, e.responders = false, nil // assignee stays: coordinators' streams need it
		}
		h.appendLocked(e)
	}
}

func (h *Hub) appendLocked(e entry) {
	h.seq++
	e.seq = h.seq
	h.ring = append(h.ring, e)
	if len(h.ring) >= 2*h.size { // keep the newest size, copying once per size entries
		h.ring = slices.Clone(h.ring[len(h.ring)-h.size:])
	}
	close(h.wake)
	h.wake = make(chan struct{})
}

// since returns the entries after seq, and a channel closed at the next one. ok is
// false when entries after seq have left the ring (or seq is from the future).
func (h *Hub) since(seq uint64) (out []entry, wake <-chan struct{}, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if seq > h.seq {
		return nil, h.wake, false
	}
	if len(h.ring) > 0 && seq+1 < h.ring[0].seq {
		return nil, h.wake, false
	}
	i, _ := slices.BinarySearchFunc(h.ring, seq+1, func(e entry, s uint64) int {
		switch {
		case e.seq < s:
			return -1
		case e.seq > s:
			return 1
		}
		return 0
	})
	return slices.Clone(h.ring[i:]), h.wake, true
}

// current returns the newest entry's number.
func (h *Hub) current() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

// eventID is the id of the event after entry seq: the hub's epoch and the number.
func (h *Hub) eventID(seq uint64) string { return h.epoch + "-" + strconv.FormatUint(seq, 10) }

// parseEventID reads a Last-Event-ID: ok is false for an empty, foreign or
// malformed one (from before a restart, say).
func (h *Hub) parseEventID(id string) (uint64, bool) {
	epoch, n, found := strings.Cut(id, "-")
	if !found || epoch != h.epoch {
		return 0, false
	}
	seq, err := strconv.ParseUint(n, 10, 64)
	return seq, err == nil
}

// stream is one client's event stream.
type stream struct {
	a      *api
	c      echo.Context
	w      io.Writer
	rc     *http.ResponseController
	caller hotline.Caller
	token  string
}

// events: GET /api/v1/events → text/event-stream (see the top of this file).
func (a *api) events(c echo.Context) error {
	h := a.Events
	if h == nil {
		return hotline.Errorf(hotline.EUNAVAILABLE, "Live events are not enabled on this server.")
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	select {
	case <-h.done:
		return hotline.Errorf(hotline.EUNAVAILABLE, "The server is shutting down.")
	default:
	}
	cookie, _ := c.Cookie(CookieName)
	s := &stream{a: a, c: c, w: c.Response(), rc: http.NewResponseController(c.Response()), caller: caller}
	if cookie != nil {
		s.token = cookie.Value
	}
	// A stream outlives the server's read and write timeouts.
	_ = s.rc.SetReadDeadline(time.Time{})
	_ = s.rc.SetWriteDeadline(time.Time{})
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	hd.Set(echo.HeaderCacheControl, "no-store")
	hd.Set("X-Accel-Buffering", "no")
	c.Response().WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(s.w, "retry: %d\n\n", retryMillis); err != nil {
		return nil
	}

	last := c.Request().Header.Get("Last-Event-ID")
	if last == "" {
		last = c.QueryParam("last_event_id")
	}
	cursor, resumed := h.parseEventID(last)
	if !resumed {
		cursor = h.current()
		if last != "" {
			if s.send(EventReset, h.eventID(cursor), map[string]string{"reason": "The events since your last one are no longer kept (or the server restarted): reload your lists."}) != nil {
				return nil
			}
		}
	}
	h.mu.Lock()
	beat := h.heartbeat
	h.mu.Unlock()
	ping := time.NewTicker(beat)
	defer ping.Stop()
	ctx := c.Request().Context()
	readySent := false
	for {
		entries, wake, ok := h.since(cursor)
		if !ok {
			cursor = h.current()
			if s.send(EventReset, h.eventID(cursor), map[string]string{"reason": "Some events were missed: reload your lists."}) != nil {
				return nil
			}
			continue
		}
		for _, e := range entries {
			if err := s.deliver(ctx, e); err != nil {
				return nil
			}
			cursor = e.seq
		}
		if !readySent {
			readySent = true
			if s.send(EventReady, h.eventID(cursor), map[string]bool{"resumed": resumed}) != nil {
				return nil
			}
		}
		if s.rc.Flush() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-h.done:
			return nil
		case <-wake:
		case <-ping.C:
			if !s.stillSignedIn(ctx) {
				_ = s.send(EventSignedOut, h.eventID(cursor), map[string]string{"reason": "Your session has ended: sign in again."})
				_ = s.rc.Flush()
				return nil
			}
			if s.send(EventPing, h.eventID(cursor), struct{}{}) != nil {
				return nil
			}
		}
	}
}

// stillSignedIn checks the stream's session again, and refreshes who the user is
// (a role can change while a console is open).
func (s *stream) stillSignedIn(ctx context.Context) bool {
	if s.token == "" {
		return false
	}
	p, err := s.a.Accounts.Authenticate(ctx, s.token)
	if err != nil {
		return hotline.ErrorCode(err) != hotline.EUNAUTHORIZED // keep going through a store hiccup
	}
	s.caller = p.Caller(s.caller.RemoteAddr)
	return true
}

// deliver shows one entry to the stream's user, if they may see it.
func (s *stream) deliver(ctx context.Context, e entry) error {
	id := s.a.Events.eventID(e.seq)
	switch e.kind {
	case EventReset:
		return s.send(EventReset, id, map[string]string{"reason": "Some events were missed: reload your lists."})
	case EventConversation:
		sum, err := s.a.Access.Summary(ctx, s.caller, e.conv)
		switch {
		case err == nil:
			return s.send(EventConversation, id, map[string]any{"conversation": viewConversation(sum)})
		case hotline.IsNotFound(err):
			if e.queued || slices.Contains(e.responders, s.caller.User.ID) {
				return s.send(EventRemoved, id, map[string]string{"conversation_id": e.conv.String()})
			}
			return nil
		default:
			return s.send(EventReset, id, map[string]string{"reason": "The server could not read a change: reload your lists."})
		}
	case EventUser:
		return s.send(EventUser, id, map[string]string{"user_id": e.user.String()})
	case EventSchedule:
		return s.send(EventSchedule, id, struct{}{})
	case EventMessage, EventStatus:
		if u := s.caller.User; u.IsCoordinator() && e.assignee != u.ID && !s.a.Events.hasOpened(u.ID, e.conv) {
			return nil // not opened: reading it would be an unaudited view
		}
		m, err := s.a.Access.Message(ctx, s.caller, e.conv, e.msg)
		switch {
		case err == nil:
			return s.send(e.kind, id, map[string]any{"conversation_id": e.conv.String(), "message": viewMessage(m)})
		case hotline.IsNotFound(err):
			return nil
		default:
			return s.send(EventReset, id, map[string]string{"reason": "The server could not read a change: reload your lists."})
		}
	}
	return nil
}

// send writes one event. JSON holds no raw newline, so one data line carries it.
func (s *stream) send(name, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.w, "event: %s\nid: %s\ndata: %s\n\n", name, id, b)
	return err
}
