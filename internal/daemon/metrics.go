package daemon

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/evsync/evsync/internal/buildinfo"
	"github.com/evsync/evsync/internal/entity"
)

// rowKinds are the values of evsync_rows_total's kind label.
var rowKinds = []string{"fetched", "inserted", "updated", "unchanged", "deleted", "restored"}

// FieldChangeKinds lists the values of evsync_api_field_changes_total's change label: how a
// path of the API's objects changed (api_field_changes.change).
func FieldChangeKinds() []string { return []string{"added", "removed", "type_changed"} }

// metrics holds the Prometheus metrics of syncer. All are registered on one registry, served
// by the daemon's /metrics.
type metrics struct {
	runs           *prometheus.CounterVec
	runDuration    *prometheus.HistogramVec
	lastSuccess    *prometheus.GaugeVec
	rows           *prometheus.CounterVec
	apiRequests    *prometheus.CounterVec
	apiRetries     *prometheus.CounterVec
	apiRateLimited *prometheus.CounterVec
	tokenRefreshes *prometheus.CounterVec
	fieldChanges   *prometheus.CounterVec
	buildInfo      *prometheus.GaugeVec
	streamRuns     *prometheus.CounterVec
	streamWindows  *prometheus.CounterVec
	streamLag      *lagCollector

	mu            sync.Mutex
	lastSuccessAt map[string]time.Time // tenant -> what lastSuccess shows
}

// newMetrics creates the metrics of tenants and registers them on reg, with the Go and process
// collectors (left alone when reg already has them). Every run, row and API metric carries
// the tenant label; evsync_build_info, a gauge at 1, names build in its labels (the usual way
// to put a version on dashboards and alerts).
func newMetrics(reg *prometheus.Registry, tenants []string, build buildinfo.Info) (*metrics, error) {
	m := &metrics{
		lastSuccessAt: map[string]time.Time{},
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evsync_runs_total",
			Help: "Sync runs by final status (succeeded, partial, failed, canceled, skipped).",
		}, []string{"tenant", "status"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "evsync_run_duration_seconds",
			Help:    "Wall time of sync runs that were not skipped.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200},
		}, []string{"tenant"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "evsync_last_success_timestamp_seconds",
			Help: "Unix time at which the least fresh synced entity was last complete (the run that completed its every scope finished; entity_freshness), 0 while one has never been complete.",
		}, []string{"tenant"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evsync_rows_total",
			Help: "Rows handled by sync runs, by entity and kind (fetched, inserted, updated, unchanged, deleted, restored).",
		}, []string{"tenant", "entity", "kind"}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evsync_api_requests_total",
			Help: "HTTP requests sent to the RingCentral and Engage APIs.",
		}, []string{"tenant"}),
		apiRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evsync_api_retries_total",
			Help: "API requests retried after a 429, 5xx or transport error.",
		}, []string{"tenant"}),
		apiRateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evsync_api_rate_limited_total",
			Help: "API responses with status 429.",
		}, []string{"tenant"}),
		tokenRefreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evsync_token_refreshes_total",
			Help: "Engage access token refreshes.",
		}, []string{"tenant"}),
		fieldChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evsync_api_field_changes_total",
			Help: "Paths of the API's objects that runs found added, removed or changed in type (api_field_changes), by entity and change.",
		}, []string{"tenant", "entity", "change"}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "evsync_build_info",
			Help: "Always 1; its labels name the running binary's version, VCS revision and Go version.",
		}, []string{"version", "revision", "goversion"}),
		streamRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evsync_stream_runs_total",
			Help: "Stream runs (the due windows of a tenant's streams) by final status (succeeded, partial, failed, canceled, skipped: other processes were reading every sub-account).",
		}, []string{"tenant", "status"}),
		streamWindows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evsync_stream_windows_total",
			Help: "Windows of the streams handled by stream runs, by stream and result (read and published, failed, left due for the next run).",
		}, []string{"tenant", "stream", "result"}),
		streamLag: newLagCollector(),
	}
	if err := m.register(reg); err != nil {
		return nil, err
	}
	m.buildInfo.WithLabelValues(build.Version, build.Revision, build.GoVersion).Set(1)
	// Export every tenant's statuses, entity/kind pairs, counters and run durations from the
	// start, so that rate() and absence alerts work before the first run.
	for _, t := range tenants {
		for _, s := range Statuses() {
			m.runs.WithLabelValues(t, string(s))
		}
		for _, e := range entity.Names() {
			for _, k := range rowKinds {
				m.rows.WithLabelValues(t, string(e), k)
			}
			for _, c := range FieldChangeKinds() {
				m.fieldChanges.WithLabelValues(t, string(e), c)
			}
		}
		for _, c := range []*prometheus.CounterVec{m.apiRequests, m.apiRetries, m.apiRateLimited, m.tokenRefreshes} {
			c.WithLabelValues(t)
		}
		m.lastSuccess.WithLabelValues(t)
		m.runDuration.WithLabelValues(t)
	}
	return m, nil
}

