package hotline

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// CannedResponse is a prepared reply: responders pick one in the console's composer
// (with "/"), edit it and send it. Coordinators manage them. The body may hold
// placeholders, such as {{responder}}, which the console fills in before the
// responder sees the text (see CannedPlaceholders and ExpandPlaceholders).
type CannedResponse struct {
	ID    ID
	Title string // short, shown in the picker
	Body  string
	// Language is the language the text is written in ("es"); empty for any.
	Language  string
	CreatedBy ID
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CannedPlaceholders are the placeholders a canned response may hold, each written
// as {{name}}: responder is the display name of the responder who inserts it (their
// username when they have none), handle the texter's handle (never their number).
var CannedPlaceholders = []string{"responder", "handle"}

// Limits on canned responses.
const (
	MaxCannedResponses  = 500
	maxCannedTitleRunes = 80
)

// Audit actions and target of canned responses.
const (
	AuditCannedCreate AuditAction = "canned_create"
	AuditCannedUpdate AuditAction = "canned_update"
	AuditCannedDelete AuditAction = "canned_delete"
	TargetCanned                  = "canned_response"
)

// placeholderPattern matches {{name}}, with optional spaces inside the braces.
var placeholderPattern = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// ExpandPlaceholders replaces each {{name}} in body whose name is in values with its
// value; others are left as they are. The console does the same in JavaScript.
func ExpandPlaceholders(body string, values map[string]string) string {
	return placeholderPattern.ReplaceAllStringFunc(body, func(m string) string {
		name := placeholderPattern.FindStringSubmatch(m)[1]
		if v, ok := values[name]; ok {
			return v
		}
		return m
	})
}

// CannedDraft is a new canned response, or the whole of a changed one.
type CannedDraft struct {
	Title    string
	Body     string
	Language string
}

// CannedPatch changes a canned response; nil fields stay as they are.
type CannedPatch struct {
	Title    *string
	Body     *string
	Language *string
}

// validate checks a draft and returns it tidied (trimmed title, lower-case language).
func (d CannedDraft) validate() (CannedDraft, error) {
	d.Title = strings.TrimSpace(d.Title)
	d.Language = strings.ToLower(strings.TrimSpace(d.Language))
	switch n := utf8.RuneCountInString(d.Title); {
	case n == 0:
		return d, Errorf(EINVALID, "title: give the canned response a short title.")
	case n > maxCannedTitleRunes:
		return d, Errorf(EINVALID, "title: at most %d characters.", maxCannedTitleRunes)
	}
	if strings.TrimSpace(d.Body) == "" {
		return d, Errorf(EINVALID, "body: write the text of the canned response.")
	}
	if !utf8.ValidString(d.Body) || !utf8.ValidString(d.Title) {
		return d, Errorf(EINVALID, "The title and body must be valid UTF-8.")
	}
	if n := utf8.RuneCountInString(d.Body); n > MaxBodyRunes {
		return d, Errorf(ETOOLARGE, "body: at most %d characters (it has %d).", MaxBodyRunes, n)
	}
	if d.Language != "" && !languagePattern.MatchString(d.Language) {
		return d, Errorf(EINVALID, "language: a language code such as en or es, or leave it empty for any language.")
	}
	for _, m := range placeholderPattern.FindAllStringSubmatch(d.Body, -1) {
		if !slices.Contains(CannedPlaceholders, m[1]) {
			return d, Errorf(EINVALID, "body: {{%s}} is not a placeholder; the placeholders are {{%s}}.",
				m[1], strings.Join(CannedPlaceholders, "}}, {{"))
		}
	}
	return d, nil
}

// CannedResponses are the use cases of canned responses: every signed-in user reads
// them; coordinators (and the operator) create, change and delete them, audited.
type CannedResponses struct {
	store Store
	clock Clock
}

// NewCannedResponses returns the canned responses over store; a nil clock is the
// system clock.
func NewCannedResponses(store Store, clock Clock) *CannedResponses {
	if clock == nil {
		clock = SystemClock{}
	}
	return &CannedResponses{store: store, clock: clock}
}

// List returns every canned response, by title.
//
// Errors: EFORBIDDEN for a caller who is neither a user nor the operator.
func (r *CannedResponses) List(ctx context.Context, c Caller) ([]CannedResponse, error) {
	if IsZeroID(c.User.ID) && !c.isOperator() {
		return nil, Errorf(EFORBIDDEN, "Sign in first.")
	}
	var out []CannedResponse
	err := r.store.View(ctx, func(tx ReadTx) error {
		out = nil
		return tx.CannedResponses(func(cr CannedResponse) error {
			out = append(out, cr)
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b CannedResponse) int {
		return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
	})
	return out, err
}

// Create adds a canned response.
//
// Errors: EFORBIDDEN for responders; EINVALID (naming the field) or ETOOLARGE for
// a bad draft; ECONFLICT when there are MaxCannedResponses already.
func (r *CannedResponses) Create(ctx context.Context, c Caller, d CannedDraft) (CannedResponse, error) {
	if err := c.requireCoordinator("manage canned responses"); err != nil {
		return CannedResponse{}, err
	}
	d, err := d.validate()
	if err != nil {
		return CannedResponse{}, err
	}
	var cr CannedResponse
	err = r.store.Update(ctx, func(tx Tx) error {
		n := 0
		if err := tx.CannedResponses(func(CannedResponse) error { n++; return nil }); err != nil {
			return err
		}
		if n >= MaxCannedResponses {
			return Errorf(ECONFLICT, "There are %d canned responses already: delete some first.", n)
		}
		now := r.clock.Now()
		cr = CannedResponse{ID: NewID(now), Title: d.Title, Body: d.Body, Language: d.Language,
			CreatedBy: c.User.ID, CreatedAt: now, UpdatedAt: now}
		if err := tx.PutCannedResponse(cr); err != nil {
			return err
		}
		e := c.entry(AuditCannedCreate, TargetCanned, cr.ID.String())
		e.Detail = map[string]string{"title": cr.Title}
		return appendAudit(tx, e, now)
	})
	return cr, err
}

// Update changes a canned response.
//
// Errors: EFORBIDDEN for responders; ENOTFOUND; EINVALID or ETOOLARGE.
func (r *CannedResponses) Update(ctx context.Context, c Caller, id ID, p CannedPatch) (CannedResponse, error) {
	if err := c.requireCoordinator("manage canned responses"); err != nil {
		return CannedResponse{}, err
	}
	var cr CannedResponse
	err := r.store.Update(ctx, func(tx Tx) error {
		var err error
		if cr, err = tx.CannedResponse(id); err != nil {
			return err
		}
		d := CannedDraft{Title: cr.Title, Body: cr.Body, Language: cr.Language}
		if p.Title != nil {
			d.Title = *p.Title
		}
		if p.Body != nil {
			d.Body = *p.Body
		}
		if p.Language != nil {
			d.Language = *p.Language
		}
		if d, err = d.validate(); err != nil {
			return err
		}
		now := r.clock.Now()
		cr.Title, cr.Body, cr.Language, cr.UpdatedAt = d.Title, d.Body, d.Language, now
		if err := tx.PutCannedResponse(cr); err != nil {
			return err
		}
		e := c.entry(AuditCannedUpdate, TargetCanned, cr.ID.String())
		e.Detail = map[string]string{"title": cr.Title}
		return appendAudit(tx, e, now)
	})
	return cr, err
}

// Delete removes a canned response.
//
// Errors: EFORBIDDEN for responders; ENOTFOUND.
func (r *CannedResponses) Delete(ctx context.Context, c Caller, id ID) error {
	if err := c.requireCoordinator("manage canned responses"); err != nil {
		return err
	}
	return r.store.Update(ctx, func(tx Tx) error {
		cr, err := tx.CannedResponse(id)
		if err != nil {
			return err
		}
		if err := tx.DeleteCannedResponse(id); err != nil {
			return err
		}
		e := c.entry(AuditCannedDelete, TargetCanned, id.String())
		e.Detail = map[string]string{"title": cr.Title}
		return appendAudit(tx, e, r.clock.Now())
	})
}
