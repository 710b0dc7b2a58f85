package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/hotlinehq/hotline/hotline"
)

// passwordEnv holds the password for `hotline user add` and `reset-password` in
// scripts; without it the password is read from the terminal (not echoed), or from
// the first line of standard input.
const passwordEnv = "HOTLINE_PASSWORD"

// cli is who acts, in the audit log, when a user command runs.
var cli = hotline.OperatorCaller(hotline.OperatorCLI)

// userCommands are the subcommands of `hotline user`. They run on a stopped
// server's data directory (the server holds the file while it runs).
var userCommands = []struct {
	name, args, summary string
	run                 func(ctx context.Context, e env, args []string) error
}{
	{"add", "--username NAME --role responder|coordinator [--display-name …] [--languages en,es] [--capacity 3] [--phone …]",
		"add a user; the password comes from the terminal, stdin or " + passwordEnv, userAdd},
	{"list", "", "list the users", userList},
	{"disable", "NAME", "disable a user and end their sessions", userDisable},
	{"enable", "NAME", "enable a disabled user", userEnable},
	{"reset-password", "NAME", "set a user's password (terminal, stdin or " + passwordEnv + ") and end their sessions", userResetPassword},
	{"totp", "NAME [--off]", "give a user a new one-time-code secret, printed once (--off removes it)", userTOTP},
}

func runUser(ctx context.Context, e env, args []string) error {
	if len(args) > 0 {
		for _, c := range userCommands {
			if c.name == args[0] {
				return c.run(ctx, e, args[1:])
			}
		}
	}
	fmt.Fprintln(e.stderr, "usage: hotline user <subcommand> [--config FILE] [--data-dir DIR] …\n\nsubcommands:")
	for _, c := range userCommands {
		fmt.Fprintf(e.stderr, "  %-15s %s\n  %-15s   %s\n", c.name, c.args, "", c.summary)
	}
	switch {
	case len(args) == 0:
		return usageError{"name a subcommand"}
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		return flag.ErrHelp
	}
	return usageError{fmt.Sprintf("unknown subcommand %q", args[0])}
}

// userFlags are the flags every user subcommand has.
type userFlags struct {
	fs      *flag.FlagSet
	config  *string
	dataDir *string
}

func newUserFlags(name string, e env) userFlags {
	fs := newFlags("user "+name, e)
	return userFlags{fs: fs,
		config:  fs.String("config", "", "the configuration file"),
		dataDir: fs.String("data-dir", "", "the data directory of a stopped hotline (overrides data_dir)")}
}

// parse parses the flags; with name, it takes the user's name as the one argument,
// with flags before or after it.
func (f userFlags) parse(args []string, name bool) (string, error) {
	if !name {
		return "", parseFlags(f.fs, args)
	}
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", usageError{err.Error()}
	}
	if f.fs.NArg() == 0 {
		return "", usageError{"name the user, like: hotline user " + strings.TrimPrefix(f.fs.Name(), "hotline user ") + " ana"}
	}
	username := f.fs.Arg(0)
	return username, parseFlags(f.fs, f.fs.Args()[1:])
}

// open loads the configuration and opens the stopped server's store; close it with
// the returned function.
func (f userFlags) open(e env) (*hotline.Accounts, func(), error) {
	e.environ = slices.DeleteFunc(slices.Clone(e.environ), func(kv string) bool { return strings.HasPrefix(kv, passwordEnv+"=") })
	cfg, err := loadConfig(e, *f.config, *f.dataDir)
	if err != nil {
		return nil, nil, err
	}
	st, err := openExisting(cfg)
	if err != nil {
		return nil, nil, err
	}
	return newAccounts(cfg, st), func() { st.Close() }, nil
}

// withUser opens the store and runs fn on the named user.
func (f userFlags) withUser(ctx context.Context, e env, username string, fn func(*hotline.Accounts, hotline.User) error) error {
	accounts, closeStore, err := f.open(e)
	if err != nil {
		return err
	}
	defer closeStore()
	u, err := accounts.UserByUsername(ctx, cli, username)
	if hotline.IsNotFound(err) {
		return fmt.Errorf("there is no user %q (see hotline user list)", username)
	} else if err != nil {
		return err
	}
	return fn(accounts, u)
}

