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
	if err := s.checkCron(time.Now().In(loc)); err != nil {
		bad("schedule.cron", "%v", err)
	}
	if s.Timezone == "" || tzErr != nil {
		bad("schedule.timezone", "must be an IANA time zone name like UTC or Europe/Berlin, got %q", s.Timezone)
	}
	if s.Timeout <= 0 {
		bad("schedule.timeout", "must be a positive duration like \"1h\", got %q", s.Timeout)
	}
	if n := s.Retries; n < 0 || n > daemon.RetriesMax {
		bad("schedule.retries", "must be an integer from 0 to %d, got %d", daemon.RetriesMax, n)
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
// seconds field when Seconds) read in Timezone; an "@every" interval ticks at its multiples
// (daemon.Every), the same whichever replica leads. It is the one reader of a schedule:
// validation parses through it too (parseSpec) and adds the checks of what parses but cannot
// work (checkCron), so Parse itself accepts what the daemon's tests and a replica lacking the
// tenant (which reads the leader's Spec) hand it.
func (s Schedule) Parse() (cron.Schedule, error) {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return nil, fmt.Errorf("loading schedule.timezone %q: %w", s.Timezone, err)
	}
	sched, err := s.parseSpec()
	if err != nil {
		return nil, fmt.Errorf("parsing schedule.cron %q: %w", s.Cron, err)
	}
	if e, ok := sched.(cron.ConstantDelaySchedule); ok {
		return daemon.Every(e.Delay), nil
	}
	return daemon.InZone(sched, loc), nil
}

// parseSpec parses the cron spec alone, with robfig/cron's own error.
func (s Schedule) parseSpec() (cron.Schedule, error) {
	fields := cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor
	if s.Seconds {
		fields |= cron.Second
	}
	return cron.NewParser(fields).Parse(s.Cron)
}

// checkCron checks the cron spec of schedule.cron, read with a leading seconds field when
// s.Seconds: it must parse, an "@every" interval must be at least minEvery (robfig/cron would
// silently run "@every -1h" and "@every 1ms" every second), and the spec must match a time
// after now (robfig/cron looks five years ahead: "0 0 30 2 *" matches none and would never
// run). Its error reads after the key.
func (s Schedule) checkCron(now time.Time) error {
	spec := s.Cron
	sched, err := s.parseSpec()
	switch {
	case err != nil && s.Seconds:
		return fmt.Errorf("must be 6 fields (second minute hour day-of-month month day-of-week, as schedule.seconds is true) or a descriptor like @daily or @every 1h, got %q: %s", spec, oneline.Of(err.Error(), 0))
	case err != nil:
		return fmt.Errorf("must be 5 fields (minute hour day-of-month month day-of-week) or a descriptor like @daily or @every 1h, got %q: %s", spec, oneline.Of(err.Error(), 0))
	}
	if d, ok := everyInterval(spec); ok {
		low, want := minEvery, "at least 1m (or 1s with schedule.seconds: true)"
		if s.Seconds {
			low, want = minEveryWithSecondsField, "at least 1s"
		}
		if d < low {
			return fmt.Errorf("an @every interval must be %s, got %q", want, spec)
		}
		return nil
	}
	if sched.Next(now).IsZero() {
		return fmt.Errorf("matches no time in the next 5 years (a date like February 30), so it would never run, got %q", spec)
	}
	return nil
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
