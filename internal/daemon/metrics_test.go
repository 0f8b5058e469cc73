package daemon

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/evsync/evsync/internal/buildinfo"
	"github.com/evsync/evsync/internal/entity"
)

// parseMetrics parses a Prometheus text exposition.
func parseMetrics(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parsing the metrics exposition: %v", err)
	}
	return mfs
}

// scrapeHandler GETs /metrics from h and parses the answer.
func scrapeHandler(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d: %s", rec.Code, rec.Body)
	}
	return parseMetrics(t, rec.Body)
}

// metricValue returns the value of the series of family name whose labels include want
// (counter, gauge or untyped), or of the sample count for a histogram.
func metricValue(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		t.Fatalf("metric %s is not exposed", name)
	}
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		case m.Untyped != nil:
			return m.GetUntyped().GetValue()
		}
	}
	t.Fatalf("metric %s has no series with labels %v", name, want)
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestMetricsObserve(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg, []string{"acme", "globex"}, buildinfo.Info{})
	if err != nil {
		t.Fatalf("newMetrics: %v", err)
	}
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})

	// Before any run every tenant's status and entity/kind series exists at 0.
	mfs := scrapeHandler(t, h)
	for _, tenant := range []string{"acme", "globex"} {
		for _, s := range Statuses() {
			if v := metricValue(t, mfs, "evsync_runs_total", map[string]string{"tenant": tenant, "status": string(s)}); v != 0 {
				t.Errorf("runs_total{tenant=%q,status=%q} = %v before any run, want 0", tenant, s, v)
			}
		}
		for _, name := range []string{"evsync_last_success_timestamp_seconds", "evsync_api_requests_total", "evsync_api_retries_total",
			"evsync_api_rate_limited_total", "evsync_token_refreshes_total", "evsync_run_duration_seconds"} {
			if v := metricValue(t, mfs, name, map[string]string{"tenant": tenant}); v != 0 {
				t.Errorf("%s{tenant=%q} = %v before any run, want 0", name, tenant, v)
			}
		}
	}
	if got := len(mfs["evsync_rows_total"].GetMetric()); got != 2*len(entity.Names())*len(rowKinds) {
		t.Errorf("rows_total has %d series before any run, want %d", got, 2*len(entity.Names())*len(rowKinds))
	}
	if got := len(mfs["evsync_api_field_changes_total"].GetMetric()); got != 2*len(entity.Names())*3 {
		t.Errorf("api_field_changes_total has %d series before any run, want %d", got, 2*len(entity.Names())*3)
	}

	t0 := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	m.observe("acme", Outcome{
		RunID: 7, Status: "succeeded", Started: t0, Finished: t0.Add(90 * time.Second),
		Rows: map[entity.Name]map[string]int64{
			"agents": {"fetched": 100, "inserted": 40, "unchanged": 60},
			"users":  {"fetched": 5, "deleted": 1},
		},
		APIRequests: 33, Retries: 2, RateLimited: 1, TokenRefreshes: 3,
		FieldChanges: map[entity.Name]map[string]int64{ // agents: paths a and b added; users: c removed
			entity.Agents: {"added": 2},
			entity.Users:  {"removed": 1},
		},
	})
	m.observe("acme", Outcome{Status: "skipped"})
	m.observe("acme", Outcome{ // no status: counted as failed
		Started: t0.Add(-time.Hour), Finished: t0.Add(-time.Hour + 10*time.Second),
		Rows:        map[entity.Name]map[string]int64{"agents": {"fetched": 7}},
		APIRequests: 4, Retries: 3,
	})
	m.observe("acme", Outcome{Status: "succeeded", Started: t0.Add(-2 * time.Hour), Finished: t0.Add(-2 * time.Hour)})
	m.observe("globex", Outcome{Status: "partial", Started: t0, Finished: t0.Add(time.Second), APIRequests: 1000,
		Rows: map[entity.Name]map[string]int64{"agents": {"fetched": 1000}}})

	mfs = scrapeHandler(t, h)
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"evsync_runs_total", map[string]string{"tenant": "acme", "status": "succeeded"}, 2},
		{"evsync_runs_total", map[string]string{"tenant": "acme", "status": "skipped"}, 1},
		{"evsync_runs_total", map[string]string{"tenant": "acme", "status": "failed"}, 1},
		{"evsync_runs_total", map[string]string{"tenant": "acme", "status": "partial"}, 0},
		{"evsync_rows_total", map[string]string{"tenant": "acme", "entity": "agents", "kind": "fetched"}, 107},
		{"evsync_rows_total", map[string]string{"tenant": "acme", "entity": "agents", "kind": "inserted"}, 40},
		{"evsync_rows_total", map[string]string{"tenant": "acme", "entity": "agents", "kind": "unchanged"}, 60},
		{"evsync_rows_total", map[string]string{"tenant": "acme", "entity": "users", "kind": "deleted"}, 1},
		{"evsync_rows_total", map[string]string{"tenant": "acme", "entity": "users", "kind": "restored"}, 0},
		{"evsync_api_requests_total", map[string]string{"tenant": "acme"}, 37},
		{"evsync_api_retries_total", map[string]string{"tenant": "acme"}, 5},
		{"evsync_api_rate_limited_total", map[string]string{"tenant": "acme"}, 1},
		{"evsync_token_refreshes_total", map[string]string{"tenant": "acme"}, 3},
		{"evsync_api_field_changes_total", map[string]string{"tenant": "acme", "entity": "agents", "change": "added"}, 2},
		{"evsync_api_field_changes_total", map[string]string{"tenant": "acme", "entity": "users", "change": "removed"}, 1},
		{"evsync_api_field_changes_total", map[string]string{"tenant": "acme", "entity": "agents", "change": "type_changed"}, 0},
		{"evsync_run_duration_seconds", map[string]string{"tenant": "acme"}, 3}, // sample count: the skipped run is not timed
		{"evsync_runs_total", map[string]string{"tenant": "globex", "status": "partial"}, 1},
		{"evsync_api_requests_total", map[string]string{"tenant": "globex"}, 1000},
		{"evsync_rows_total", map[string]string{"tenant": "globex", "entity": "agents", "kind": "fetched"}, 1000},
		{"evsync_last_success_timestamp_seconds", map[string]string{"tenant": "acme"}, 0}, // the database's to say, not a run's
	}
	for _, tt := range tests {
		if got := metricValue(t, mfs, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if sum := mfs["evsync_run_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleSum(); math.Abs(sum-100) > 1e-9 { // acme sorts first
		t.Errorf("run duration sum = %v, want 100", sum)
	}
	// It shows what the database says, back to 0 when an entity has never been complete.
	for _, at := range []time.Time{t0.Add(90 * time.Second), t0.Add(-time.Hour), {}} {
		m.setLastSuccess("acme", at)
		want := 0.0
		if !at.IsZero() {
			want = float64(at.Unix())
		}
		if got := testutil.ToFloat64(m.lastSuccess.WithLabelValues("acme")); got != want || !m.lastSuccessTime("acme").Equal(at) {
			t.Errorf("after setLastSuccess(%v): gauge %v, lastSuccessTime %v; want %v", at, got, m.lastSuccessTime("acme"), want)
		}
		if got := testutil.ToFloat64(m.lastSuccess.WithLabelValues("globex")); got != 0 {
			t.Errorf("globex's last success moved with acme's: %v", got)
		}
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := mfs[name]; !ok {
			t.Errorf("runtime metric %s is not exposed", name)
		}
	}
}

func TestNewMetricsRegistration(t *testing.T) {
	t.Parallel()
	// A registry that already has the Go collector is fine.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	if _, err := newMetrics(reg, []string{"default"}, buildinfo.Info{}); err != nil {
		t.Fatalf("newMetrics with a Go collector already registered: %v", err)
	}
	// Registering evsync's metrics twice is an error.
	_, err := newMetrics(reg, []string{"default"}, buildinfo.Info{})
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Fatalf("second newMetrics on one registry: got %v, want AlreadyRegisteredError", err)
	}
}

