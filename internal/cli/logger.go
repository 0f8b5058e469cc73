package cli

import (
	"io"
	"log/slog"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/daemon"
)

// newLogger returns the logger that log.level and log.format describe, writing to w (through
// its progress display when w is a terminal: logWriter). Format auto means text when w is a
// terminal and JSON otherwise (containers, files, pipes).
func newLogger(c config.Config, w io.Writer) *slog.Logger {
	level, err := config.ParseLevel(c.Log.Level)
	if err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: durationText}
	format := c.Log.Format
	if format == "auto" || format == "" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	w = logWriter(w)
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	opts.ReplaceAttr = durationSeconds
	return slog.New(slog.NewJSONHandler(w, opts))
}

// durationText renders durations as text ("180ms") in text logs, for people.
func durationText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// durationSeconds renders durations as numbers of seconds ("duration":0.18) in JSON logs, for
// machines (slog would print nanoseconds, "duration":180000000), as --output json does.
func durationSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.Float64Value(a.Value.Duration().Seconds())
	}
	return a
}

// daemonConfigOf returns the process-wide settings of `syncer run` taken from c (which must be
// valid); each tenant's schedule is its own (Tenant.Schedule).
func daemonConfigOf(c config.Config) daemon.Config {
	return daemon.Config{
		ControlSchema:     c.Database.ControlSchema,
		MaxConcurrentRuns: c.Schedule.MaxConcurrentRuns,
		Grace:             c.Shutdown.GracePeriod,
		Listen:            c.HTTP.Listen,
		ReadyStaleness:    c.HTTP.ReadyStaleness,
	}
}
