package console

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
)

// Headers of an export answer.
const (
	// ExportCountHeader holds how many conversations the export will write, when the
	// request asked for it with count=1 (progress bars).
	ExportCountHeader = "X-Export-Conversations"
	// ExportStatusTrailer is a trailer: "complete" once every byte was written. An
	// export that fails half-way ends the connection without it, so that a client
	// never takes a truncated file for a whole one.
	ExportStatusTrailer = "X-Export-Status"
)

// exportRequest reads the query of GET /api/v1/export:
// format=csv|jsonl|pdf|bundle (or bundle=1: a signed evidence bundle); from and to (conversations created in [from, to)), as RFC
// 3339 or a date, which is midnight in the hotline's time zone (to=2026-05-02 takes
// all of May 1st); state, disposition, tag, responder (user IDs or usernames) and ids
// (conversation IDs), each repeated or comma-separated; notes, reveal and
// mask_bodies as true or false.
func (a *api) exportRequest(ctx context.Context, c echo.Context, caller hotline.Caller) (export.Request, error) {
	q := c.QueryParams()
	var req export.Request
	var err error
	if req.Format, err = export.ParseFormat(q.Get("format")); err != nil {
		return req, err
	}
	if b, err := boolParam("bundle", q.Get("bundle")); err != nil {
		return req, err
	} else if b {
		req.Format = export.FormatBundle
	}
	if req.Format == export.FormatBundle {
		if a.Tools.SigningKey == nil {
			return req, hotline.Errorf(hotline.EUNAVAILABLE, "Evidence bundles are not available on this server.")
		}
		if req.SigningKey, err = a.Tools.SigningKey(ctx); err != nil {
			return req, err
		}
	}
	loc := a.Tools.location()
	if req.Filter.From, err = parseWhen("from", q.Get("from"), loc); err != nil {
		return req, err
	}
	if req.Filter.To, err = parseWhen("to", q.Get("to"), loc); err != nil {
		return req, err
	}
	if !req.Filter.From.IsZero() && !req.Filter.To.IsZero() && !req.Filter.From.Before(req.Filter.To) {
		return req, hotline.Errorf(hotline.EINVALID, "from: must be before to.")
	}
	for _, s := range list(q["state"]) {
		st := hotline.State(s)
		if !st.Valid() {
			return req, hotline.Errorf(hotline.EINVALID, "state: %q is not one of waiting, assigned, active, closed.", truncate(s, 20))
		}
		req.Filter.States = append(req.Filter.States, st)
	}
	req.Filter.Dispositions = list(q["disposition"])
	req.Filter.Tags = list(q["tag"])
	for _, s := range list(q["responder"]) {
		id, err := hotline.ParseID(s)
		if err != nil {
			u, uerr := a.Accounts.UserByUsername(ctx, caller, s)
			if uerr != nil {
				return req, hotline.Errorf(hotline.EINVALID, "responder: %q is neither a user ID nor a username.", truncate(s, 40))
			}
			id = u.ID
		}
		req.Filter.Responders = append(req.Filter.Responders, id)
	}
	for _, s := range list(q["ids"]) {
		id, err := hotline.ParseID(s)
		if err != nil {
			return req, hotline.Errorf(hotline.EINVALID, "ids: %s", hotline.ErrorMessage(err))
		}
		req.Filter.IDs = append(req.Filter.IDs, id)
	}
	if len(req.Filter.IDs) > 10000 {
		return req, hotline.Errorf(hotline.EINVALID, "ids: at most 10,000.")
	}
	for _, opt := range []struct {
		name string
		to   *bool
	}{{"notes", &req.Options.IncludeNotes}, {"reveal", &req.Options.RevealNumbers}, {"mask_bodies", &req.Options.MaskBodies}} {
		if *opt.to, err = boolParam(opt.name, q.Get(opt.name)); err != nil {
			return req, err
		}
	}
	if req.Format == export.FormatBundle && req.Options.MaskBodies {
		return req, hotline.Errorf(hotline.EINVALID, "mask_bodies: an evidence bundle holds the messages as they were written, which their hash chain covers; leave bodies unmasked.")
	}
	req.Options.Location = loc
	req.Options.Now = a.Accounts.Clock().Now()
	req.Via = "session"
	if viaToken(c) {
		req.Via = "api_token"
	}
	return req, nil
}

// exportTranscripts: GET /api/v1/export?format=…&from=…&to=… (coordinators, or an
// API token) → a streamed download (Content-Disposition: attachment) of CSV, JSON
// Lines, a PDF (one conversation named in ids) or a zip of PDFs. Audited. With
// count=1 the X-Export-Conversations header says how many conversations follow;
// check=1 only validates the parameters (204), for the console's form.
func (a *api) exportTranscripts(c echo.Context) error {
	caller, err := a.caller(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if a.Tools.Store == nil {
		return hotline.Errorf(hotline.EUNAVAILABLE, "Exports are not available on this server.")
	}
	req, err := a.exportRequest(ctx, c, caller)
	if err != nil {
		return err
	}
	if b, _ := boolParam("check", c.QueryParam("check")); b {
		return c.NoContent(http.StatusNoContent) // the parameters are fine: nothing exported, nothing audited
	}
	h := c.Response().Header()
	if b, _ := boolParam("count", c.QueryParam("count")); b {
		n, err := export.Count(ctx, a.Tools.Store, req.Filter)
		if err != nil {
			return err
		}
		h.Set(ExportCountHeader, strconv.Itoa(n))
	}
	h.Set(echo.HeaderContentType, req.ContentType())
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+req.FileName(req.Options.Now)+`"`)
	h.Set("Trailer", ExportStatusTrailer)
	h.Set("X-Content-Type-Options", "nosniff")
	w := &lazyWriter{c: c}
	_, err = export.Run(ctx, a.Tools.Store, a.Accounts, caller, req, w)
	if err != nil {
		if !w.started {
			return err // nothing written yet: an ordinary error answer
		}
		panic(http.ErrAbortHandler) // cut the download short: no complete-looking file
	}
	if !w.started {
		c.Response().WriteHeader(http.StatusOK)
	}
	h.Set(ExportStatusTrailer, "complete")
	return nil
}

// lazyWriter sends the 200 status with the first byte, so that an export that fails
// before writing anything (its audit entry, say) still answers with an error.
type lazyWriter struct {
	c       echo.Context
	started bool
}

func (w *lazyWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		w.c.Response().WriteHeader(http.StatusOK)
	}
	return w.c.Response().Write(p)
}

var _ io.Writer = (*lazyWriter)(nil)

// list splits repeated and comma-separated query values, dropping empty ones.
func list(values []string) []string {
	var out []string
	for _, v := range values {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func boolParam(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no":
		return false, nil
	case "1", "true", "yes":
		return true, nil
	}
	return false, hotline.Errorf(hotline.EINVALID, "%s: write true or false.", name)
}

// parseWhen reads a time: RFC 3339, or a date (midnight in loc).
func parseWhen(name, v string, loc *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		return t, nil
	}
	return time.Time{}, hotline.Errorf(hotline.EINVALID, "%s: write a date like 2026-05-01 or a time like 2026-05-01T18:00:00Z.", name)
}
