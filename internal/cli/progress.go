package cli

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	syncrun "github.com/evsync/evsync/sync"
)

// progressReporter returns how a run reports its progress (tenant.ProgressFunc): on a
// terminal whose log is text, one line redrawn in place below the log lines (display); in the
// log otherwise (a pipe, a file, /dev/null, JSON logs, several runs at once: logOnly), a line
// every 5 seconds.
func (a *app) progressReporter(logger *slog.Logger, logOnly bool) (func(syncrun.Progress), time.Duration) {
	if d := displayFor(a.stderr); d != nil && !logOnly && a.cfg.Log.Format != "json" {
		return d.report, 500 * time.Millisecond
	}
	return func(p syncrun.Progress) {
		if p.Done {
			return
		}
		attrs := []any{"run_id", p.RunID, "phase", p.Phase, "scopes_done", p.ScopesDone, "scopes_total", p.ScopesTotal,
			"listed", p.Listed, "planned", p.Planned, "rows", p.Rows, "requests", p.Requests, "rate_limited", p.RateLimited,
			"refreshes", p.Refreshes, "elapsed", p.Elapsed.Round(time.Millisecond), "eta", p.ETA.Round(time.Second)}
		if p.Wait > 0 {
			attrs = append(attrs, "waiting", p.Wait.Round(time.Second), "waiting_for", p.WaitReason)
		}
		logger.Info("progress", attrs...)
	}, 5 * time.Second
}

// displays holds the display of each terminal the process writes its log to.
var displays gosync.Map // *os.File → *display

// displayFor returns the display of w when w is a terminal, nil otherwise.
func displayFor(w io.Writer) *display {
	f, ok := w.(*os.File)
	if !ok || !isTerminal(f) {
		return nil
	}
	d, _ := displays.LoadOrStore(f, newDisplay(f, func() (int, int) { return termSize(f) }))
	return d.(*display)
}

// logWriter is where a log written to w goes: through w's display when w is a terminal, so
// that a log line prints above the progress line instead of into it.
func logWriter(w io.Writer) io.Writer {
	if d := displayFor(w); d != nil {
		return d
	}
	return w
}

// display is a terminal that shows, while a run reports progress, one line of it below the
// log lines: an mpb bar of text only, which mpb redraws in place, and whose text never
// exceeds the terminal's width (progressLine). Log lines written to the display go through
// mpb, which prints them above the line and redraws it; with no line shown they go straight
// to the terminal.
type display struct {
	out  io.Writer
	size func() (width, height int)
	// refresh, when set, redraws on demand instead of at mpb's own rate (tests).
	refresh <-chan any

	mu   gosync.Mutex // serializes writes, and the line's start and end
	prog *mpb.Progress
	last atomic.Pointer[syncrun.Progress] // what the line shows
	bar  *mpb.Bar
}

func newDisplay(out io.Writer, size func() (width, height int)) *display {
	return &display{out: out, size: size}
}

// Write writes a log line: above the progress line while one is shown.
func (d *display) Write(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.prog != nil {
		return d.prog.Write(b)
	}
	return d.out.Write(b)
}

// report shows p on the progress line, starting it with a run's first report; a report with
// Done draws the line a last time and leaves it there, above what is printed next.
func (d *display) report(p syncrun.Progress) {
	d.last.Store(&p)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.prog == nil {
		if p.Done {
			return // a run that showed nothing (it ended before its first report) leaves no line
		}
		d.start()
	}
	if p.Done {
		d.bar.SetTotal(-1, true)
		d.prog.Wait() // the last frame, with the log lines written before it
		d.prog, d.bar = nil, nil
	}
}

// start starts the progress line (d.mu held).
func (d *display) start() {
	opts := []mpb.ContainerOption{mpb.WithConsoleWriter(&consoleWriter{out: d.out, size: d.size})}
	if d.refresh != nil {
		opts = append(opts, mpb.WithManualRefresh(d.refresh))
	}
	d.prog = mpb.New(opts...)
	line := decor.Any(func(s decor.Statistics) string {
		// The last column stays free: a terminal that wraps on it would break the redraw.
		return progressLine(*d.last.Load(), s.AvailableWidth-1)
	})
	d.bar = d.prog.New(0, mpb.NopStyle(), mpb.BarFillerTrim(), mpb.PrependDecorators(line))
}

