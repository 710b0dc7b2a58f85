package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hotlinehq/hotline/config"
	"github.com/hotlinehq/hotline/hotline"
)

// runPurge is `hotline purge [--dry-run]`: the retention purge, on a stopped data
// directory (a running server purges daily by itself). It prints counts, never
// content; a real purge is audited.
func runPurge(ctx context.Context, e env, args []string) error {
	fs := newFlags("purge", e)
	configPath := fs.String("config", "", "the configuration file")
	dataDir := fs.String("data-dir", "", "the data directory of a stopped hotline (overrides data_dir)")
	dryRun := fs.Bool("dry-run", false, "only count what would be purged")
	days := fs.Int("days", -1, "keep closed conversations this many days instead of retention.days (at least 30)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *configPath, *dataDir)
	if err != nil {
		return err
	}
	keep := cfg.Retention.Days
	if *days >= 0 {
		if *days < config.MinRetentionDays || *days > config.MaxRetentionDays {
			return usageError{fmt.Sprintf("--days %d: between %d and %d", *days, config.MinRetentionDays, config.MaxRetentionDays)}
		}
		keep = *days
	}
	if keep == 0 {
		fmt.Fprintln(e.stdout, "retention.days is 0: closed conversations are kept forever, nothing to purge (set retention.days or --days)")
		return nil
	}
	st, err := openExisting(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := hotline.NewService(st, nil, nil, cfg.Policy())
	rep, err := hotline.NewRetention(svc, keep).Purge(ctx, hotline.OperatorCaller(hotline.OperatorCLI), *dryRun)
	verb := "purged"
	if *dryRun {
		verb = "would purge"
	}
	fmt.Fprintf(e.stdout, "%s conversations closed before %s (%d days): %d conversations, %d messages; %d texters forgotten (%d of them kept as opted out); %d kept under a legal hold; %d page records\n",
		verb, rep.Cutoff.In(cfg.Location()).Format(time.RFC3339), keep, rep.Conversations, rep.Messages, rep.ContactsDeleted, rep.ContactsKept, rep.Held, rep.Pages)
	return cliError(err)
}
