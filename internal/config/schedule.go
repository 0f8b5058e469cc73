package config

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // schedule.timezone must resolve in minimal images without /usr/share/zoneinfo

	"github.com/robfig/cron/v3"

	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/oneline"
)

// validateSchedule checks the schedule section s.
func validateSchedule(s Schedule, bad problemFunc) {
	loc, tzErr := time.LoadLocation(s.Timezone)
	if s.Timezone == "" || tzErr != nil {
		loc = time.UTC // reported below; the cron check still runs
	}
	if _, err := parseCron(s.Cron, s.Seconds, time.Now().In(loc)); err != nil {
		bad("schedule.cron", "%v", err)
	}
	if s.Timezone == "" || tzErr != nil {
		bad("schedule.timezone", "must be an IANA time zone name like UTC or Europe/Berlin, got %q", s.Timezone)
	}
	if s.Timeout <= 0 {
		bad("schedule.timeout", "must be a positive duration like \"1h\", got %q", s.Timeout)
	}
	if n := s.Retries; n < 0 || n > 10 {
		bad("schedule.retries", "must be an integer from 0 to 10, got %d", n)
	}
}

// minEvery is the shortest "@every" interval schedule.cron accepts: five cron fields cannot
// say anything more often than once a minute either, and a run takes far longer than a second
// (its requests alone, paced at engage.requests_per_minute). schedule.seconds opts into
// second-granularity schedules (tests, demos) and lowers it to minEveryWithSecondsField.
const (
	minEvery                 = time.Minute
	minEveryWithSecondsField = time.Second
)

// Parse reads the schedule as the daemon runs it: the cron spec of Cron (with a leading
// seconds field when Seconds), checked as validation checks it (parseCron), read in Timezone;
// an "@every" interval ticks at its multiples (daemon.Every), the same whichever replica
// leads. Validation and the daemon both read a schedule through it. Its errors name the key.
func (s Schedule) Parse() (cron.Schedule, error) {
	loc, err := time.LoadLocation(s.Timezone)
	if s.Timezone == "" || err != nil {
		return nil, fmt.Errorf("schedule.timezone: must be an IANA time zone name like UTC or Europe/Berlin, got %q", s.Timezone)
	}
	sched, err := parseCron(s.Cron, s.Seconds, time.Now().In(loc))
	if err != nil {
		return nil, fmt.Errorf("schedule.cron: %w", err)
	}
	if e, ok := sched.(cron.ConstantDelaySchedule); ok {
		return daemon.Every(e.Delay), nil
	}
	return daemon.InZone(sched, loc), nil
}

// parseCron parses the cron spec of schedule.cron, read with a leading seconds field when
// seconds is true: it must parse, an "@every" interval must be at least minEvery (robfig/cron
// would silently run "@every -1h" and "@every 1ms" every second), and the spec must match a
// time after now (robfig/cron looks five years ahead: "0 0 30 2 *" matches none and would
// never run). Its error reads after the key.
func parseCron(spec string, seconds bool, now time.Time) (cron.Schedule, error) {
	var sched cron.Schedule
	var err error
	if seconds {
		sched, err = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor).Parse(spec)
		if err != nil {
			return nil, fmt.Errorf("must be 6 fields (second minute hour day-of-month month day-of-week, as schedule.seconds is true) or a descriptor like @daily or @every 1h, got %q: %s", spec, oneline.Of(err.Error(), 0))
		}
	} else if sched, err = cron.ParseStandard(spec); err != nil {
		return nil, fmt.Errorf("must be 5 fields (minute hour day-of-month month day-of-week) or a descriptor like @daily or @every 1h, got %q: %s", spec, oneline.Of(err.Error(), 0))
	}
	if d, ok := everyInterval(spec); ok {
		low, want := minEvery, "at least 1m (or 1s with schedule.seconds: true)"
		if seconds {
			low, want = minEveryWithSecondsField, "at least 1s"
		}
		if d < low {
			return nil, fmt.Errorf("an @every interval must be %s, got %q", want, spec)
		}
		return sched, nil
	}
	if sched.Next(now).IsZero() {
		return nil, fmt.Errorf("matches no time in the next 5 years (a date like February 30), so it would never run, got %q", spec)
	}
	return sched, nil
}

// everyInterval returns the interval of an "@every D" spec (after an optional CRON_TZ= or TZ=
// prefix), as robfig/cron reads it before rounding it to whole seconds of at least one.
func everyInterval(spec string) (time.Duration, bool) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		_, spec, _ = strings.Cut(spec, " ")
		spec = strings.TrimSpace(spec)
	}
	v, ok := strings.CutPrefix(spec, "@every ")
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	return d, err == nil
}
