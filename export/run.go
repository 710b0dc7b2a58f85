package export

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotlinehq/hotline/hotline"
)

// Format is an export's file format.
type Format string

// Formats.
const (
	FormatCSV   Format = "csv"
	FormatJSONL Format = "jsonl"
	// FormatPDF is one printable document per conversation: a single PDF when the
	// export names exactly one conversation (Filter.IDs), else a zip archive of them.
	FormatPDF Format = "pdf"
	// FormatBundle (bundle.go) is a signed evidence bundle.
)

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatCSV, FormatJSONL, FormatPDF, FormatBundle:
		return f, nil
	case "":
		return FormatJSONL, nil
	}
	return "", hotline.Errorf(hotline.EINVALID, "format: %q is not one of csv, jsonl, pdf, bundle.", s)
}

// Request is one export: what to write and how.
type Request struct {
	Format  Format
	Filter  Filter
	Options Options
	// Via says how the request came, for the audit log: "session", "api_token",
	// "cli".
	Via string
	// SigningKey signs an evidence bundle (FormatBundle): the hotline's key.
	SigningKey ed25519.PrivateKey
}

// zipped reports whether the export is a zip archive: a PDF export of several
// conversations, or an evidence bundle.
func (r Request) zipped() bool {
	return r.Format == FormatBundle || r.Format == FormatPDF && len(r.Filter.IDs) != 1
}

// ContentType is the MIME type of the export.
func (r Request) ContentType() string {
	switch {
	case r.Format == FormatCSV:
		return "text/csv; charset=utf-8"
	case r.zipped():
		return "application/zip"
	case r.Format == FormatPDF:
		return "application/pdf"
	}
	return "application/x-ndjson; charset=utf-8"
}

// FileName is a name for the export's file: hotline-export-20260501-120000.csv.
func (r Request) FileName(now time.Time) string {
	ext := string(r.Format)
	if r.zipped() {
		ext = "zip"
	}
	if r.Format == FormatBundle {
		return "hotline-evidence-" + now.UTC().Format("20060102-150405") + ".zip"
	}
	return "hotline-export-" + now.UTC().Format("20060102-150405") + "." + ext
}

// NewEncoder returns the request's encoder writing to w.
func (r Request) NewEncoder(w io.Writer) Encoder {
	switch {
	case r.Format == FormatCSV:
		return NewCSV(w)
	case r.zipped():
		return NewPDFZip(w)
	case r.Format == FormatPDF:
		return NewPDF(w)
	}
	return NewJSONL(w)
}

// Auditor appends entries to the audit log (hotline.Accounts).
type Auditor interface {
	Audit(ctx context.Context, e hotline.AuditEntry) error
}

// Audit target types of exports.
const TargetExport = "export"

