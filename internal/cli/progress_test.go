package cli

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	syncrun "github.com/evsync/evsync/sync"
)

// /dev/null, a pipe and a file are no terminals: progress goes to the log there.
func TestIsTerminalNotDevNull(t *testing.T) {
	t.Parallel()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for name, f := range map[string]*os.File{"/dev/null": null, "a pipe": w, "a file": file} {
		if isTerminal(f) {
			t.Errorf("isTerminal(%s) = true, want false", name)
		}
		if displayFor(f) != nil {
			t.Errorf("%s has a progress display", name)
		}
		if logWriter(f) != f {
			t.Errorf("the log to %s does not go straight to it", name)
		}
	}
	if w, h := termSize(file); w != 80 || h != 24 {
		t.Errorf("termSize of a file = %d×%d, want the default 80×24", w, h)
	}
}

// busy is a run's progress with every field set, its phase the longest one.
var busy = syncrun.Progress{RunID: 7, Phase: "agent_groups+queue_groups+queues+dial_groups+campaigns",
	ScopesDone: 12, ScopesTotal: 120, Listed: 130, Planned: 4800, PlanEstimated: true, Rows: 123456,
	Requests: 141, Retries: 3, RateLimited: 2, Refreshes: 1, Elapsed: 95 * time.Second, ETA: 38*time.Minute + 20*time.Second}

func waiting(p syncrun.Progress) syncrun.Progress {
	p.Wait, p.WaitReason = 27*time.Second+200*time.Millisecond, "Retry-After"
	return p
}

// The progress line never exceeds its width: the fields that do not fit are left out, least
// telling first; the Retry-After wait and the whole run's ETA stay longest.
func TestProgressLine(t *testing.T) {
	t.Parallel()
	done := busy
	done.Done = true
	complete := done
	complete.Listed, complete.Planned, complete.PlanEstimated = 4800, 4800, false
	tests := []struct {
		name  string
		p     syncrun.Progress
		width int
		want  string
	}{
		{"all of it", busy, 200,
			"[agent_groups+queue_groups+queues+dial_groups+campaigns 12/120]  requests 130/~4800  eta 38m20s  rows 123456  elapsed 1m35s  429s 2  retries 3  refreshes 1"},
		{"80 columns: counters and elapsed left out, the phase shortened", busy, 79,
			"[agent_groups+queue_groups+queues+dial_groups+…  requests 130/~4800  eta 38m20s"},
		{"60 columns", busy, 60, "[agent_groups+queue_groups+…  requests 130/~4800  eta 38m20s"},
		{"40 columns: the phase goes", busy, 40, "requests 130/~4800  eta 38m20s"},
		{"20 columns: the ETA stays", busy, 20, "eta 38m20s"},
		{"5 columns", busy, 5, "eta …"},
		{"waiting, 80 columns", waiting(busy), 79,
			"[agent_groups+queue…  waiting 28 s: Retry-After  requests 130/~4800  eta 38m20s"},
		{"waiting, 40 columns: the wait stays", waiting(busy), 40, "waiting 28 s: Retry-After  eta 38m20s"},
		{"waiting, 20 columns", waiting(busy), 20, "waiting 28 s: Retry…"},
		{"plan unknown", syncrun.Progress{Phase: "accounts+users", ScopesTotal: 2, Listed: 1, Elapsed: time.Second}, 79,
			"[accounts+users 0/2]  requests 1  rows 0  elapsed 1s"},
		{"exact plan", syncrun.Progress{Phase: "agents", ScopesDone: 3, ScopesTotal: 9, Listed: 17, Planned: 23, ETA: 3 * time.Second}, 79,
			"[agents 3/9]  requests 17/23  eta 3s  rows 0  elapsed 0s"},
		{"done", complete, 83, "[ended]  requests 4800  rows 123456  elapsed 1m35s  429s 2  retries 3  refreshes 1"},
		{"done, 79 columns: the refreshes go", complete, 79, "[ended]  requests 4800  rows 123456  elapsed 1m35s  429s 2  retries 3"},
		{"stopped short", done, 79, "[ended]  requests 130/~4800  rows 123456  elapsed 1m35s  429s 2  retries 3"},
		{"no width", busy, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := progressLine(tt.p, tt.width)
			if got != tt.want {
				t.Errorf("progressLine(%d) =\n%q, want\n%q", tt.width, got, tt.want)
			}
		})
	}
	for width := range 200 {
		for _, p := range []syncrun.Progress{busy, waiting(busy), done} {
			if got := progressLine(p, width); utf8.RuneCountInString(got) > width {
				t.Errorf("progressLine(%d) is %d columns: %q", width, utf8.RuneCountInString(got), got)
			}
		}
	}
}

