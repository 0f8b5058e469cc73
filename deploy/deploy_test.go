// Package deploy_test checks the deployment files as their consumers read them: the
// Kubernetes manifests against the "restricted" Pod Security Standard, the alerting rules with
// Prometheus's own rule parser, and every expression of the Grafana dashboard with its PromQL
// parser, naming only metrics the daemon exports.
package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/evsync/evsync/internal/daemon"
)

// readDocs returns the YAML documents of file.
func readDocs(t *testing.T, file string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// get walks m along keys (maps only); nil when a key is missing.
func get(m any, keys ...string) any {
	for _, k := range keys {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

// byKind returns the documents of kind.
func byKind(docs []map[string]any, kind string) []map[string]any {
	return slices.DeleteFunc(slices.Clone(docs), func(d map[string]any) bool { return d["kind"] != kind })
}

// podSpecs returns the pod specs of the workloads among docs, by "Kind/name".
func podSpecs(docs []map[string]any) map[string]map[string]any {
	specs := map[string]map[string]any{}
	for _, d := range docs {
		var spec any
		switch d["kind"] {
		case "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet":
			spec = get(d, "spec", "template", "spec")
		case "CronJob":
			spec = get(d, "spec", "jobTemplate", "spec", "template", "spec")
		case "Pod":
			spec = d["spec"]
		default:
			continue
		}
		s, ok := spec.(map[string]any)
		if !ok {
			continue
		}
		specs[fmt.Sprintf("%s/%s", d["kind"], get(d, "metadata", "name"))] = s
	}
	return specs
}

// restrictedProblems lists how a pod spec falls short of the "restricted" Pod Security
// Standard (and the baseline one it includes), one line per field; none when it passes. A
// container field may be set on the pod instead where Kubernetes allows it (runAsNonRoot,
// runAsUser, seccompProfile).
func restrictedProblems(spec map[string]any) []string {
	var out []string
	for _, k := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		if spec[k] == true {
			out = append(out, k+" is true")
		}
	}
	allowedVolumes := []string{"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
	vols, _ := spec["volumes"].([]any)
	for _, v := range vols {
		for k := range v.(map[string]any) {
			if k != "name" && !slices.Contains(allowedVolumes, k) {
				out = append(out, fmt.Sprintf("volume %v is of type %s", get(v, "name"), k))
			}
		}
	}
	pod, _ := spec["securityContext"].(map[string]any)
	var containers []any
	for _, k := range []string{"initContainers", "containers", "ephemeralContainers"} {
		cs, _ := spec[k].([]any)
		containers = append(containers, cs...)
	}
	if len(containers) == 0 {
		out = append(out, "no containers")
	}
	for _, c := range containers {
		name := fmt.Sprint(get(c, "name"))
		sc, _ := get(c, "securityContext").(map[string]any)
		either := func(key string) any {
			if v, ok := sc[key]; ok {
				return v
			}
			return pod[key]
		}
		if either("runAsNonRoot") != true {
			out = append(out, "container "+name+": runAsNonRoot is not true")
		}
		if u, ok := either("runAsUser").(int); !ok || u == 0 {
			out = append(out, fmt.Sprintf("container %s: runAsUser is %v, want a non-root uid", name, either("runAsUser")))
		}
		if typ := get(either("seccompProfile"), "type"); typ != "RuntimeDefault" && typ != "Localhost" {
			out = append(out, fmt.Sprintf("container %s: seccompProfile.type is %v, want RuntimeDefault", name, typ))
		}
		if sc["allowPrivilegeEscalation"] != false {
			out = append(out, "container "+name+": allowPrivilegeEscalation is not false")
		}
		if sc["privileged"] == true {
			out = append(out, "container "+name+": privileged")
		}
		if drop, _ := get(sc, "capabilities", "drop").([]any); !slices.Contains(drop, any("ALL")) {
			out = append(out, "container "+name+": capabilities.drop does not hold ALL")
		}
		if add, _ := get(sc, "capabilities", "add").([]any); len(slices.DeleteFunc(add, func(a any) bool { return a == "NET_BIND_SERVICE" })) > 0 {
			out = append(out, fmt.Sprintf("container %s: capabilities.add %v", name, add))
		}
		if sc["readOnlyRootFilesystem"] != true {
			out = append(out, "container "+name+": readOnlyRootFilesystem is not true")
		}
	}
	return out
}

// writablePaths returns the mount paths of container c that are not read-only.
func writablePaths(c any) []string {
	var paths []string
	mounts, _ := get(c, "volumeMounts").([]any)
	for _, m := range mounts {
		if get(m, "readOnly") != true {
			paths = append(paths, fmt.Sprint(get(m, "mountPath")))
		}
	}
	return paths
}

// The daemon's pods pass the "restricted" Pod Security Standard, and can still write what a
// run writes: the staging spool under /tmp, and XDG_CACHE_HOME.
func TestKubernetesRestricted(t *testing.T) {
	t.Parallel()
	specs := podSpecs(readDocs(t, "kubernetes.yaml"))
	if len(specs) == 0 {
		t.Fatal("kubernetes.yaml has no workload")
	}
	for name, spec := range specs {
		for _, p := range restrictedProblems(spec) {
			t.Errorf("%s: %s", name, p)
		}
		containers, _ := spec["containers"].([]any)
		for _, c := range containers {
			writable := writablePaths(c)
			within := func(p string) bool {
				return slices.ContainsFunc(writable, func(w string) bool { return p == w || strings.HasPrefix(p, w+"/") })
			}
			if !within("/tmp") {
				t.Errorf("%s: container %v: /tmp (the staging spool) is not a writable mount, and the root filesystem is read-only", name, get(c, "name"))
			}
			env, _ := get(c, "env").([]any)
			i := slices.IndexFunc(env, func(e any) bool { return get(e, "name") == "XDG_CACHE_HOME" })
			if i < 0 || !within(fmt.Sprint(get(env[i], "value"))) {
				t.Errorf("%s: container %v: XDG_CACHE_HOME is unset or not on a writable mount", name, get(c, "name"))
			}
			if p := get(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
				t.Errorf("%s: readinessProbe on %v, want /readyz (never the data's freshness: a first rollout would wait for the first sync)", name, p)
			}
		}
	}
}

// The Kubernetes examples of docs/operating.md (the CronJob) pass the restricted standard too,
// with /tmp writable for the staging spool.
func TestDocsKubernetesRestricted(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(path.Join("..", "docs", "operating.md"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	for _, block := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(data, -1) {
		var doc map[string]any
		if err := yaml.Unmarshal(block[1], &doc); err != nil {
			t.Fatalf("docs/operating.md: a yaml block does not parse: %v", err)
		}
		docs = append(docs, doc)
	}
	specs := podSpecs(docs)
	if len(specs) == 0 {
		t.Fatal("docs/operating.md shows no workload")
	}
	for name, spec := range specs {
		for _, p := range restrictedProblems(spec) {
			t.Errorf("docs/operating.md: %s: %s", name, p)
		}
		for _, c := range spec["containers"].([]any) {
			if !slices.Contains(writablePaths(c), "/tmp") {
				t.Errorf("docs/operating.md: %s: container %v: /tmp is not a writable mount", name, get(c, "name"))
			}
		}
	}
}

// The checker finds each missing field of the restricted standard.
func TestRestrictedProblems(t *testing.T) {
	t.Parallel()
	good := func() map[string]any {
		return map[string]any{
			"securityContext": map[string]any{"runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
			"containers": []any{map[string]any{"name": "c", "securityContext": map[string]any{
				"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
				"capabilities": map[string]any{"drop": []any{"ALL"}},
			}}},
		}
	}
	if p := restrictedProblems(good()); len(p) != 0 {
		t.Fatalf("a restricted pod: %v", p)
	}
	tests := []struct {
		name   string
		mutate func(s map[string]any)
		want   string
	}{
		{"root", func(s map[string]any) { delete(get(s, "securityContext").(map[string]any), "runAsNonRoot") }, "runAsNonRoot"},
		{"uid 0", func(s map[string]any) { get(s, "securityContext").(map[string]any)["runAsUser"] = 0 }, "runAsUser"},
		{"no seccomp", func(s map[string]any) { delete(get(s, "securityContext").(map[string]any), "seccompProfile") }, "seccompProfile"},
		{"escalation", func(s map[string]any) { containerSC(s)["allowPrivilegeEscalation"] = true }, "allowPrivilegeEscalation"},
		{"capabilities", func(s map[string]any) { delete(containerSC(s), "capabilities") }, "capabilities.drop"},
		{"writable root", func(s map[string]any) { delete(containerSC(s), "readOnlyRootFilesystem") }, "readOnlyRootFilesystem"},
		{"host path", func(s map[string]any) {
			s["volumes"] = []any{map[string]any{"name": "h", "hostPath": map[string]any{"path": "/"}}}
		}, "hostPath"},
	}
	for _, tt := range tests {
		s := good()
		tt.mutate(s)
		if p := restrictedProblems(s); !slices.ContainsFunc(p, func(l string) bool { return strings.Contains(l, tt.want) }) {
			t.Errorf("%s: problems %v, want one naming %s", tt.name, p, tt.want)
		}
	}
}

func containerSC(s map[string]any) map[string]any {
	return get(s["containers"].([]any)[0], "securityContext").(map[string]any)
}

// The Service selects the daemon's pods and its port, and the ServiceMonitor selects the
// Service and scrapes /metrics on that port.
func TestKubernetesScrape(t *testing.T) {
	t.Parallel()
	docs := readDocs(t, "kubernetes.yaml")
	services, deployments := byKind(docs, "Service"), byKind(docs, "Deployment")
	monitors := byKind(readDocs(t, "prometheus.yaml"), "ServiceMonitor")
	if len(services) != 1 || len(deployments) != 1 || len(monitors) != 1 {
		t.Fatalf("%d Services, %d Deployments, %d ServiceMonitors; want one of each", len(services), len(deployments), len(monitors))
	}
	svc, dep, mon := services[0], deployments[0], monitors[0]
	podLabels, _ := get(dep, "spec", "template", "metadata", "labels").(map[string]any)
	for k, v := range get(svc, "spec", "selector").(map[string]any) {
		if podLabels[k] != v {
			t.Errorf("the Service selects %s=%v; the pods have %v", k, v, podLabels)
		}
	}
	svcLabels, _ := get(svc, "metadata", "labels").(map[string]any)
	for k, v := range get(mon, "spec", "selector", "matchLabels").(map[string]any) {
		if svcLabels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%v; the Service has %v", k, v, svcLabels)
		}
	}
	var containerPorts []any
	for _, c := range get(dep, "spec", "template", "spec", "containers").([]any) {
		for _, p := range get(c, "ports").([]any) {
			containerPorts = append(containerPorts, get(p, "name"))
		}
	}
	var svcPorts []any
	for _, p := range get(svc, "spec", "ports").([]any) {
		svcPorts = append(svcPorts, get(p, "name"))
		if !slices.Contains(containerPorts, get(p, "targetPort")) {
			t.Errorf("the Service's port %v targets %v, not a container port %v", get(p, "name"), get(p, "targetPort"), containerPorts)
		}
	}
	for _, e := range get(mon, "spec", "endpoints").([]any) {
		if !slices.Contains(svcPorts, get(e, "port")) || get(e, "path") != "/metrics" {
			t.Errorf("the ServiceMonitor scrapes %v on port %v; want /metrics on one of %v", get(e, "path"), get(e, "port"), svcPorts)
		}
	}
}

// exportedMetrics returns the names a daemon's /metrics serves (histograms as their _bucket,
// _sum and _count series), from the daemon's own registry.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	reg, err := daemon.MetricsRegistry("acme")
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		n := mf.GetName()
		switch mf.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[n], names[n+"_sum"], names[n+"_count"] = true, true, true
		default:
			names[n] = true
		}
	}
	return names
}

// promqlParser is the parser Prometheus evaluates rules and queries with, by default.
var promqlParser = parser.NewParser(parser.Options{})

// metricNames parses expr and returns the metric names its selectors name.
func metricNames(expr string) ([]string, error) {
	e, err := promqlParser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	var errs []error
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if vs.Name != "" {
			names = append(names, vs.Name)
			return nil
		}
		errs = append(errs, fmt.Errorf("selector %s names no metric", vs))
		return nil
	})
	return names, errors.Join(errs...)
}

