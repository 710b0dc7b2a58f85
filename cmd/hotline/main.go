// Command hotline is the hotline server and its tools, in one binary:
//
//	hotline serve   [--config FILE]                 run the hotline
//	hotline check   [--config FILE] [--data-dir DIR] check the store's consistency
//	hotline export  --format jsonl|csv|pdf|bundle [--bundle] [--out FILE] [filters] [--data-dir DIR | --server URL]
//	hotline backup  --out FILE [--keys-out FILE] [--data-dir DIR | --server URL]  copy a consistent snapshot of the store
//	hotline verify  [--data-dir DIR] [--conversation ID]  check every conversation's hash chain
//	hotline verify-bundle FILE --public-key KEY      check an evidence bundle (signature, files, chains)
//	hotline key     [--data-dir DIR | --server URL]  print the hotline's public signing key
//	hotline rotate-key --new-key-file FILE [--data-dir DIR]  re-wrap the data keys under a new master key
//	hotline encrypt [--data-dir DIR]                 encrypt a plaintext store with the configured master key
//	hotline purge   [--dry-run] [--data-dir DIR]     purge closed conversations past retention.days
//	hotline user    add|list|disable|enable|reset-password|totp   manage console users (server stopped)
//	hotline version                                  print the version
//
// With no configuration at all, serve starts a working hotline on
// http://127.0.0.1:8080 with its data in ./data and the built-in texter simulator.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// env is what a command needs from the process, so tests can run commands in-process.
type env struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	environ []string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the hotline", runServe},
		{"check", "check the store's consistency (the server must be stopped, or use the same data_dir read-only)", runCheck},
		{"export", "export transcripts as JSON Lines, CSV or PDF from a stopped data dir, or --server from a running hotline", runExport},
		{"backup", "write a consistent copy of the store (of a stopped data dir, or --server of a running hotline)", runBackup},
		{"purge", "purge closed conversations older than retention.days (--dry-run: count only) on a stopped data dir", runPurge},
		{"user", "manage console users on a stopped server's data: add, list, disable, enable, reset-password, totp", runUser},
		{"verify", "check every conversation's hash chain (tamper-evident history) on a stopped data dir; --conversation ID for one", runVerify},
		{"verify-bundle", "check an evidence bundle: FILE --public-key KEY (signature, every file's SHA-256, every chain)", runVerifyBundle},
		{"key", "print the hotline's public signing key and its fingerprint (stopped data dir, or --server URL)", runKey},
		{"rotate-key", "re-wrap the data keys under a new master key: --new-key-file FILE (server stopped)", runRotateKey},
		{"encrypt", "encrypt a plaintext store with the configured master key now (server stopped; serve also does it at start)", runEncrypt},
		{"healthcheck", "ask a running hotline whether it is alive (for container health checks)", runHealthcheck},
		{"load", "send signed Twilio webhooks to a hotline and measure it (see BENCHMARKS.md)", runLoad},
		{"version", "print the version", func(_ context.Context, e env, _ []string) error {
			fmt.Fprintln(e.stdout, "hotline", version)
			return nil
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && (os.Args[1] == "serve" || os.Args[1] == "load") {
		tuneGC(os.LookupEnv) // serve.go: GOGC=400 under a soft 256 MiB limit, unless $GOGC is set
	}
	os.Exit(run(ctx, env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()}, os.Args[1:]))
}

// run runs one command and returns the process exit code: 0 on success, 2 for a
// usage error, 1 for any other failure.
func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.As(err, new(usageError)):
				fmt.Fprintf(e.stderr, "hotline %s: %v\n", c.name, err)
				return 2
			default:
				fmt.Fprintf(e.stderr, "hotline %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(e.stderr, "hotline: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: hotline <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'hotline <command> -h' for a command's flags.")
}

// usageError is a mistake in the command line, answered with exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("hotline "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses args and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