func userAdd(ctx context.Context, e env, args []string) error {
	f := newUserFlags("add", e)
	username := f.fs.String("username", "", "the username to sign in with (required)")
	role := f.fs.String("role", "", "responder or coordinator (required)")
	display := f.fs.String("display-name", "", "the name others see (default: the username)")
	languages := f.fs.String("languages", "", "the languages they answer in, comma-separated, like en,es")
	capacity := f.fs.Int("capacity", hotline.DefaultCapacity, "how many conversations they take at once")
	phone := f.fs.String("phone", "", "their own phone, for pages")
	if _, err := f.parse(args, false); err != nil {
		return err
	}
	if *username == "" || *role == "" {
		return usageError{"--username and --role are required"}
	}
	var langs []string
	for l := range strings.SplitSeq(*languages, ",") {
		if l = strings.TrimSpace(l); l != "" {
			langs = append(langs, l)
		}
	}
	accounts, closeStore, err := f.open(e)
	if err != nil {
		return err
	}
	defer closeStore()
	password, err := readPassword(e, true)
	if err != nil {
		return err
	}
	u, err := accounts.CreateUser(ctx, cli, hotline.NewUser{Username: *username, Password: password, Role: hotline.Role(*role),
		DisplayName: *display, Languages: langs, Capacity: capacity, Phone: *phone})
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(e.stdout, "added %s %s (%s)\n", u.Role, u.Username, u.ID)
	return nil
}

func userList(ctx context.Context, e env, args []string) error {
	f := newUserFlags("list", e)
	if _, err := f.parse(args, false); err != nil {
		return err
	}
	accounts, closeStore, err := f.open(e)
	if err != nil {
		return err
	}
	defer closeStore()
	users, err := accounts.ListUsers(ctx, cli)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USERNAME\tROLE\tSTATUS\tTOTP\tLANGUAGES\tCAPACITY\tDISPLAY NAME\tID")
	for _, u := range users {
		status, totp := "enabled", "no"
		if u.Disabled {
			status = "disabled"
		}
		if u.HasTOTP() {
			totp = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", u.Username, u.Role, status, totp,
			strings.Join(u.Languages, ","), u.Capacity, u.DisplayName, u.ID)
	}
	return w.Flush()
}

func userDisable(ctx context.Context, e env, args []string) error {
	f := newUserFlags("disable", e)
	name, err := f.parse(args, true)
	if err != nil {
		return err
	}
	return f.withUser(ctx, e, name, func(a *hotline.Accounts, u hotline.User) error {
		if _, err := a.DisableUser(ctx, cli, u.ID); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "disabled %s; their sessions have ended\n", u.Username)
		return nil
	})
}

func userEnable(ctx context.Context, e env, args []string) error {
	f := newUserFlags("enable", e)
	name, err := f.parse(args, true)
	if err != nil {
		return err
	}
	return f.withUser(ctx, e, name, func(a *hotline.Accounts, u hotline.User) error {
		if _, err := a.EnableUser(ctx, cli, u.ID); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "enabled %s\n", u.Username)
		return nil
	})
}

func userResetPassword(ctx context.Context, e env, args []string) error {
	f := newUserFlags("reset-password", e)
	name, err := f.parse(args, true)
	if err != nil {
		return err
	}
	return f.withUser(ctx, e, name, func(a *hotline.Accounts, u hotline.User) error {
		password, err := readPassword(e, true)
		if err != nil {
			return err
		}
		if err := a.ResetPassword(ctx, cli, u.ID, password, ""); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "set a new password for %s; their sessions have ended\n", u.Username)
		return nil
	})
}

func userTOTP(ctx context.Context, e env, args []string) error {
	f := newUserFlags("totp", e)
	off := f.fs.Bool("off", false, "remove the user's one-time codes instead")
	name, err := f.parse(args, true)
	if err != nil {
		return err
	}
	return f.withUser(ctx, e, name, func(a *hotline.Accounts, u hotline.User) error {
		if *off {
			if err := a.DisableTOTP(ctx, cli, u.ID); err != nil {
				return cliError(err)
			}
			fmt.Fprintf(e.stdout, "%s signs in without a one-time code now\n", u.Username)
			return nil
		}
		setup, err := a.SetupTOTP(ctx, cli, u.ID)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.stdout, "One-time codes are on for %s, replacing any earlier secret. Add this to their\n"+
			"authenticator app (shown once; it is the second factor, keep it from others):\n\n"+
			"  %s\n\n  secret: %s\n", u.Username, setup.URL, setup.Secret)
		return nil
	})
}

// readPassword reads a new password: from HOTLINE_PASSWORD, else from the terminal
// without echo (twice, when confirm), else from the first line of standard input.
func readPassword(e env, confirm bool) (string, error) {
	for _, kv := range e.environ {
		if v, ok := strings.CutPrefix(kv, passwordEnv+"="); ok {
			return v, nil
		}
	}
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "Password (at least %d characters): ", hotline.MinPasswordRunes)
		p, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil || !confirm {
			return string(p), err
		}
		fmt.Fprint(e.stderr, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(again) != string(p) {
			return "", errors.New("the two passwords differ")
		}
		return string(p), nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", fmt.Errorf("no password: type it at a terminal, pipe it on standard input, or set %s", passwordEnv)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// cliError shows a domain error's message without the "hotline error: code=" frame.
func cliError(err error) error {
	var de *hotline.Error
	if errors.As(err, &de) {
		return errors.New(de.Message)
	}
	return err
}
