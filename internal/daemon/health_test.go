package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/internal/testing/dbtest"
)

// Check follows River's state: not ready before the client starts, ready once it runs, and not
// ready again when its control schema is dropped under it (River only logs that, and nothing
// runs any more).
func TestCheckFollowsRiversHealth(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for River to turn unhealthy: skipped with -short")
	}
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := openPool(t, url)
	if err := Migrate(t.Context(), pool, controlSchema); err != nil {
		t.Fatal(err)
	}
	run := func(context.Context, string, int) error { return nil }
	d, err := newScheduler(pool, schedulerConfig{Schema: controlSchema, MaxWorkers: 1, Run: run, Grace: time.Second,
		Tenants: []Tenant{{Name: "acme", Schedule: every(t, "@yearly"), Timeout: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("Check before Start = %v, want an error saying River has not started", err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = d.Stop(ctx) // River may complain of its dropped tables; the test is about Check
	})
	if err := d.Check(t.Context()); err != nil {
		t.Errorf("Check of a running daemon = %v, want nil", err)
	}
	if _, err := pool.Exec(t.Context(), "DROP SCHEMA "+controlSchema+" CASCADE"); err != nil {
		t.Fatal(err)
	}
	if err := d.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Check with the control schema dropped = %v, want an error naming the missing relation", err)
	}
}

// Check is this replica's: on a control schema shared with a running replica (which
// registered the queue), a replica not started fails it, and so does one once Stop begins.
func TestCheckNeedsThisReplicaRunning(t *testing.T) {
	t.Parallel()
	pool := openPool(t, dbtest.NewURL(t))
	if err := Migrate(t.Context(), pool, controlSchema); err != nil {
		t.Fatal(err)
	}
	newSched := func() *scheduler {
		run := func(context.Context, string, int) error { return nil }
		s, err := newScheduler(pool, schedulerConfig{Schema: controlSchema, MaxWorkers: 1, Run: run, Grace: time.Second,
			Tenants: []Tenant{{Name: "acme", Schedule: every(t, "@yearly"), Timeout: time.Minute}}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	running, other := newSched(), newSched()
	if err := running.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := running.Stop(ctx); err != nil {
			t.Error(err)
		}
		stopped = true
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	if err := running.Check(t.Context()); err != nil {
		t.Errorf("Check of the running replica = %v, want nil", err)
	}
	const want = "this replica's River client is not running"
	if err := other.Check(t.Context()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Check of a replica not started, its queue registered by another = %v, want %q", err, want)
	}
	stop()
	if err := running.Check(t.Context()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Check after Stop = %v, want %q", err, want)
	}
}
