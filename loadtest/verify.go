package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/hotlinehq/hotline/hotline"
)

// Verification is the answer to "was every acknowledged text stored exactly once?".
type Verification struct {
	// Acknowledged is the number of distinct MessageSids the server acknowledged.
	Acknowledged int `json:"acknowledged"`
	// Missing were acknowledged but are not stored; Duplicated are stored more
	// than once. Both must be zero.
	Missing    int `json:"missing"`
	Duplicated int `json:"duplicated"`
	// InboundStored counts every inbound message in the store, or -1 when the
	// store could not be scanned (a remote hotline). In a store that only this run
	// wrote to, it equals Acknowledged plus any text whose answer was lost (a
	// timeout after the commit).
	InboundStored int `json:"inbound_stored"`
	// Examples are a few problem SIDs, to look up.
	Examples []string `json:"examples,omitempty"`
	// Inconsistencies are what the store's consistency check found (in-process
	// hotline only); there must be none.
	Inconsistencies []string `json:"inconsistencies,omitempty"`
}

// OK reports whether every acknowledged text is stored exactly once.
func (v Verification) OK() bool {
	return v.Missing == 0 && v.Duplicated == 0 && len(v.Inconsistencies) == 0
}

// String describes the verification in one line.
func (v Verification) String() string {
	stored := ""
	if v.InboundStored >= 0 {
		stored = fmt.Sprintf("; %d inbound messages in the store", v.InboundStored)
	}
	if v.OK() {
		return fmt.Sprintf("OK: each of %d acknowledged MessageSids is stored exactly once%s", v.Acknowledged, stored)
	}
	if v.Missing == 0 && v.Duplicated == 0 {
		return fmt.Sprintf("FAILED: each of %d acknowledged MessageSids is stored once, but the store's consistency check found %d problems: %s",
			v.Acknowledged, len(v.Inconsistencies), strings.Join(v.Inconsistencies[:min(len(v.Inconsistencies), maxExamples)], "; "))
	}
	return fmt.Sprintf("FAILED: of %d acknowledged MessageSids, %d are missing and %d stored more than once%s (for example %s)",
		v.Acknowledged, v.Missing, v.Duplicated, stored, strings.Join(v.Examples, ", "))
}

const maxExamples = 5

// VerifyCounts judges how many times each acknowledged SID is stored, from counts
// by SID (a SID absent from counts is stored zero times).
func VerifyCounts(sids []string, counts map[string]int) Verification {
	v := Verification{InboundStored: -1}
	for _, sid := range uniq(sids) {
		v.Acknowledged++
		switch n := counts[sid]; {
		case n == 1:
			continue
		case n == 0:
			v.Missing++
		default:
			v.Duplicated++
		}
		if len(v.Examples) < maxExamples {
			v.Examples = append(v.Examples, sid)
		}
	}
	return v
}

// VerifyStore checks a stopped hotline's store: it looks each SID up through the
// MessageSid index, then walks every conversation's messages and counts inbound
// messages by SID, so that a duplicate the unique index cannot show (two messages
// with the same SID) would be counted too.
func VerifyStore(ctx context.Context, st hotline.Store, sids []string) (Verification, error) {
	want := make(map[string]bool, len(sids))
	for _, s := range sids {
		want[s] = true
	}
	counts := make(map[string]int, len(want))
	indexed := make(map[string]bool, len(want))
	inbound := 0
	err := st.View(ctx, func(tx hotline.ReadTx) error {
		for sid := range want {
			m, err := tx.MessageBySID(sid)
			if hotline.IsNotFound(err) {
				continue
			} else if err != nil {
				return err
			}
			indexed[sid] = m.Direction == hotline.DirectionInbound && m.TwilioSID == sid
		}
		return tx.Conversations(hotline.ConversationFilter{}, func(c hotline.Conversation) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return tx.Messages(c.ID, hotline.ID{}, func(m hotline.Message) error {
				if m.Direction != hotline.DirectionInbound {
					return nil
				}
				inbound++
				if want[m.TwilioSID] {
					counts[m.TwilioSID]++
				}
				return nil
			})
		})
	})
	if err != nil {
		return Verification{}, err
	}
	for sid := range want {
		if !indexed[sid] && counts[sid] == 1 {
			// In its thread but not in the SID index, where the dedupe looks: a
			// retry would be stored again. That is not "stored exactly once".
			counts[sid] = 0
		}
	}
	v := VerifyCounts(sids, counts)
	v.InboundStored = inbound
	return v, nil
}

func uniq(sids []string) []string {
	s := slices.Clone(sids)
	slices.Sort(s)
	return slices.Compact(s)
}

// Lookup asks a running hotline how many times it stores each MessageSid, through
// the console API: POST /api/v1/login {"username","password"} answers a
// hotline_session cookie and {"csrf_token"}; POST /api/v1/messages/lookup
// {"sids":[…]} (at most LookupBatch per call), with the cookie and the token in
// X-CSRF-Token, answers {"counts":{"SM…":n}}.
type Lookup struct {
	URL      string // the hotline's base URL
	Username string
	Password string
	Client   *http.Client // http.DefaultClient when nil
}

// LookupBatch is the most SIDs one lookup call may carry.
const LookupBatch = 1000

// SessionCookie is the console's session cookie.
const SessionCookie = "hotline_session"

// Counts returns how many times each SID is stored.
func (l Lookup) Counts(ctx context.Context, sids []string) (map[string]int, error) {
	client := l.Client
	if client == nil {
		client = http.DefaultClient
	}
	base := strings.TrimRight(l.URL, "/")
	var login struct {
		CSRFToken string `json:"csrf_token"`
	}
	resp, err := postJSON(ctx, client, base+"/api/v1/login", map[string]string{"username": l.Username, "password": l.Password}, nil, &login)
	if err != nil {
		return nil, fmt.Errorf("log in as %q: %w", l.Username, err)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			session = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	if session == nil {
		return nil, fmt.Errorf("log in as %q: the answer set no %s cookie", l.Username, SessionCookie)
	}
	headers := func(r *http.Request) {
		r.AddCookie(session)
		r.Header.Set("X-CSRF-Token", login.CSRFToken)
	}
	counts := make(map[string]int, len(sids))
	for batch := range slices.Chunk(uniq(sids), LookupBatch) {
		var answer struct {
			Counts map[string]int `json:"counts"`
		}
		if _, err := postJSON(ctx, client, base+"/api/v1/messages/lookup", map[string][]string{"sids": batch}, headers, &answer); err != nil {
			return nil, fmt.Errorf("look up %d MessageSids: %w", len(batch), err)
		}
		for sid, n := range answer.Counts {
			counts[sid] = n
		}
	}
	return counts, nil
}

// postJSON posts body as JSON and decodes a 2xx answer into out.
func postJSON(ctx context.Context, client *http.Client, url string, body any, headers func(*http.Request), out any) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if headers != nil {
		headers(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var apiErr struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(raw, &apiErr) == nil && apiErr.Error.Code != "" {
			return nil, fmt.Errorf("%s: %s %s", resp.Status, apiErr.Error.Code, apiErr.Error.Message)
		}
		return nil, fmt.Errorf("%s", resp.Status)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("the answer is not the expected JSON: %w", err)
	}
	return resp, nil
}