// checkExpr reports the problems of expr: it does not parse, or it names a metric the daemon
// does not export.
func checkExpr(expr string, exported map[string]bool) []string {
	names, err := metricNames(expr)
	if err != nil {
		return []string{fmt.Sprintf("%q: %v", expr, err)}
	}
	var out []string
	for _, n := range names {
		if !exported[n] {
			out = append(out, fmt.Sprintf("%q names %s, which the daemon does not export", expr, n))
		}
	}
	return out
}

// The checks of expressions can fail: a typo in a metric name, and PromQL that does not parse.
func TestCheckExpr(t *testing.T) {
	t.Parallel()
	exported := exportedMetrics(t)
	for _, name := range []string{"evsync_runs_total", "evsync_run_duration_seconds_bucket", "evsync_last_success_timestamp_seconds", "process_resident_memory_bytes"} {
		if !exported[name] {
			t.Errorf("the daemon's registry lacks %s", name)
		}
	}
	for expr, want := range map[string]string{
		"sum by (tenant) (rate(evsync_run_total[5m]))":      "evsync_run_total, which the daemon does not export",
		"evsync_run_duration_seconds":                       "evsync_run_duration_seconds, which the daemon does not export",
		"sum by (tenant) (rate(evsync_runs_total[5m])":      "unclosed left parenthesis",
		`{tenant="acme"}`:                                   "names no metric",
		"sum by (tenant) (rate(evsync_runs_total[5m])) > 0": "",
	} {
		got := strings.Join(checkExpr(expr, exported), "; ")
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("checkExpr(%q) = %q, want %q", expr, got, want)
		}
	}
}

