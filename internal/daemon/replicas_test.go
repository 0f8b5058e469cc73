package daemon

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/evsync/evsync/internal/dbtest"
)

// logBuffer is a slog destination that tests read while the daemon writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond every 50 ms until it holds or d has passed, and reports whether it held.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}

// plantDeadJob inserts tenant t's job as the periodic job would, then makes it look like a
// run whose replica died during attempt: running, attempted an hour ago by a replica that no
// longer exists, with failed earlier attempts (errors) recorded as River records them.
func plantDeadJob(t *testing.T, pool *pgxpool.Pool, tn Tenant, attempt int, failures []string) int64 {
	t.Helper()
	ctx := context.Background()
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: controlSchema})
	if err != nil {
		t.Fatal(err)
	}
	args, opts := insertFor(tn)()
	res, err := client.Insert(ctx, args, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
UPDATE evsync.river_job SET state = 'running', attempt = $2, attempted_at = now() - interval '1 hour',
  attempted_by = ARRAY['dead-replica'],
  errors = (SELECT array_agg(jsonb_build_object('at', now() - interval '2 hours', 'attempt', n, 'error', e, 'trace', ''))
            FROM unnest($3::text[]) WITH ORDINALITY AS f(e, n))
WHERE id = $1`, res.Job.ID, attempt, failures); err != nil {
		t.Fatal(err)
	}
	return res.Job.ID
}

// jobState is the state of the job id.
func jobState(t *testing.T, pool *pgxpool.Pool, id int64) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), "SELECT state FROM evsync.river_job WHERE id = $1", id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRescuedJobRunsAgain: a job whose replica died mid-run is rescued and run again, even
// with schedule.retries 0 and when the death hit the last attempt; the rescue does not use up
// a failure's retry.
func TestRescuedJobRunsAgain(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name        string
		retries     int
		attempt     int      // the attempt the replica died in
		failures    []string // the errors of the attempts before it
		wantAttempt int      // the attempt the re-run is given
	}{
		{"retries 0, died in attempt 1", 0, 1, nil, 1},
		{"died in the last attempt", 1, 2, []string{"API down"}, 2},
		{"rescued twice before", 0, 3, []string{rescuedError, rescuedError}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := dbtest.NewURL(t)
			pool := openPool(t, url)
			if err := Migrate(context.Background(), pool, controlSchema); err != nil {
				t.Fatal(err)
			}
			tn := Tenant{Name: "acme", Schedule: every(t, "@yearly"), Timeout: time.Second, Retries: tt.retries}
			id := plantDeadJob(t, pool, tn, tt.attempt, tt.failures)
			attempts := make(chan int, 10)
			logs := &logBuffer{}
			startReplica(t, url, Config{Schema: controlSchema, MaxWorkers: 1, Tenants: []Tenant{tn}, Grace: time.Second,
				FetchPollInterval: 100 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
				Run: func(_ context.Context, _ string, attempt int) error { attempts <- attempt; return nil }})
			// River's rescuer looks for stuck jobs when its replica becomes leader, then
			// every 30 s.
			var got int
			if !waitFor(40*time.Second, func() bool {
				select {
				case got = <-attempts:
					return true
				default:
					s := jobState(t, pool, id)
					return s == "discarded" || s == "cancelled"
				}
			}) || got == 0 {
				t.Fatalf("the rescued job did not run again; it is %s", jobState(t, pool, id))
			}
			if got != tt.wantAttempt {
				t.Errorf("the rescued run was given attempt %d, want %d (a rescue is not a failure)", got, tt.wantAttempt)
			}
			if !waitFor(10*time.Second, func() bool { return jobState(t, pool, id) == "completed" }) {
				t.Errorf("the rescued job is %s, want completed", jobState(t, pool, id))
			}
			if !strings.Contains(logs.String(), `"msg":"run rescued`) || !strings.Contains(logs.String(), `"tenant":"acme"`) {
				t.Errorf("no warning of the rescue in the log:\n%s", logs)
			}
		})
	}
}

// TestGivingUpIsLoggedAtWarn: a run that failed with no retry left ends its job with a
// warning that names the tenant, the failures and the error; rescues before it used no retry.
func TestGivingUpIsLoggedAtWarn(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := openPool(t, url)
	if err := Migrate(context.Background(), pool, controlSchema); err != nil {
		t.Fatal(err)
	}
	tn := Tenant{Name: "acme", Schedule: every(t, "@yearly"), Timeout: time.Second, Retries: 0}
	id := plantDeadJob(t, pool, tn, 2, []string{rescuedError})
	attempts := make(chan int, 10)
	logs := &logBuffer{}
	startReplica(t, url, Config{Schema: controlSchema, MaxWorkers: 1, Tenants: []Tenant{tn}, Grace: time.Second,
		FetchPollInterval: 100 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		Run: func(_ context.Context, _ string, attempt int) error {
			attempts <- attempt
			return errors.New("API down")
		}})
	// The rescues used no retry: the job runs as attempt 1, fails, and is given up.
	select {
	case a := <-attempts:
		if a != 1 {
			t.Errorf("the rescued job ran as attempt %d, want 1", a)
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("the rescued job did not run within 40 s; it is %s", jobState(t, pool, id))
	}
	if !waitFor(10*time.Second, func() bool { s := jobState(t, pool, id); return s == "cancelled" || s == "discarded" }) {
		t.Fatalf("the job is %s after its last retry failed, want it given up", jobState(t, pool, id))
	}
	select {
	case a := <-attempts:
		t.Errorf("attempt %d ran after the retries were used up", a)
	default:
	}
	var warn string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"level":"WARN"`) && strings.Contains(l, "given up") {
			warn = l
		}
	}
	if !strings.Contains(warn, `"tenant":"acme"`) || !strings.Contains(warn, `"failed_attempts":1`) || !strings.Contains(warn, "API down") {
		t.Errorf("no warning naming the tenant, its 1 failure and the error when the job was given up; log:\n%s", logs)
	}
}
