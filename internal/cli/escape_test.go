package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/tenant"
	"github.com/evsync/evsync/internal/testing/fixture"
	syncrun "github.com/evsync/evsync/sync"
)

// hostileText is API text that tries to color, retitle, reorder and forge a line.
const hostileText = "msg\x1b[31m\x1b]0;t\x07\u202e\u0085\ntime=2026-01-01 level=ERROR msg=FORGED\u2028"

// TestExitCodeEscapesEachProblem prints errors as exitCode does: each problem of a join on
// its own line, each line one line with its control characters escaped.
func TestExitCodeEscapesEachProblem(t *testing.T) {
	t.Parallel()
	escaped := `msg\x1b[31m\x1b]0;t\a\u202e time=2026-01-01 level=ERROR msg=FORGED`
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"plain", errors.New(hostileText), []string{escaped}},
		{"wrapped", fmt.Errorf("run 3 failed: %w", errors.New(hostileText)), []string{"run 3 failed: " + escaped}},
		{"exit error", &exitError{code: exitFailed, err: errors.New(hostileText)}, []string{escaped}},
		{"joined", &exitError{code: exitUsage, err: errors.Join(errors.New("config: a: bad"),
			errors.Join(errors.New("config: b: bad"), errors.New(hostileText)))},
			[]string{"config: a: bad", "config: b: bad", escaped}},
		{"tenants", &exitError{code: exitFailed, err: errors.Join(
			&exitError{code: exitFailed, err: fmt.Errorf("tenant a: %w", errors.New(hostileText))},
			&exitError{code: exitLocked, err: errors.New("tenant b: another run holds the lock")})},
			[]string{"tenant a: " + escaped, "tenant b: another run holds the lock"}},
		{"wrapped join", fmt.Errorf("loading: %w", errors.Join(errors.New("x\x1b"), errors.New("y"))), []string{`loading: x\x1b y`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			exitCode(tt.err, &stderr)
			var want []string
			for _, l := range tt.want {
				want = append(want, "syncer: "+l)
			}
			got := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stderr lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPrintedAPITextIsEscaped prints a run's summary, the status and a demo cell holding
// hostileText in every place API text reaches (a scope's id and error, the run's error, a
// field path, a stored run's error): no control character but the newlines ending lines, and
// no forged line.
func TestPrintedAPITextIsEscaped(t *testing.T) {
	t.Parallel()
	changes := []db.FieldChange{{Entity: entity.Agents, Path: "a." + hostileText, Change: "added", NewType: "string"}}
	now := time.Now()
	tests := []struct {
		name  string
		print func(*bytes.Buffer) error
	}{
		{"summary", func(b *bytes.Buffer) error {
			return printSummary(b, &syncrun.Result{RunID: 2, Status: db.RunPartial, Error: hostileText, Started: now, Finished: now,
				Scopes: []db.ScopeCounts{{Entity: entity.Agents, Scope: "2000" + hostileText, Status: db.ScopeFailed, Error: hostileText}},
				Fields: []db.EntityFields{{Entity: entity.Agents, Paths: 3}}, FieldChanges: changes})
		}},
		{"status", func(b *bytes.Buffer) error {
			return printStatus(b, "", "engage", &db.Status{Runs: []db.RunInfo{{RunID: 2, Trigger: "cli", Status: db.RunPartial,
				StartedAt: now, Error: hostileText}}}, []db.StreamStatus{{Stream: entity.AuditLog, SubAccountID: hostileText}},
				&db.FieldStatus{Paths: 3, Entities: 1, RunID: 2, Changes: changes})
		}},
		{"tenant line", func(b *bytes.Buffer) error {
			return printTenantLines(b, []tenant.Result{{Tenant: config.Tenant{Name: "a"}, Err: errors.New(hostileText)},
				{Tenant: config.Tenant{Name: "b"}, Res: &syncrun.Result{RunID: 2, Status: db.RunPartial, Error: hostileText}}})
		}},
		{"demo cell", func(b *bytes.Buffer) error {
			_, err := fmt.Fprintln(b, formatCell(hostileText), formatCell([]byte(hostileText)))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := tt.print(&b); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if i := strings.IndexFunc(out, fixture.HostileRune); i >= 0 {
				t.Errorf("output holds %q at %d:\n%s", []rune(out[i:])[0], i, out)
			}
			if !strings.Contains(out, `msg\x1b[31m\x1b]0;t\a\u202e`) {
				t.Errorf("output does not show the escaped text:\n%s", out)
			}
			for line := range strings.Lines(out) {
				if strings.HasPrefix(strings.TrimSpace(line), "time=") {
					t.Errorf("a line is forged: %q\n%s", line, out)
				}
			}
		})
	}
}
