package main

// The life of a run beyond the happy path (issue 9): sync.timeout, freshness in /readyz and the
// last-success metric.

import (
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// sync.timeout: default 1h, read from the YAML, a positive duration or exit 2 naming the key.
func TestConfigSyncTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string // "" = no file
		want    time.Duration
		wantErr string
	}{
		{name: "default", want: time.Hour},
		{name: "set", yaml: "sync:\n  timeout: 90s\n", want: 90 * time.Second},
		{name: "zero", yaml: "sync:\n  timeout: 0s\n", wantErr: `config: sync.timeout: must be a positive duration like "1h", got "0s"`},
		{name: "negative", yaml: "sync:\n  timeout: -5m\n", wantErr: `config: sync.timeout: must be a positive duration like "1h", got "-5m0s"`},
		{name: "not a duration", yaml: "sync:\n  timeout: soon\n", wantErr: `config: sync.timeout: must be a duration like "60s" or "1h30m", got "soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := ""
			if tt.yaml != "" {
				path = writeFile(t, "c.yaml", tt.yaml)
			}
			c, err := loadConfig(path, nil)
			if err == nil {
				err = c.validate()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error = %v, want one line containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Sync.Timeout != tt.want {
				t.Errorf("sync.timeout = %s, want %s", c.Sync.Timeout, tt.want)
			}
		})
	}
}

// `syncer sync` runs under sync.timeout: an API that stops answering fails the run at the
// deadline (exit 1, recorded as failed with the reason) instead of hanging it.
func TestE2ESyncTimeoutFailsTheRun(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 61})
	e.writeConfig("engage:\n  requests_per_minute: 6000\nsync:\n  timeout: 1s\n")
	e.fake.SetFault(engagefake.EndpointAgentGroups, engagefake.Fault{Latency: time.Minute})
	r := e.mustRun(1, "sync")
	if !strings.Contains(r.stderr, "run exceeded sync.timeout (1s)") {
		t.Errorf("stderr does not say the run exceeded sync.timeout:\n%s", r.stderr)
	}
	var status, errText string
	if err := e.pool.QueryRow(t.Context(), "SELECT status, error FROM engage.sync_runs ORDER BY run_id DESC LIMIT 1").Scan(&status, &errText); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || !strings.Contains(errText, "run exceeded sync.timeout (1s)") {
		t.Errorf("run recorded %s with error %q, want failed naming sync.timeout", status, errText)
	}
}