// Run is an export as the hotline allows it: only coordinators (and the operator on
// the server) may export; the export is audited before the first byte is written
// (who, which filters and options, and a reveal of numbers as a reveal of its own),
// and again when it ends with how many conversations and messages it wrote, or how
// it failed. An export whose start cannot be audited does not run.
func Run(ctx context.Context, store hotline.Store, audit Auditor, c hotline.Caller, req Request, w io.Writer) (Stats, error) {
	operator := c.Operator != "" && hotline.IsZeroID(c.User.ID)
	if !operator && !c.User.IsCoordinator() {
		return Stats{}, hotline.Errorf(hotline.EFORBIDDEN, "Only coordinators can export transcripts.")
	}
	if err := req.checkBundle(); err != nil {
		return Stats{}, err
	}
	if req.Options.Now.IsZero() {
		req.Options.Now = time.Now()
	}
	id := hotline.NewID(req.Options.Now)
	start := entry(c, hotline.AuditExport, id)
	start.Detail = req.detail()
	start.Detail["status"] = "started"
	if err := audit.Audit(ctx, start); err != nil {
		return Stats{}, err
	}
	if req.Options.RevealNumbers {
		e := entry(c, hotline.AuditReveal, id)
		e.Detail = map[string]string{"scope": "export"}
		if err := audit.Audit(ctx, e); err != nil {
			return Stats{}, err
		}
	}
	enc := req.NewEncoder(w)
	if req.Format == FormatBundle {
		custody := Custody{ExportID: id.String(), ExportedAt: req.Options.Now.UTC().Format(time.RFC3339Nano), Via: req.Via,
			ExportedBy: CustodyActor{UserID: idOrEmpty(c.User.ID), Username: start.ActorUsername, RemoteAddr: c.RemoteAddr},
			Request:    req.detail()}
		enc = newBundle(ctx, w, store, req.SigningKey, custody, req.Options.Now)
	}
	stats, err := Stream(ctx, store, req.Filter, req.Options, enc)
	end := entry(c, hotline.AuditExport, id)
	end.Detail = map[string]string{"format": string(req.Format), "status": "completed",
		"conversations": strconv.Itoa(stats.Conversations), "messages": strconv.Itoa(stats.Messages)}
	if stats.Missing > 0 {
		end.Detail["missing_ids"] = strconv.Itoa(stats.Missing)
	}
	switch {
	case ctx.Err() != nil:
		end.Detail["status"] = "cancelled"
	case err != nil:
		end.Detail["status"] = "failed"
		end.Detail["error"] = hotline.ErrorCode(err)
	}
	if aerr := audit.Audit(context.WithoutCancel(ctx), end); aerr != nil && err == nil {
		err = aerr
	}
	return stats, err
}

// checkBundle refuses what an evidence bundle cannot be: unsigned, or with bodies
// masked (the chain covers the bodies as they were written).
func (r Request) checkBundle() error {
	switch {
	case r.Format != FormatBundle:
		return nil
	case len(r.SigningKey) != ed25519.PrivateKeySize:
		return hotline.Errorf(hotline.EUNAVAILABLE, "This server has no signing key for evidence bundles.")
	case r.Options.MaskBodies:
		return hotline.Errorf(hotline.EINVALID, "mask_bodies: an evidence bundle holds the messages as they were written, which their hash chain covers; leave bodies unmasked.")
	}
	return nil
}

func entry(c hotline.Caller, action hotline.AuditAction, id hotline.ID) hotline.AuditEntry {
	e := hotline.AuditEntry{Action: action, TargetType: TargetExport, TargetID: id.String(), RemoteAddr: c.RemoteAddr}
	if hotline.IsZeroID(c.User.ID) {
		e.ActorUsername = c.Operator
	} else {
		e.ActorID, e.ActorUsername = c.User.ID, c.User.Username
	}
	return e
}

// detail describes the request for the audit log: filters and options, never
// content.
func (r Request) detail() map[string]string {
	d := map[string]string{"format": string(r.Format)}
	if r.Via != "" {
		d["via"] = r.Via
	}
	f := r.Filter
	if !f.From.IsZero() {
		d["from"] = f.From.UTC().Format(time.RFC3339)
	}
	if !f.To.IsZero() {
		d["to"] = f.To.UTC().Format(time.RFC3339)
	}
	join := func(key string, items []string) {
		if len(items) == 0 {
			return
		}
		s := strings.Join(items, ",")
		if len(s) > 400 {
			s = s[:400] + fmt.Sprintf("… (%d in all)", len(items))
		}
		d[key] = s
	}
	var states, responders, ids []string
	for _, s := range f.States {
		states = append(states, string(s))
	}
	for _, id := range f.Responders {
		responders = append(responders, id.String())
	}
	for _, id := range f.IDs {
		ids = append(ids, id.String())
	}
	join("states", states)
	join("dispositions", slices.Clone(f.Dispositions))
	join("tags", slices.Clone(f.Tags))
	join("responders", responders)
	join("ids", ids)
	o := r.Options
	d["notes"] = strconv.FormatBool(o.IncludeNotes)
	d["reveal_numbers"] = strconv.FormatBool(o.RevealNumbers)
	d["mask_bodies"] = strconv.FormatBool(o.MaskBodies)
	return d
}