// The daemon exports evsync_build_info at 1, labelled with the build its caller passed in.
func TestBuildInfoMetric(t *testing.T) {
	t.Parallel()
	build := buildinfo.Info{Version: "v1.2.0", Revision: "4b29380c1f2e9d8a7b6c5d4e3f2a1b0c9d8e7f6a", GoVersion: "go1.26.0"}
	d := newTestDaemon(t, Config{Build: build}, testTenant(t, "acme", "@daily", false, func(context.Context, string) (Outcome, error) { return Outcome{}, nil }))
	mfs := scrapeHandler(t, d.Handler())
	want := map[string]string{"version": build.Version, "revision": build.Revision, "goversion": build.GoVersion}
	if v := metricValue(t, mfs, "evsync_build_info", want); v != 1 {
		t.Errorf("evsync_build_info%v = %v, want 1", want, v)
	}
	if got := mfs["evsync_build_info"]; got.GetType() != dto.MetricType_GAUGE || len(got.GetMetric()) != 1 {
		t.Errorf("evsync_build_info = %v, want one gauge series", got)
	}
}

// MetricsRegistry holds every metric a daemon of the same tenants registers, evsync_build_info
// among them: dashboards and alerts are checked against it.
func TestMetricsRegistryHasTheDaemonsMetrics(t *testing.T) {
	t.Parallel()
	reg, err := MetricsRegistry("acme")
	if err != nil {
		t.Fatal(err)
	}
	have := scrapeHandler(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	d := newTestDaemon(t, Config{}, testTenant(t, "acme", "@daily", false, func(context.Context, string) (Outcome, error) { return Outcome{}, nil }))
	// The daemon's registry, not its /metrics: the handler adds promhttp's own counter.
	for name := range scrapeHandler(t, promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{})) {
		if _, ok := have[name]; !ok {
			t.Errorf("the daemon registers %s, which MetricsRegistry lacks", name)
		}
	}
	if _, ok := have["evsync_build_info"]; !ok {
		t.Error("MetricsRegistry lacks evsync_build_info")
	}
}
