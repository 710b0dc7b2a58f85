package console

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/hotline"
)

// listConversations: GET /api/v1/conversations?state=waiting,active&after=ID&limit=N →
// {"conversations":[…]}: the ones the caller may see, oldest first. state may be
// repeated or comma-separated, or "all"; without it, the open ones.
func (a *api) listConversations(c echo.Context) error {
	q := hotline.ConversationQuery{}
	for _, param := range c.QueryParams()["state"] {
		for s := range strings.SplitSeq(param, ",") {
			st := hotline.State(strings.TrimSpace(s))
			switch {
			case st == "all":
				q.States = append(q.States, hotline.StateWaiting, hotline.StateAssigned, hotline.StateActive, hotline.StateClosed)
			case st.Valid():
				q.States = append(q.States, st)
			default:
				return hotline.Errorf(hotline.EINVALID, "state: %q is not one of waiting, assigned, active, closed, all.", truncate(s, 20))
			}
		}
	}
	if s := c.QueryParam("after"); s != "" {
		var err error
		if q.After, err = hotline.ParseID(s); err != nil {
			return hotline.Errorf(hotline.EINVALID, "after: %s", hotline.ErrorMessage(err))
		}
	}
	var err error
	if q.Limit, err = intParam(c, "limit", 200, 1, 1000); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	list, err := a.Access.Conversations(c.Request().Context(), caller, q)
	if err != nil {
		return err
	}
	out := make([]conversationView, len(list))
	for i, s := range list {
		out[i] = viewConversation(s)
	}
	return render(c, http.StatusOK, map[string]any{"conversations": out})
}

// getConversation: GET /api/v1/conversations/{id} → {"conversation","messages"}; 404
// when the caller may not see it; a coordinator's view is audited.
func (a *api) getConversation(c echo.Context) error {
	id, caller, err := a.conversationCall(c)
	if err != nil {
		return err
	}
	t, err := a.Access.Transcript(c.Request().Context(), caller, id)
	if err != nil {
		return err
	}
	if a.Events != nil && caller.User.IsCoordinator() && t.Visibility == hotline.ThreadView {
		a.Events.Opened(caller.User.ID, id) // audited: their live events may now carry its messages
	}
	msgs := make([]messageView, len(t.Messages))
	for i, m := range t.Messages {
		msgs[i] = viewMessage(m)
	}
	return render(c, http.StatusOK, map[string]any{"conversation": viewConversation(t.ConversationSummary), "messages": msgs})
}

// conversationCall reads the :id and the caller of a conversation endpoint.
func (a *api) conversationCall(c echo.Context) (hotline.ID, hotline.Caller, error) {
	id, err := idParam(c)
	if err != nil {
		return id, hotline.Caller{}, err
	}
	caller, err := a.caller(c)
	return id, caller, err
}

// renderAfter answers an action with the conversation as the caller now sees it:
// {"conversation": …}, or null when it has left their view (transferred away).
func (a *api) renderAfter(c echo.Context, caller hotline.Caller, id hotline.ID) error {
	s, err := a.Access.Summary(c.Request().Context(), caller, id)
	if hotline.IsNotFound(err) {
		return render(c, http.StatusOK, map[string]any{"conversation": nil})
	} else if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]any{"conversation": viewConversation(s)})
}

// accept: POST /api/v1/conversations/{id}/accept → 200 {"conversation"}; 409 when
// someone else has it.
func (a *api) accept(c echo.Context) error {
	id, caller, err := a.conversationCall(c)
	if err != nil {
		return err
	}
	if err := a.Access.Accept(c.Request().Context(), caller, id); err != nil {
		return err
	}
	return a.renderAfter(c, caller, id)
}

type bodyRequest struct {
	Body string `json:"body"`
}

// reply: POST /api/v1/conversations/{id}/messages {"body"} → 201 {"message"}.
func (a *api) reply(c echo.Context) error {
	id, caller, err := a.conversationCall(c)
	if err != nil {
		return err
	}
	var req bodyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	m, err := a.Access.Reply(c.Request().Context(), caller, id, req.Body)
	if err != nil {
		return err
	}
	return render(c, http.StatusCreated, map[string]any{"message": viewMessage(m)})
}

// addNote: POST /api/v1/conversations/{id}/notes {"body"} → 201 {"message"}.
func (a *api) addNote(c echo.Context) error {
	id, caller, err := a.conversationCall(c)
	if err != nil {
		return err
	}
	var req bodyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	m, err := a.Access.AddNote(c.Request().Context(), caller, id, req.Body)
	if err != nil {
		return err
	}
	return render(c, http.StatusCreated, map[string]any{"message": viewMessage(m)})
}

type closeRequest struct {
	Disposition string   `json:"disposition"`
	Tags        []string `json:"tags"`
}

// closeConversation: POST /api/v1/conversations/{id}/close {"disposition","tags"} →
// 200 {"conversation"}.
func (a *api) closeConversation(c echo.Context) error {
	id, caller, err := a.conversationCall(c)
	if err != nil {
		return err
	}
	var req closeRequest
	if err := bindOptional(c, &req); err != nil {
		return err
	}
	if err := a.checkDisposition(req.Disposition); err != nil {
		return err
	}
	if err := a.Access.Close(c.Request().Context(), caller, id, req.Disposition, req.Tags); err != nil {
		return err
	}
	return a.renderAfter(c, caller, id)
}

// release: POST /api/v1/conversations/{id}/release → 200 {"conversation"}: back to
// the queue.
func (a *api) release(c echo.Context) error {
	id, caller, err := a.conversationCall(c)
	if err != nil {
		return err
	}
	if err := a.Access.Release(c.Request().Context(), caller, id); err != nil {
		return err
	}
	return a.renderAfter(c, caller, id)
}

type transferRequest struct {
	To   *string `json:"to"`
	Note string  `json:"note"`
}

// transfer: POST /api/v1/conversations/{id}/transfer {"to": user ID or null for the
// queue, "note"} → 200 {"conversation"} (null once out of the caller's view).
func (a *api) transfer(c echo.Context) error {
	id, caller, err := a.conversationCall(c)
	if err != nil {
		return err
	}
	var req transferRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	var to hotline.ID
	if req.To != nil && *req.To != "" {
		if to, err = hotline.ParseID(*req.To); err != nil {
			return hotline.Errorf(hotline.EINVALID, "to: %s", hotline.ErrorMessage(err))
		}
	}
	if err := a.Access.Transfer(c.Request().Context(), caller, id, to, req.Note); err != nil {
		return err
	}
	return a.renderAfter(c, caller, id)
}

// reveal: POST /api/v1/conversations/{id}/reveal (coordinators) → {"address"}: the
// texter's number, audited.
func (a *api) reveal(c echo.Context) error {
	id, caller, err := a.conversationCall(c)
	if err != nil {
		return err
	}
	addr, err := a.Access.Reveal(c.Request().Context(), caller, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]string{"address": string(addr)})
}

type lookupRequest struct {
	SIDs []string `json:"sids"`
}

// lookupMessages: POST /api/v1/messages/lookup (coordinators) {"sids":[…]} (at most
// 1,000) → {"counts":{"SM…":1,…}}: how many inbound messages are stored under each
// MessageSid.
func (a *api) lookupMessages(c echo.Context) error {
	var req lookupRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	counts, err := a.Access.CountInbound(c.Request().Context(), caller, req.SIDs)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, map[string]any{"counts": counts})
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
