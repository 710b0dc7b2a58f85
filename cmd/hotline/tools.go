package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/console"
	"github.com/hotlinehq/hotline/export"
	"github.com/hotlinehq/hotline/hotline"
	"github.com/hotlinehq/hotline/store"
)

// loadConfig loads and validates the configuration, applying a --data-dir override.
func loadConfig(e env, path, dataDir string) (config.Config, error) {
	cfg, err := config.Load(path, e.environ)
	if err != nil {
		return cfg, err
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

// openStopped loads and validates the configuration (with a --data-dir override)
// and opens the existing store of that stopped data directory, for the tools.
func openStopped(e env, configPath, dataDir string) (config.Config, *store.Store, error) {
	cfg, err := loadConfig(e, configPath, dataDir)
	if err != nil {
		return cfg, nil, err
	}
	st, err := openExisting(cfg)
	return cfg, st, err
}

// openExisting opens the store of a data directory for a tool, refusing to create
// one where there is none (a mistyped --data-dir must not look like an empty hotline).
func openExisting(cfg config.Config) (*store.Store, error) {
	if _, err := os.Stat(cfg.DBPath()); err != nil {
		return nil, fmt.Errorf("no hotline database at %s (set --data-dir or data_dir): %w", cfg.DBPath(), err)
	}
	opts, err := storeOptions(cfg)
	if err != nil {
		return nil, err
	}
	return store.Open(cfg.DBPath(), opts)
}

// wireTools gives the console the coordinators' tools: exports, backups, retention
// (and its daily job), the dashboard and the automatic texts, dispositions and tags
// edited in the console, which it loads now so that they are in force from the
// first text.
func (a *app) wireTools(deps *console.Deps) error {
	loc := a.cfg.Location()
	retention := hotline.NewRetention(a.svc, a.cfg.Retention.Days)
	texts := hotline.NewTextSettings(a.svc, a.svc.Policy().TextsByLanguage, a.cfg.SMS.MaxSegments)
	if err := texts.Load(context.Background()); err != nil {
		return fmt.Errorf("loading the automatic texts edited in the console: %w", err)
	}
	closeLists := hotline.NewCloseListSettings(a.svc, hotline.CloseLists{
		Dispositions: a.cfg.Conversation.Dispositions, Tags: a.cfg.Conversation.Tags})
	if err := closeLists.Load(context.Background()); err != nil {
		return fmt.Errorf("loading the dispositions and tags edited in the console: %w", err)
	}
	roster := hotline.NewRoster(a.svc)
	onCall := func(ctx context.Context, at time.Time) ([]hotline.ID, bool, error) {
		s, err := roster.Schedule(ctx, hotline.OperatorCaller("dashboard"))
		if err != nil {
			return nil, false, err
		}
		// No schedule at all: routing counts everyone as on call (hotline.Schedule.Unset).
		return s.OnCallAt(at), s.Unset(), nil
	}
	deps.Tools = console.Tools{Store: a.store, Location: loc, Backup: a.store.Backup, Retention: retention,
		Dashboard: hotline.NewDashboard(a.svc, loc, onCall), Texts: texts, CloseLists: closeLists, SigningKey: a.store.SigningKey}
	if a.cfg.Retention.Days > 0 {
		log := a.log.With().Str("component", "retention").Logger()
		log.Info().Int("days", a.cfg.Retention.Days).Msg("closed conversations older than this are purged daily")
		a.workers = append(a.workers, worker{"retention", func(ctx context.Context) {
			retention.RunDaily(ctx, retentionFirstRun, func(rep hotline.PurgeReport, err error) {
				if err != nil {
					log.Error().Err(err).Int("purged", rep.Conversations).Msg("the retention purge failed; it runs again tomorrow")
					return
				}
				log.Info().Int("conversations", rep.Conversations).Int("messages", rep.Messages).Int("held", rep.Held).Int("pages", rep.Pages).
					Msg("retention purge done")
			})
		}})
	}
	return nil
}

// retentionFirstRun is how long after start the first daily purge runs: late enough
// not to slow a restart, early enough that a server restarted daily still purges.
const retentionFirstRun = 10 * time.Minute

func runCheck(ctx context.Context, e env, args []string) error {
	fs := newFlags("check", e)
	configPath := fs.String("config", "", "the configuration file")
	dataDir := fs.String("data-dir", "", "the data directory (overrides data_dir)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, st, err := openStopped(e, *configPath, *dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	problems, err := st.Check(ctx)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(e.stdout, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %d problems found", cfg.DBPath(), len(problems))
	}
	fmt.Fprintf(e.stdout, "%s: ok\n", cfg.DBPath())
	return nil
}

// exportFlags are the flags `hotline export` shares between a running server and a
// stopped data directory.
type exportFlags struct {
	format, out, from, to, states, dispositions, tags, responders, ids string
	notes, reveal, maskBodies, noProgress, bundle                      bool
}

func runExport(ctx context.Context, e env, args []string) error {
	fs := newFlags("export", e)
	configPath := fs.String("config", "", "the configuration file")
	dataDir := fs.String("data-dir", "", "the data directory of a stopped hotline (overrides data_dir)")
	server := fs.String("server", "", "export from a running hotline at this URL, with a coordinator's API token from "+apiTokenEnv+
		" (or --username and a password)")
	username := fs.String("username", "", "with --server and no "+apiTokenEnv+": sign in as this coordinator (password from "+passwordEnv+", the terminal or stdin)")
	totp := fs.String("totp", "", "with --username: the one-time code, for accounts with a second factor")
	var f exportFlags
	fs.StringVar(&f.format, "format", "jsonl", "jsonl (one conversation per line), csv (one row per message) or pdf (a PDF for one conversation, else a zip of PDFs)")
	fs.StringVar(&f.out, "out", "", "the file to write (default: standard output)")
	fs.StringVar(&f.from, "from", "", "only conversations created at or after this time (RFC 3339, or YYYY-MM-DD in the hotline's time zone)")
	fs.StringVar(&f.to, "to", "", "only conversations created before this time (RFC 3339, or YYYY-MM-DD)")
	fs.StringVar(&f.states, "state", "", "only these states, comma-separated: waiting, assigned, active, closed")
	fs.StringVar(&f.dispositions, "disposition", "", "only these dispositions, comma-separated")
	fs.StringVar(&f.tags, "tag", "", "only conversations with one of these tags, comma-separated")
	fs.StringVar(&f.responders, "responder", "", "only conversations one of these users (IDs or usernames, comma-separated) was assigned")
	fs.StringVar(&f.ids, "ids", "", "only these conversations (IDs, comma-separated)")
	fs.BoolVar(&f.notes, "notes", false, "include responders' internal notes")
	fs.BoolVar(&f.reveal, "reveal", false, "show texters' full numbers (audited as a reveal)")
	fs.BoolVar(&f.maskBodies, "mask-bodies", false, "hide phone numbers and e-mail addresses inside messages")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress bar, even on a terminal")
	fs.BoolVar(&f.bundle, "bundle", false, "a signed evidence bundle (a zip of PDF and JSON transcripts, hash chains, chain of custody; same as --format bundle)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.bundle {
		f.format = string(export.FormatBundle)
	}
	format, err := export.ParseFormat(f.format)
	if err != nil {
		return usageError{fmt.Sprintf("--format %q: use jsonl, csv, pdf or bundle", f.format)}
	}
	if *server != "" {
		if *dataDir != "" {
			return usageError{"--server and --data-dir: choose one"}
		}
		return remoteExport(ctx, e, *server, *username, *totp, f)
	}
	cfg, err := loadConfig(e, *configPath, *dataDir)
	if err != nil {
		return err
	}
	loc := cfg.Location()
	req := export.Request{Format: format, Via: "cli",
		Options: export.Options{IncludeNotes: f.notes, RevealNumbers: f.reveal, MaskBodies: f.maskBodies, Location: loc}}
	if req.Filter.From, err = parseTimeFlag("from", f.from, loc); err != nil {
		return err
	}
	if req.Filter.To, err = parseTimeFlag("to", f.to, loc); err != nil {
		return err
	}
	for _, s := range splitList(f.states) {
		if !hotline.State(s).Valid() {
			return usageError{fmt.Sprintf("--state %q: use waiting, assigned, active or closed", s)}
		}
		req.Filter.States = append(req.Filter.States, hotline.State(s))
	}
	req.Filter.Dispositions, req.Filter.Tags = splitList(f.dispositions), splitList(f.tags)
	for _, s := range splitList(f.ids) {
		id, err := hotline.ParseID(s)
		if err != nil {
			return usageError{"--ids: " + hotline.ErrorMessage(err)}
		}
		req.Filter.IDs = append(req.Filter.IDs, id)
	}
	st, err := openExisting(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if req.Filter.Responders, err = resolveUsers(ctx, st, splitList(f.responders)); err != nil {
		return err
	}
	if format == export.FormatBundle {
		if req.SigningKey, err = st.SigningKey(ctx); err != nil {
			return err
		}
	}
	bar := newProgress(e, f.noProgress, "conversations")
	if bar != nil {
		total, err := export.Count(ctx, st, req.Filter)
		if err != nil {
			return err
		}
		bar.total = int64(total)
		req.Options.Progress = func(s export.Stats) { bar.set(int64(s.Conversations)) }
	}
	return writeOutput(f.out, e.stdout, func(w io.Writer) error {
		stats, err := export.Run(ctx, st, storeAuditor{st}, hotline.OperatorCaller(hotline.OperatorCLI), req, w)
		bar.done()
		if err == nil {
			fmt.Fprintf(e.stderr, "exported %d conversations, %d messages\n", stats.Conversations, stats.Messages)
			if stats.Missing > 0 {
				fmt.Fprintf(e.stderr, "%d of the --ids do not exist (any more)\n", stats.Missing)
			}
		}
		return err
	})
}

// resolveUsers turns user IDs or usernames into IDs.
func resolveUsers(ctx context.Context, st hotline.Store, names []string) ([]hotline.ID, error) {
	var out []hotline.ID
	for _, n := range names {
		if id, err := hotline.ParseID(n); err == nil {
			out = append(out, id)
			continue
		}
		err := st.View(ctx, func(tx hotline.ReadTx) error {
			u, err := tx.UserByUsername(hotline.NormalizeUsername(n))
			if err == nil {
				out = append(out, u.ID)
			}
			return err
		})
		if hotline.IsNotFound(err) {
			return nil, usageError{fmt.Sprintf("--responder %q: no such user", n)}
		} else if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// storeAuditor audits the command line's own actions straight into the store.
type storeAuditor struct{ st hotline.Store }

// Audit appends e, stamped now when it has no time.
func (a storeAuditor) Audit(ctx context.Context, e hotline.AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if hotline.IsZeroID(e.ID) {
		e.ID = hotline.NewID(e.At)
	}
	return a.st.Update(ctx, func(tx hotline.Tx) error { return tx.AppendAudit(e) })
}

func runBackup(ctx context.Context, e env, args []string) error {
	fs := newFlags("backup", e)
	configPath := fs.String("config", "", "the configuration file")
	dataDir := fs.String("data-dir", "", "the data directory of a stopped hotline (overrides data_dir)")
	out := fs.String("out", "", "the backup file to write (required)")
	server := fs.String("server", "", "back up a running hotline at this URL (with --username, or a coordinator's API token in "+apiTokenEnv+")")
	username := fs.String("username", "", "with --server: sign in as this coordinator (password from "+passwordEnv+", the terminal or stdin)")
	totp := fs.String("totp", "", "with --username: the one-time code, for accounts with a second factor")
	noProgress := fs.Bool("no-progress", false, "no progress display, even on a terminal")
	keysOut := fs.String("keys-out", "", "also write a copy of the keystore (the wrapped data keys of an encrypted store) to this file; keep it apart from the store's backups")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out FILE is required"}
	}
	if *server != "" {
		if *dataDir != "" {
			return usageError{"--server and --data-dir: choose one"}
		}
		if *keysOut != "" {
			return usageError{"--keys-out works on a stopped data dir only: stop the server, or copy the keystore while it is stopped"}
		}
		return remoteBackup(ctx, e, *server, *username, *totp, *out, *noProgress)
	}
	_, st, err := openStopped(e, *configPath, *dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := (storeAuditor{st}).Audit(ctx, hotline.AuditEntry{Action: hotline.AuditBackup, TargetType: hotline.TargetBackup,
		ActorUsername: hotline.OperatorCLI, Detail: map[string]string{"via": "cli"}}); err != nil {
		return err
	}
	if err := st.BackupToFile(ctx, *out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup written to %s\n", *out)
	if *keysOut != "" {
		if err := writeOutput(*keysOut, e.stdout, func(w io.Writer) error {
			_, err := st.BackupKeys(ctx, w)
			return err
		}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "keystore written to %s: keep only the newest copy, apart from the store's backups\n", *keysOut)
	} else if st.Encrypted() {
		fmt.Fprintf(e.stdout, "the store is encrypted: this backup is useless without the keystore %s (--keys-out FILE copies it) and the master key\n", st.KeysPath())
	}
	return nil
}

// writeOutput runs write against the named file (written to a temporary file and
// renamed, so a failed export never leaves a partial file that looks complete) or
// against stdout when name is empty.
func writeOutput(name string, stdout io.Writer, write func(io.Writer) error) error {
	if name == "" || name == "-" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".export-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// parseTimeFlag reads an RFC 3339 time, or a date: midnight in loc.
func parseTimeFlag(name, value string, loc *time.Location) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, value); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, value, loc); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Sprintf("--%s %q: write a time like 2026-01-31 or 2026-01-31T18:00:00Z", name, value)}
}

// splitList splits a comma-separated flag, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

var errCutShort = errors.New("the server ended the download before it was complete (see its log); nothing was written")

var _ hotline.Store = (*store.Store)(nil)