// alertRules returns the rule groups of the PrometheusRule in prometheus.yaml, as a rule file,
// read and checked by Prometheus's rule parser (expressions, durations, templates).
func alertRules(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	rules := byKind(readDocs(t, "prometheus.yaml"), "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("prometheus.yaml has %d PrometheusRules, want 1", len(rules))
	}
	file, err := yaml.Marshal(rules[0]["spec"])
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(file, false, model.UTF8Validation, promqlParser, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("the PrometheusRule's spec is not a valid rule file: %v", err)
	}
	if groups == nil || len(groups.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	return groups
}

// The alerting rules parse with Prometheus's own rule parser, name only metrics the daemon
// exports, and each has a severity and a summary.
func TestPrometheusRules(t *testing.T) {
	t.Parallel()
	exported := exportedMetrics(t)
	n := 0
	for _, g := range alertRules(t).Groups {
		for _, r := range g.Rules {
			n++
			for _, p := range checkExpr(r.Expr, exported) {
				t.Errorf("alert %s: %s", r.Alert, p)
			}
			if r.Alert == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %q: want an alert with a severity label and a summary", r.Expr)
			}
		}
	}
	if n == 0 {
		t.Error("no rules")
	}
}

// The alerts docs/operating.md shows are the rules, name for name and expression for
// expression: one source, kept in step.
func TestPrometheusRulesMatchTheDocs(t *testing.T) {
	t.Parallel()
	rules := map[string]string{}
	for _, g := range alertRules(t).Groups {
		for _, r := range g.Rules {
			rules[r.Alert] = r.Expr
			if r.For != 0 {
				rules[r.Alert] += " (for " + r.For.String() + ")"
			}
		}
	}
	data, err := os.ReadFile(path.Join("..", "docs", "operating.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The promql block after "## Alerting and metrics": "# Name: what it means" lines (or
	// "# Name (for 2h): ..." for an alert with a for), each followed by its expression.
	docs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	section, in, name, forDur := false, false, "", ""
	head := regexp.MustCompile(`^# (Evsync\w+)( \(for \w+\))?: `)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			section = line == "## Alerting and metrics"
		case section && line == "```promql":
			in = true
		case in && line == "```":
			in, section = false, false
		case in && head.MatchString(line):
			m := head.FindStringSubmatch(line)
			name, forDur = m[1], m[2]
		case in && strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "#"):
			if name == "" {
				t.Errorf("docs/operating.md: expression %q has no \"# Name: ...\" line above it", line)
			}
			docs[name], name = line+forDur, ""
		}
	}
	if diff := cmp.Diff(rules, docs); diff != "" {
		t.Errorf("the alerts of docs/operating.md differ from deploy/prometheus.yaml's (-rules +docs):\n%s", diff)
	}
}

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int     `json:"id"`
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"` // a row's
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// grafanaVars are the values the test gives the dashboard's variables before parsing an
// expression: Grafana's built-in intervals, and the dashboard's own variables.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "5m", "$__range", "1d", "$tenant", "acme")