// The progress line at 80 columns with a log line during it: every line the terminal shows
// fits in 80 columns, the line is redrawn in place (one line, not one per report), and the log
// line prints whole on its own line above it, not glued onto it.
func TestProgressDisplayAt80ColumnsWithALogLine(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	refresh := make(chan any)
	d := newDisplay(&out, func() (int, int) { return 80, 24 })
	d.refresh = refresh
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewTextHandler(d, &slog.HandlerOptions{ReplaceAttr: noTime}))
	logLine := func(l *slog.Logger) {
		l.Warn("scope failed", "entity", "agents", "scope", "20001", "err", "HTTP 500")
	}

	d.report(busy)
	refresh <- nil
	d.report(busy)
	refresh <- nil
	logLine(logger)
	d.report(waiting(busy))
	refresh <- nil
	done := busy
	done.Done = true
	d.report(done)
	logger.Info("run ended")

	var want bytes.Buffer
	logLine(slog.New(slog.NewTextHandler(&want, &slog.HandlerOptions{ReplaceAttr: noTime})))
	screen, err := play(out.String(), 80)
	if err != nil {
		t.Fatalf("%v; the terminal got:\n%q", err, out.String())
	}
	wantScreen := []string{strings.TrimSuffix(want.String(), "\n"), progressLine(done, 79), `level=INFO msg="run ended"`}
	if diff := cmp.Diff(wantScreen, screen); diff != "" {
		t.Errorf("the terminal shows (-want +got):\n%s\nfrom %q", diff, out.String())
	}
	if n := len(wantScreen[0]); n > 80 || n+len(progressLine(busy, 200)) <= 80 {
		t.Fatalf("the log line is %d columns: it must fit in 80, but not with the progress line glued to it", n)
	}
}

// A run that ends before its first report shows no line.
func TestProgressDisplayNothingToShow(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	d := newDisplay(&out, func() (int, int) { return 80, 24 })
	d.report(syncrun.Progress{Done: true})
	if _, err := fmt.Fprintln(d, "a log line"); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "a log line\n" {
		t.Errorf("the terminal got %q, want the log line only", got)
	}
}

// Off a terminal, progress is a log line at an interval, which says when the run waits out a
// Retry-After; the last report (Done) logs nothing, the run's end says it all.
func TestProgressReporterOffTerminal(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	a := &app{stderr: &logs}
	report, every := a.progressReporter(slog.New(slog.NewTextHandler(&logs, nil)), false)
	if every != 5*time.Second {
		t.Errorf("interval %s, want 5s", every)
	}
	report(waiting(busy))
	done := busy
	done.Done = true
	report(done)
	got := logs.String()
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, "msg=progress") ||
		!strings.Contains(got, "waiting_for=Retry-After") || !strings.Contains(got, "planned=4800") {
		t.Errorf("logged %q, want one progress line with the wait and the plan", got)
	}
}

// lockedBuffer is a bytes.Buffer safe for mpb's goroutine and the test's.
type lockedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// play replays what was written to a terminal of width columns (a tty that turns "\n" into
// a new line at column 0), understanding the escapes a display writes: cursor up (CSI n A),
// erase below (CSI J) and erase the line's rest (CSI K). It returns the lines shown, or an
// error at the first character written past the last column, which a terminal would wrap.
func play(s string, width int) ([]string, error) {
	var (
		lines    = [][]rune{nil}
		row, col int
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\r':
			col = 0
		case '\n':
			row, col = row+1, 0
			for len(lines) <= row {
				lines = append(lines, nil)
			}
		case '\x1b':
			if i+1 >= len(rs) || rs[i+1] != '[' {
				return nil, fmt.Errorf("escape %q not understood", string(rs[i:min(i+8, len(rs))]))
			}
			j := i + 2
			for j < len(rs) && (rs[j] >= '0' && rs[j] <= '9' || rs[j] == ';') {
				j++
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("escape %q unfinished", string(rs[i:]))
			}
			n := 1
			if p := string(rs[i+2 : j]); p != "" {
				var err error
				if n, err = strconv.Atoi(p); err != nil {
					return nil, fmt.Errorf("escape %q not understood", string(rs[i:j+1]))
				}
			}
			switch rs[j] {
			case 'A':
				row = max(row-n, 0)
			case 'J':
				lines = lines[:row+1]
				lines[row] = lines[row][:min(col, len(lines[row]))]
			case 'K':
				lines[row] = lines[row][:min(col, len(lines[row]))]
			default:
				return nil, fmt.Errorf("escape %q not understood", string(rs[i:j+1]))
			}
			i = j
		default:
			if col >= width {
				return nil, fmt.Errorf("line %d runs past column %d: %q", row+1, width, string(lines[row])+string(r))
			}
			for len(lines[row]) <= col {
				lines[row] = append(lines[row], ' ')
			}
			lines[row][col] = r
			col++
		}
	}
	var out []string
	for _, l := range lines {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out, nil
}
