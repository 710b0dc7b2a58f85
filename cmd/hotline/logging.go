package main

import (
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/hotlinehq/hotline/config"
)

// newLogger builds the root logger: human-readable on a terminal, JSON otherwise
// (or as configured). Every component gets a child with a "component" field.
func newLogger(w io.Writer, cfg config.Log) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.Level)
	if err != nil || cfg.Level == "" {
		level = zerolog.InfoLevel
	}
	format := cfg.Format
	if format == config.LogFormatAuto || format == "" {
		format = config.LogFormatJSON
		if isTerminal(w) {
			format = config.LogFormatConsole
		}
	}
	if format == config.LogFormatConsole {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