// Every expression of the Grafana dashboard parses as PromQL and names only metrics the
// daemon exports; the panels cover freshness, runs, durations, requests and 429s.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	exported := exportedMetrics(t)
	used := map[string]bool{}
	ids := map[int]bool{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("panel %q: id %d is not unique", p.Title, p.ID)
			}
			ids[p.ID] = true
			walk(p.Panels)
			for _, tg := range p.Targets {
				expr := grafanaVars.Replace(tg.Expr)
				if strings.Contains(expr, "$") {
					t.Errorf("panel %q: %q uses a variable the dashboard does not define", p.Title, tg.Expr)
					continue
				}
				for _, prob := range checkExpr(expr, exported) {
					t.Errorf("panel %q: %s", p.Title, prob)
				}
				names, _ := metricNames(expr)
				for _, n := range names {
					used[n] = true
				}
			}
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
		}
		m := regexp.MustCompile(`^label_values\((\w+), *\w+\)$`).FindStringSubmatch(q.Query)
		if m == nil || !exported[m[1]] {
			t.Errorf("variable %s: query %q is not label_values of a metric the daemon exports", v.Name, q.Query)
		}
	}
	for _, want := range []string{"evsync_runs_total", "evsync_last_success_timestamp_seconds", "evsync_run_duration_seconds_bucket",
		"evsync_api_requests_total", "evsync_api_rate_limited_total"} {
		if !used[want] {
			t.Errorf("no panel shows %s; used: %v", want, slices.Sorted(maps.Keys(used)))
		}
	}
}
