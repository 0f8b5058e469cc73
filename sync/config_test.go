package sync_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
	syncrun "github.com/evsync/evsync/sync"
)

// WithDefaults fills the fields that have a default and keeps the rest.
func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  syncrun.Config
		want syncrun.Config
	}{
		{
			name: "zero",
			want: syncrun.Config{MaxDeleteFraction: 0.5, Concurrency: 4, Trigger: "manual", ProgressInterval: 2 * time.Second},
		},
		{
			name: "negative concurrency and interval take the defaults",
			cfg:  syncrun.Config{Concurrency: -1, ProgressInterval: -time.Second},
			want: syncrun.Config{
				MaxDeleteFraction: syncrun.MaxDeleteFractionDefault, Concurrency: engageclient.ConcurrencyDefault,
				Trigger: syncrun.TriggerDefault, ProgressInterval: syncrun.ProgressIntervalDefault,
			},
		},
		{
			name: "set fields stay",
			cfg: syncrun.Config{
				Entities: []entity.Name{"agents"}, MaxDeleteFraction: 0.25, Concurrency: 9, Trigger: "schedule",
				ProgressInterval: time.Second, AssignedAgentsPageSize: 500, RequestsPerMinute: 60,
			},
			want: syncrun.Config{
				Entities: []entity.Name{"agents"}, MaxDeleteFraction: 0.25, Concurrency: 9, Trigger: "schedule",
				ProgressInterval: time.Second, AssignedAgentsPageSize: 500, RequestsPerMinute: 60,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.cfg.WithDefaults()); diff != "" {
				t.Errorf("WithDefaults (-want +got):\n%s", diff)
			}
		})
	}
}

// Validate checks a defaulted Config with the syncer's ranges (sync.max_delete_fraction,
// engage.concurrency, engage.assigned_agents_page_size) and reports every problem as a
// *ConfigError naming the Go field.
func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*syncrun.Config)
		want []string // the errors' texts, in order
	}{
		{"defaults", func(*syncrun.Config) {}, nil},
		{"largest values", func(c *syncrun.Config) {
			c.MaxDeleteFraction, c.Concurrency = 1, engageclient.ConcurrencyMax
			c.AgentGroupPageSize, c.AssignedAgentsPageSize = syncrun.PageSizeMax, syncrun.PageSizeMax
		}, nil},
		{"duplicate entities", func(c *syncrun.Config) { c.Entities = []entity.Name{"users", "users"} }, nil},
		{"unknown entity", func(c *syncrun.Config) { c.Entities = []entity.Name{"users", "gates"} },
			[]string{`sync: Config.Entities has an unknown entity "gates" (expected one of ` + strings.Join(names(), ", ") + ")"}},
		{"fraction zero", func(c *syncrun.Config) { c.MaxDeleteFraction = 0 },
			[]string{"sync: Config.MaxDeleteFraction must be greater than 0 and at most 1, got 0"}},
		{"fraction big", func(c *syncrun.Config) { c.MaxDeleteFraction = 1.5 },
			[]string{"sync: Config.MaxDeleteFraction must be greater than 0 and at most 1, got 1.5"}},
		{"fraction NaN", func(c *syncrun.Config) { c.MaxDeleteFraction = math.NaN() },
			[]string{"sync: Config.MaxDeleteFraction must be greater than 0 and at most 1, got NaN"}},
		{"concurrency above the max", func(c *syncrun.Config) { c.Concurrency = 65 },
			[]string{"sync: Config.Concurrency must be an integer from 1 to 64, got 65"}},
		{"every problem", func(c *syncrun.Config) {
			c.MaxDeleteFraction = -1
			c.Concurrency = 0
			c.AgentGroupPageSize = -1
			c.AssignedAgentsPageSize = syncrun.PageSizeMax + 1
			c.RequestsPerMinute = -1
			c.ProgressInterval = 0
		}, []string{
			"sync: Config.MaxDeleteFraction must be greater than 0 and at most 1, got -1",
			"sync: Config.Concurrency must be an integer from 1 to 64, got 0",
			"sync: Config.AgentGroupPageSize must be 0 (full lists) or a page size from 1 to 100000, got -1",
			"sync: Config.AssignedAgentsPageSize must be 0 (full lists) or a page size from 1 to 100000, got 100001",
			"sync: Config.RequestsPerMinute must not be negative, got -1",
			"sync: Config.ProgressInterval must be a positive duration, got 0s",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := syncrun.Config{}.WithDefaults()
			tt.mod(&cfg)
			err := cfg.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("Validate (-want +got):\n%s", diff)
			}
			if err == nil {
				return
			}
			var ce *syncrun.ConfigError
			if !errors.As(err, &ce) || !strings.HasPrefix(tt.want[0], "sync: Config."+ce.Field+" ") {
				t.Errorf("errors.As(*ConfigError) = %+v, want the field of %q", ce, tt.want[0])
			}
		})
	}
}

// NewRunner applies the defaults before it validates: a zero Config is fine, a NaN fraction
// is not.
func TestNewRunnerValidatesTheDefaultedConfig(t *testing.T) {
	t.Parallel()
	if _, err := syncrun.NewRunner(nil, nil, syncrun.Config{}, nil); err != nil {
		t.Errorf("NewRunner with a zero Config = %v", err)
	}
	var ce *syncrun.ConfigError
	if _, err := syncrun.NewRunner(nil, nil, syncrun.Config{MaxDeleteFraction: math.NaN()}, nil); !errors.As(err, &ce) || ce.Field != "MaxDeleteFraction" {
		t.Errorf("NewRunner with a NaN MaxDeleteFraction = %v, want a *ConfigError for MaxDeleteFraction", err)
	}
}

// names are the entities' names, for messages.
func names() []string {
	var out []string
	for _, n := range entity.Names() {
		out = append(out, string(n))
	}
	return out
}
