package engageclient_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient"
)

// WithDefaults fills every zero field from its <Field>Default constant and keeps the rest.
func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  engageclient.Config
		want engageclient.Config
	}{
		{
			name: "zero",
			cfg:  engageclient.Config{ClientID: "id"},
			want: engageclient.Config{
				ClientID:          "id",
				RCServerURL:       "https://platform.ringcentral.com",
				EngageServerURL:   "https://engage.ringcentral.com",
				RefreshMargin:     60 * time.Second,
				RequestsPerMinute: 120,
				Concurrency:       4,
				MaxAttempts:       5,
				MaxRetryDuration:  2 * time.Minute,
				MaxRetryWait:      2 * time.Minute,
				BackoffBase:       time.Second,
				BackoffCap:        30 * time.Second,
				ExchangePerMinute: 5,
				RequestTimeout:    60 * time.Second,
				MaxListingRows:    1_000_000,
				UserAgent:         "evsync/dev",
				ReportingLimits:   []engageclient.Limit{{Count: 3, Per: time.Minute}, {Count: 9, Per: 15 * time.Minute}},
			},
		},
		{
			name: "set fields stay, a long MaxRetryWait stretches the retry budget",
			cfg: engageclient.Config{
				EngageServerURL: "https://ringcx.ringcentral.com", RequestsPerMinute: 60, Concurrency: 9,
				MaxRetryWait: 5 * time.Minute, MaxListingRows: 7, UserAgent: "evsync/1.2.3",
				ReportingLimits: []engageclient.Limit{{Count: 2, Per: time.Second}},
			},
			want: engageclient.Config{
				RCServerURL:       engageclient.RCServerURLDefault,
				EngageServerURL:   "https://ringcx.ringcentral.com",
				RefreshMargin:     engageclient.RefreshMarginDefault,
				RequestsPerMinute: 60,
				Concurrency:       9,
				MaxAttempts:       engageclient.MaxAttemptsDefault,
				MaxRetryDuration:  5 * time.Minute,
				MaxRetryWait:      5 * time.Minute,
				BackoffBase:       engageclient.BackoffBaseDefault,
				BackoffCap:        engageclient.BackoffCapDefault,
				ExchangePerMinute: engageclient.ExchangePerMinuteDefault,
				RequestTimeout:    engageclient.RequestTimeoutDefault,
				MaxListingRows:    7,
				UserAgent:         "evsync/1.2.3",
				ReportingLimits:   []engageclient.Limit{{Count: 2, Per: time.Second}},
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

// Validate checks a defaulted Config field by field with the syncer's ranges (engage.*), and
// reports every problem as a *ConfigError naming the Go field.
func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := engageclient.Config{ClientID: "id", ClientSecret: "secret-value", JWT: "jwt-value"}.WithDefaults()
	tests := []struct {
		name string
		mod  func(*engageclient.Config)
		want []string // the errors' texts, in order
	}{
		{"defaults", func(*engageclient.Config) {}, nil},
		{"concurrency at its bounds", func(c *engageclient.Config) { c.Concurrency = engageclient.ConcurrencyMax }, nil},
		{"concurrency one", func(c *engageclient.Config) { c.Concurrency = 1 }, nil},
		{"concurrency above the max", func(c *engageclient.Config) { c.Concurrency = 65 },
			[]string{"engageclient: Config.Concurrency must be an integer from 1 to 64, got 65"}},
		{"zero concurrency", func(c *engageclient.Config) { c.Concurrency = 0 },
			[]string{"engageclient: Config.Concurrency must be an integer from 1 to 64, got 0"}},
		{"zero requests per minute", func(c *engageclient.Config) { c.RequestsPerMinute = 0 },
			[]string{"engageclient: Config.RequestsPerMinute must be a positive integer, got 0"}},
		{"zero refresh margin", func(c *engageclient.Config) { c.RefreshMargin = 0 },
			[]string{"engageclient: Config.RefreshMargin must be a positive duration, got 0s"}},
		{"negative max retry wait", func(c *engageclient.Config) { c.MaxRetryWait = -time.Second },
			[]string{"engageclient: Config.MaxRetryWait must be a positive duration, got -1s"}},
		{"zero max listing rows", func(c *engageclient.Config) { c.MaxListingRows = 0 },
			[]string{"engageclient: Config.MaxListingRows must be a positive integer, got 0"}},
		{"no reporting limits", func(c *engageclient.Config) { c.ReportingLimits = []engageclient.Limit{} },
			[]string{"engageclient: Config.ReportingLimits must hold at least one limit"}},
		{"a reporting limit without a count or a period", func(c *engageclient.Config) {
			c.ReportingLimits = []engageclient.Limit{{Count: 3, Per: time.Minute}, {Count: 0, Per: time.Minute}, {Count: 1, Per: 0}}
		}, []string{
			"engageclient: Config.ReportingLimits [1] must have a Count of at least 1 and a positive Per, got 0 per 1m0s",
			"engageclient: Config.ReportingLimits [2] must have a Count of at least 1 and a positive Per, got 1 per 0s",
		}},
		{"every problem", func(c *engageclient.Config) {
			c.ClientID, c.JWT = "", ""
			c.EngageServerURL = "https://x/?token=abc"
			c.RequestsPerMinute = -1
			c.BackoffBase = time.Minute
		}, []string{
			"engageclient: Config.ClientID is required",
			"engageclient: Config.JWT is required",
			"engageclient: Config.EngageServerURL must be an http or https base URL: query and fragment are not allowed in the URL",
			"engageclient: Config.RequestsPerMinute must be a positive integer, got -1",
			"engageclient: Config.BackoffCap (30s) must be at least BackoffBase (1m0s)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
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
			var ce *engageclient.ConfigError
			if !errors.As(err, &ce) || !strings.HasPrefix(tt.want[0], "engageclient: Config."+ce.Field+" ") {
				t.Errorf("errors.As(*ConfigError) = %+v, want the field of %q", ce, tt.want[0])
			}
		})
	}
}

// New rejects what Validate rejects once the defaults are in: a Concurrency above the max.
func TestNewRejectsConcurrencyAboveMax(t *testing.T) {
	t.Parallel()
	cfg := engageclient.Config{ClientID: "id", ClientSecret: "s", JWT: "j", Concurrency: engageclient.ConcurrencyMax + 1}
	var ce *engageclient.ConfigError
	if _, err := engageclient.New(cfg); !errors.As(err, &ce) || ce.Field != "Concurrency" {
		t.Errorf("New with Concurrency %d = %v, want a *ConfigError for Concurrency", cfg.Concurrency, err)
	}
}