// consoleWriter is how mpb draws on the display's terminal: it buffers a frame; Flush writes
// it, and puts in front of the next frame the escapes that move the cursor back up over the
// frame's lines and clear them (as mpb's own writer does). Its size is the display's.
type consoleWriter struct {
	bytes.Buffer
	out  io.Writer
	size func() (width, height int)
}

// IsTerminal reports true: a display is made for terminals only.
func (w *consoleWriter) IsTerminal() bool { return true }

// GetTermSize returns the terminal's size.
func (w *consoleWriter) GetTermSize() (width, height int, err error) {
	width, height = w.size()
	return width, height, nil
}

// Flush writes the frame, whose last lines lines are the progress line(s) to redraw next.
func (w *consoleWriter) Flush(lines int) error {
	if _, err := w.WriteTo(w.out); err != nil {
		return err
	}
	if lines > 0 {
		fmt.Fprintf(&w.Buffer, "\x1b[%dA\x1b[J", lines)
	}
	return nil
}

// lineField is one field of the progress line.
type lineField struct {
	text string
	// rank orders the fields left out when the line is too long: the highest first.
	rank int
	// shortens: the field is shortened (cut with "…") before it is left out.
	shortens bool
}

// Fields of fewer columns than this are left out rather than shortened.
const minShortened = 10

// progressLine renders p in at most width columns: the fields that do not fit are left out,
// the least telling first (refreshes, retries, 429s, elapsed, rows, then the phase, shortened
// first, the requests and the ETA), and what still does not fit is cut with "…". A
// server-imposed wait ("waiting 28 s: Retry-After") goes last.
func progressLine(p syncrun.Progress, width int) string {
	if width <= 0 {
		return ""
	}
	fields := progressFields(p)
	for {
		line := joinFields(fields)
		over := utf8.RuneCountInString(line) - width
		if over <= 0 {
			return line
		}
		i := lowestRanked(fields)
		if i < 0 {
			return cut(line, width)
		}
		if f := &fields[i]; f.shortens {
			if n := utf8.RuneCountInString(f.text) - over; n >= minShortened {
				f.text = cut(f.text, n)
				continue
			}
		}
		fields = append(fields[:i], fields[i+1:]...)
	}
}

// progressFields are the fields of p's line, in the order shown.
func progressFields(p syncrun.Progress) []lineField {
	phase := fmt.Sprintf("[%s %d/%d]", p.Phase, p.ScopesDone, p.ScopesTotal)
	if p.Done {
		phase = "[ended]" // succeeded or not: the summary says
	}
	fields := []lineField{{text: phase, rank: 3, shortens: true}}
	if p.Wait > 0 && !p.Done {
		secs := (p.Wait + time.Second - 1) / time.Second
		fields = append(fields, lineField{text: fmt.Sprintf("waiting %d s: %s", secs, p.WaitReason), rank: 0})
	}
	requests := fmt.Sprintf("requests %d", p.Listed)
	if p.Planned > 0 && (!p.Done || p.Listed < p.Planned) { // a run that stopped short shows it
		approx := ""
		if p.PlanEstimated {
			approx = "~"
		}
		requests = fmt.Sprintf("requests %d/%s%d", p.Listed, approx, p.Planned)
	}
	fields = append(fields, lineField{text: requests, rank: 2})
	if p.ETA > 0 && !p.Done {
		fields = append(fields, lineField{text: "eta " + p.ETA.Round(time.Second).String(), rank: 1})
	}
	fields = append(fields,
		lineField{text: fmt.Sprintf("rows %d", p.Rows), rank: 4},
		lineField{text: "elapsed " + p.Elapsed.Round(time.Second).String(), rank: 5})
	for _, c := range []struct {
		name string
		n    int64
		rank int
	}{{"429s", p.RateLimited, 6}, {"retries", p.Retries, 7}, {"refreshes", p.Refreshes, 8}} {
		if c.n > 0 {
			fields = append(fields, lineField{text: fmt.Sprintf("%s %d", c.name, c.n), rank: c.rank})
		}
	}
	return fields
}

func joinFields(fields []lineField) string {
	texts := make([]string, len(fields))
	for i, f := range fields {
		texts[i] = f.text
	}
	return strings.Join(texts, "  ")
}

// lowestRanked is the index of the field to leave out first; -1 when only the most telling one
// is left.
func lowestRanked(fields []lineField) int {
	if len(fields) < 2 {
		return -1
	}
	best := 0
	for i, f := range fields {
		if f.rank > fields[best].rank {
			best = i
		}
	}
	return best
}

// cut shortens s to n columns, ending it with "…" when it was longer.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
