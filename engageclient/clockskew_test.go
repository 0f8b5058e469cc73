package engageclient

import (
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// A token's expiry is its receipt time plus its own lifetime (exp − iat), so a local clock
// minutes off the server's neither renews the token on every request (ahead: before, with
// 4.5 min of skew, every one of 10 requests refreshed it) nor keeps it past its end (behind).
// A skew of more than a minute is logged once per token source, however many tokens it gets.
func TestClockSkew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		local    time.Duration // the local clock's offset from the server's
		viaFake  bool          // the skew is the server's clock (the fake's Now), not the client's
		wantWarn int
	}{
		{name: "local clock ahead", local: 4*time.Minute + 30*time.Second, wantWarn: 1},
		{name: "server clock behind", local: 4*time.Minute + 30*time.Second, viaFake: true, wantWarn: 1},
		{name: "local clock behind", local: -4*time.Minute - 30*time.Second, wantWarn: 1},
		{name: "clocks agree", local: 0, wantWarn: 0},
		{name: "clocks within the threshold", local: 30 * time.Second, wantWarn: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := engagefake.Options{Seed: 1, Tenant: smallTenant()}
			if tt.viaFake {
				opts.Now = func() time.Time { return time.Now().Add(-tt.local) }
			}
			e := newEnv(t, opts, nil)
			if !tt.viaFake {
				e.c.ts.clock = func() time.Time { return time.Now().Add(tt.local) }
			}
			sub := e.fake.SubAccountIDs()[0]
			gid := int64(e.fake.AgentGroupIDs(sub)[0])
			for range 10 {
				if _, _, err := e.c.ListAgents(t.Context(), sub, gid); err != nil {
					t.Fatal(e.err(err))
				}
			}
			st := e.fake.Stats()
			if st.Refreshes > 1 || st.Exchanges != 1 {
				t.Errorf("10 requests: %d refreshes and %d exchanges, want at most 1 and 1", st.Refreshes, st.Exchanges)
			}
			if n := e.c.Stats().Requests; n != 10 {
				t.Errorf("%d admin requests sent, want 10 (no 401 and replay)", n)
			}
			// A renewal later: the warning is not repeated.
			tok, err := e.c.ts.Token(t.Context())
			if err != nil {
				t.Fatal(e.err(err))
			}
			e.c.ts.Invalidate(tok)
			if _, _, err := e.c.ListAgents(t.Context(), sub, gid); err != nil {
				t.Fatal(e.err(err))
			}
			if n := strings.Count(e.logs.String(), "clock differs"); n != tt.wantWarn {
				t.Errorf("%d clock warnings, want %d:\n%s", n, tt.wantWarn, e.logs.String())
			}
		})
	}
}
