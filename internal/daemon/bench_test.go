package daemon

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/evsync/evsync/internal/testing/dbtest"
)

// BenchmarkFirstRunLatency measures how long after two replicas start on a fresh control
// schema the first run of a tenant on a 1 s schedule begins: River elects a leader, which
// inserts the periodic job, which a replica fetches. About 2.5 s on an idle machine; a start
// that waits for something else (the next leadership attempt) shows as 5 s and more. It is
// a measurement, not a test: a busy machine makes it slower without anything being wrong.
func BenchmarkFirstRunLatency(b *testing.B) {
	url := dbtest.NewURL(b)
	var total time.Duration
	n := 0
	for b.Loop() {
		schema := fmt.Sprintf("evsync_bench%d", n)
		n++
		first := make(chan time.Time, 1)
		run := func(ctx context.Context, _ string, _ int) error {
			select {
			case first <- time.Now():
			default:
			}
			<-ctx.Done()
			return ctx.Err()
		}
		tenants := []Tenant{{Name: "acme", Schedule: every(b, "@every 1s"), Timeout: time.Minute}}
		started := time.Now()
		var ds []*scheduler
		for range 2 {
			ds = append(ds, startReplica(b, url, schedulerConfig{Schema: schema, MaxWorkers: 1, Tenants: tenants, Run: run,
				Grace: time.Second, FetchPollInterval: 100 * time.Millisecond}))
		}
		select {
		case at := <-first:
			total += at.Sub(started)
		case <-time.After(2 * time.Minute):
			b.Fatal("no run began within 2 minutes of the replicas' start")
		}
		for _, d := range ds {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := d.Stop(ctx); err != nil {
				b.Errorf("Stop: %v", err)
			}
			cancel()
		}
	}
	b.ReportMetric(total.Seconds()/float64(n), "s/first-run")
}
