package engagefake_test

import (
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestOptionsWithDefaults(t *testing.T) {
	t.Parallel()
	got := engagefake.Options{RateLimit: 120}.WithDefaults()
	want := engagefake.Options{
		Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 3, AgentsPerGroup: 5, Users: 10,
			QueueGroupsPerSubAccount: 2, QueuesPerGroup: 3, SkillsPerQueueGroup: 2, AgentsPerQueue: 3,
			DialGroupsPerSubAccount: 2, CampaignsPerDialGroup: 2, AgentsPerDialGroup: 3},
		TokenTTL:          5 * time.Minute,
		RCTokenTTL:        time.Hour,
		RefreshTokenTTL:   24 * time.Hour,
		ClientID:          engagefake.ClientIDDefault,
		ClientSecret:      engagefake.ClientSecretDefault,
		JWT:               engagefake.JWTDefault,
		RateLimit:         120,
		RateBurst:         4,
		ExchangePerMinute: 5,
		AuditDays:         3,
		AuditPerHour:      2,
		AuditPropagation:  5 * time.Minute,
		AuditLateFraction: 0.05,
		AuditLateDelay:    3 * time.Hour,

		CallDays: 3, CallsPerHour: 12, CallPropagation: 2 * time.Minute, CallLateFraction: 0.05, CallLateDelay: 3 * time.Hour,
		CallChangeFraction: 0.05, CallChangeDelay: 2 * time.Hour, CallVanishFraction: 0.01,
		ReportingLimits:   []engagefake.Limit{{Count: 3, Per: time.Minute}, {Count: 9, Per: 15 * time.Minute}},
		DateTimeFromOrder: engagefake.DateTimeFromMDY,
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(engagefake.Options{}, "Now", "ReportingClock")); diff != "" {
		t.Errorf("WithDefaults (-want +got):\n%s", diff)
	}
	if got.Now == nil {
		t.Error("Now is nil")
	}
	if b := (engagefake.Options{RateLimit: 30}).WithDefaults().RateBurst; b != 2 {
		t.Errorf("RateBurst for 30/min = %d, want 2", b)
	}
	if b := (engagefake.Options{}).WithDefaults().RateBurst; b != 0 {
		t.Errorf("RateBurst without a limit = %d, want 0", b)
	}
	kept := engagefake.Options{TokenTTL: time.Second, ExchangePerMinute: -1, ClientID: "x", AuditDays: -1, AuditLateFraction: -1}.WithDefaults()
	if kept.TokenTTL != time.Second || kept.ExchangePerMinute != -1 || kept.ClientID != "x" || kept.AuditDays != -1 || kept.AuditLateFraction != -1 {
		t.Errorf("explicit values not kept: %+v", kept)
	}
	if again := kept.WithDefaults(); !cmp.Equal(again, kept, cmpopts.IgnoreFields(engagefake.Options{}, "Now", "ReportingClock")) {
		t.Errorf("WithDefaults is not idempotent: %+v, then %+v", kept, again)
	}
}

func TestStartAt(t *testing.T) {
	t.Parallel()
	s := engagefake.New(engagefake.Options{})
	base, err := s.StartAt("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if s.URL() != base {
		t.Errorf("URL() = %q, want %q", s.URL(), base)
	}
	at, _ := login(t, base)
	if r := get(t, base+accountsPath, at); r.status != 200 {
		t.Errorf("accounts: %d", r.status)
	}
	if _, err := engagefake.New(engagefake.Options{}).StartAt("256.0.0.1:1"); err == nil {
		t.Error("StartAt on a bad address succeeded")
	}
}