// addStreams exports from the start the stream series of a tenant that has streams: its
// stream runs by status, and its streams' windows by result. evsync_stream_lag_seconds comes
// with the first read of the lag (setStreamLag).
func (m *metrics) addStreams(tenant string, streams []entity.Name) {
	for _, s := range Statuses() {
		m.streamRuns.WithLabelValues(tenant, string(s))
	}
	for _, st := range streams {
		for _, r := range WindowResults() {
			m.streamWindows.WithLabelValues(tenant, string(st), r)
		}
	}
}

// MetricsRegistry returns a registry holding the metrics a daemon of tenants serves on
// /metrics before its first run (every series the daemon exports is there from the start):
// the names that dashboards and alerts may use. Every tenant has every stream there, and
// evsync_stream_lag_seconds, which a daemon exports once it has read its streams' lag, is
// there at 0. evsync_build_info's labels are empty; the /metrics handler's own
// promhttp_metric_handler_errors_total is not there.
func MetricsRegistry(tenants ...string) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg, tenants, buildinfo.Info{})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for _, t := range tenants {
		m.addStreams(t, entity.StreamNames())
		high := map[entity.Name]time.Time{}
		for _, s := range entity.StreamNames() {
			high[s] = now
		}
		m.setStreamLag(t, high)
	}
	m.streamLag.now = func() time.Time { return now }
	return reg, nil
}

// register registers m's metrics on reg, with the Go and process collectors (left alone when
// reg already has them).
func (m *metrics) register(reg *prometheus.Registry) error {
	for _, c := range []prometheus.Collector{
		m.runs, m.runDuration, m.lastSuccess, m.rows,
		m.apiRequests, m.apiRetries, m.apiRateLimited, m.tokenRefreshes, m.fieldChanges, m.buildInfo,
		m.streamRuns, m.streamWindows, m.streamLag,
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering metrics: %w", err)
		}
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			if are := (prometheus.AlreadyRegisteredError{}); !errors.As(err, &are) {
				return fmt.Errorf("registering runtime metrics: %w", err)
			}
		}
	}
	return nil
}

// observe records one run's outcome. A skipped run counts only in evsync_runs_total.
// evsync_last_success_timestamp_seconds is not a run's: it follows the database
// (setLastSuccess), where fresh means complete, so a run restricted to one sub-account does
// not move it past the entities it left stale.
func (m *metrics) observe(tenant string, o Outcome) {
	status := cmp.Or(o.Status, StatusFailed)
	// The run is counted last: a scrape that sees it counted sees the rest of it too.
	defer m.runs.WithLabelValues(tenant, string(status)).Inc()
	if status == StatusSkipped {
		return
	}
	if !o.Started.IsZero() && !o.Finished.IsZero() && !o.Finished.Before(o.Started) {
		m.runDuration.WithLabelValues(tenant).Observe(o.Finished.Sub(o.Started).Seconds())
	}
	for entity, kinds := range o.Rows {
		for kind, n := range kinds {
			if n > 0 {
				m.rows.WithLabelValues(tenant, string(entity), kind).Add(float64(n))
			}
		}
	}
	for entity, changes := range o.FieldChanges {
		for change, n := range changes {
			if n > 0 {
				m.fieldChanges.WithLabelValues(tenant, string(entity), change).Add(float64(n))
			}
		}
	}
	addPositive(m.apiRequests.WithLabelValues(tenant), o.APIRequests)
	addPositive(m.apiRetries.WithLabelValues(tenant), o.Retries)
	addPositive(m.apiRateLimited.WithLabelValues(tenant), o.RateLimited)
	addPositive(m.tokenRefreshes.WithLabelValues(tenant), o.TokenRefreshes)
}

