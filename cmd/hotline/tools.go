package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hotlinehq/hotline/config"
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

// openExisting opens the store of a data directory for a tool, refusing to create
// one where there is none (a mistyped --data-dir must not look like an empty hotline).
func openExisting(cfg config.Config) (*store.Store, error) {
	if _, err := os.Stat(cfg.DBPath()); err != nil {
		return nil, fmt.Errorf("no hotline database at %s (set --data-dir or data_dir): %w", cfg.DBPath(), err)
	}
	return store.Open(cfg.DBPath(), store.Options{LockTimeout: cfg.Store.LockTimeout})
}

func runCheck(ctx context.Context, e env, args []string) error {
	fs := newFlags("check", e)
	configPath := fs.String("config", "", "the configuration file")
	dataDir := fs.String("data-dir", "", "the data directory (overrides data_dir)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *configPath, *dataDir)
	if err != nil {
		return err
	}
	st, err := openExisting(cfg)
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

func runExport(ctx context.Context, e env, args []string) error {
	fs := newFlags("export", e)
	configPath := fs.String("config", "", "the configuration file")
	dataDir := fs.String("data-dir", "", "the data directory of a stopped hotline (overrides data_dir)")
	format := fs.String("format", "jsonl", "jsonl (one conversation per line) or csv (one row per message)")
	out := fs.String("out", "", "the file to write (default: standard output)")
	from := fs.String("from", "", "only conversations created at or after this time (RFC 3339 or YYYY-MM-DD)")
	to := fs.String("to", "", "only conversations created before this time (RFC 3339 or YYYY-MM-DD)")
	notes := fs.Bool("notes", false, "include responders' internal notes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var filter export.Filter
	var err error
	if filter.From, err = parseTimeFlag("from", *from); err != nil {
		return err
	}
	if filter.To, err = parseTimeFlag("to", *to); err != nil {
		return err
	}
	if *format != "jsonl" && *format != "csv" {
		return usageError{fmt.Sprintf("--format %q: use jsonl or csv", *format)}
	}
	cfg, err := loadConfig(e, *configPath, *dataDir)
	if err != nil {
		return err
	}
	st, err := openExisting(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return writeOutput(*out, e.stdout, func(w io.Writer) error {
		var enc export.Encoder = export.NewJSONL(w)
		if *format == "csv" {
			enc = export.NewCSV(w)
		}
		stats, err := export.Stream(ctx, st, filter, export.Options{IncludeNotes: *notes}, enc)
		if err == nil {
			fmt.Fprintf(e.stderr, "exported %d conversations, %d messages\n", stats.Conversations, stats.Messages)
		}
		return err
	})
}

func runBackup(ctx context.Context, e env, args []string) error {
	fs := newFlags("backup", e)
	configPath := fs.String("config", "", "the configuration file")
	dataDir := fs.String("data-dir", "", "the data directory (overrides data_dir)")
	out := fs.String("out", "", "the backup file to write (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out FILE is required"}
	}
	cfg, err := loadConfig(e, *configPath, *dataDir)
	if err != nil {
		return err
	}
	st, err := openExisting(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.BackupToFile(ctx, *out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup written to %s\n", *out)
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
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

func parseTimeFlag(name, value string) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, value); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Sprintf("--%s %q: write a time like 2026-01-31 or 2026-01-31T18:00:00Z", name, value)}
}

var _ hotline.Store = (*store.Store)(nil)