// observeStreams records one stream run's outcome: its status, its windows, and its API
// requests in the tenant's API counters (they are the tenant's requests, whatever the run).
// A skipped run counts only in evsync_stream_runs_total. The entity runs' metrics
// (evsync_runs_total, evsync_run_duration_seconds, evsync_rows_total) are not a stream run's.
func (m *metrics) observeStreams(tenant string, o Outcome) {
	status := cmp.Or(o.Status, StatusFailed)
	defer m.streamRuns.WithLabelValues(tenant, string(status)).Inc()
	if status == StatusSkipped {
		return
	}
	for st, w := range o.Windows {
		for i, n := range []int64{w.Read, w.Failed, w.Left} {
			addPositive(m.streamWindows.WithLabelValues(tenant, string(st), WindowResults()[i]), n)
		}
	}
	addPositive(m.apiRequests.WithLabelValues(tenant), o.APIRequests)
	addPositive(m.apiRetries.WithLabelValues(tenant), o.Retries)
	addPositive(m.apiRateLimited.WithLabelValues(tenant), o.RateLimited)
	addPositive(m.tokenRefreshes.WithLabelValues(tenant), o.TokenRefreshes)
}

// setStreamLag sets the tenant's streams' high-water marks, as the database last said them:
// evsync_stream_lag_seconds{tenant,stream} then shows the time since each (a stream left
// out has no series).
func (m *metrics) setStreamLag(tenant string, high map[entity.Name]time.Time) {
	m.streamLag.set(tenant, high)
}

// lagCollector exports evsync_stream_lag_seconds: the time since each stream's high-water
// mark, computed at each scrape from the marks last read, so that a lag grows between reads
// as it does in the database. A replica that reads rarely (the stream runs ran elsewhere,
// /healthz/data is not probed) shows a larger lag than one that just read: take the min()
// across replicas.
type lagCollector struct {
	desc *prometheus.Desc
	now  func() time.Time

	mu   sync.Mutex
	high map[string]map[entity.Name]time.Time // tenant -> stream -> high-water mark
}

func newLagCollector() *lagCollector {
	return &lagCollector{
		desc: prometheus.NewDesc("evsync_stream_lag_seconds",
			"Time since the high-water mark of a stream (the end of the last window such that every window before it has been read), the worst of the tenant's live sub-accounts entitled to it (a stream never read lags from its first window). Read from the database after stream runs and by /healthz/data: min() across replicas.",
			[]string{"tenant", "stream"}, nil),
		now:  time.Now,
		high: map[string]map[entity.Name]time.Time{},
	}
}

// set replaces the tenant's marks.
func (c *lagCollector) set(tenant string, high map[entity.Name]time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.high[tenant] = maps.Clone(high)
}

// lag returns the lag of the tenant's stream as the metric shows it, and whether it has one.
func (c *lagCollector) lag(tenant string, stream entity.Name) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.high[tenant][stream]
	if !ok {
		return 0, false
	}
	return c.now().Sub(h), true
}

// Describe sends the metric's description.
func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect sends every tenant's streams' lag, as of now.
func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for tenant, streams := range c.high {
		for stream, h := range streams {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, max(now.Sub(h), 0).Seconds(), tenant, string(stream))
		}
	}
}

// setLastSuccess sets the tenant's evsync_last_success_timestamp_seconds to t, the freshness
// the database shows; the zero time (an entity never complete) shows as 0.
func (m *metrics) setLastSuccess(tenant string, t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastSuccessAt[tenant] = t
	if t.IsZero() {
		m.lastSuccess.WithLabelValues(tenant).Set(0)
		return
	}
	m.lastSuccess.WithLabelValues(tenant).Set(float64(t.UnixNano()) / 1e9)
}

// lastSuccessTime returns the time the tenant's evsync_last_success_timestamp_seconds shows
// (zero if none).
func (m *metrics) lastSuccessTime(tenant string) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastSuccessAt[tenant]
}

func addPositive(c prometheus.Counter, n int64) {
	if n > 0 {
		c.Add(float64(n))
	}
}
