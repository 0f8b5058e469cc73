package engageclient

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// A Retry-After beyond MaxRetryWait is not waited out: the request that got it fails with a
// *RateLimitError naming the wait, and so does every request behind the shared pause it set,
// without being sent, until the pause is short enough to wait. The deadline only bounds a
// failure (a call that sleeps the hour returns the context's error instead).
func TestRetryAfterBeyondMaxRetryWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
		maxWait    time.Duration // 0: the default
		queued     bool          // the checked call is a second one, behind the first's pause
		wantAfter  time.Duration
		wantMsg    string
	}{
		{name: "the request that got the 429", retryAfter: "3600", wantAfter: time.Hour,
			wantMsg: "rate limited: Retry-After 1h0m0s exceeds engage.max_retry_wait 2m0s"},
		{name: "a request behind the pause", retryAfter: "3600", queued: true, wantAfter: time.Hour,
			wantMsg: "exceeds engage.max_retry_wait 2m0s"},
		{name: "a configured max_retry_wait", retryAfter: "30", maxWait: time.Second, wantAfter: 30 * time.Second,
			wantMsg: "rate limited: Retry-After 30s exceeds engage.max_retry_wait 1s"},
		{name: "behind a pause beyond a configured max_retry_wait", retryAfter: "30", maxWait: time.Second, queued: true,
			wantAfter: 30 * time.Second, wantMsg: "exceeds engage.max_retry_wait 1s"},
		// Whatever its size: more than a day was read as no Retry-After (retried within
		// seconds), and beyond a Duration it must not overflow.
		{name: "more than a day", retryAfter: "99999", wantAfter: 99999 * time.Second,
			wantMsg: "rate limited: Retry-After 27h46m39s exceeds engage.max_retry_wait 2m0s"},
		{name: "more than a day, behind the pause", retryAfter: "99999", queued: true, wantAfter: 99999 * time.Second,
			wantMsg: "exceeds engage.max_retry_wait 2m0s"},
		{name: "beyond a Duration", retryAfter: "9999999999", wantAfter: math.MaxInt64,
			wantMsg: "rate limited: Retry-After 2562047h47m16s exceeds engage.max_retry_wait 2m0s"},
		{name: "beyond a Duration, behind the pause", retryAfter: "9999999999", queued: true, wantAfter: math.MaxInt64,
			wantMsg: "exceeds engage.max_retry_wait 2m0s"},
		{name: "a far HTTP date", retryAfter: "Fri, 31 Dec 9999 23:59:59 GMT", wantAfter: math.MaxInt64,
			wantMsg: "exceeds engage.max_retry_wait 2m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) {
				c.MaxRetryDuration = 2 * time.Hour // the retry budget would allow the wait
				c.MaxRetryWait = tt.maxWait
			})
			sub := e.fake.SubAccountIDs()[0]
			gids := e.fake.AgentGroupIDs(sub)
			e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 429, RetryAfter: tt.retryAfter,
				PathContains: fmt.Sprintf("/agentGroups/%d/agents", gids[0])})
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			_, _, err := e.c.ListAgents(ctx, sub, int64(gids[0]))
			var rl *RateLimitError
			if !errors.As(e.err(err), &rl) {
				t.Fatalf("err = %v, want a *RateLimitError", err)
			}
			if tt.queued {
				_, _, err = e.c.ListAgents(ctx, sub, int64(gids[1]))
				if !errors.As(e.err(err), &rl) {
					t.Fatalf("queued request: err = %v, want a *RateLimitError", err)
				}
			}
			if ctx.Err() != nil {
				t.Fatalf("the call outlived its deadline: %v", err)
			}
			if rl.Step != StepAPI {
				t.Errorf("Step = %q, want %q (sent or not, an admin API request)", rl.Step, StepAPI)
			}
			// A queued request is told what is left of the pause (in whole seconds); a pause
			// beyond a Duration, nearly all of it.
			if got := rl.RetryAfter.Round(time.Minute); got != tt.wantAfter.Round(time.Minute) &&
				(tt.wantAfter != math.MaxInt64 || rl.RetryAfter < math.MaxInt64-time.Hour) {
				t.Errorf("RetryAfter = %s, want about %s", rl.RetryAfter, tt.wantAfter)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.wantMsg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %q, want one line with %q", err, tt.wantMsg)
			}
			if n := e.fake.Stats().Requests[engagefake.EndpointAgents]; n != 1 {
				t.Errorf("agent listings sent = %d, want 1 (nothing retried or sent inside the pause)", n)
			}
		})
	}
}

// A pause within MaxRetryWait is waited out, by the request that got it and by those behind it.
func TestRetryAfterWithinMaxRetryWaitWaited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) { c.MaxRetryWait = 5 * time.Second })
	sub := e.fake.SubAccountIDs()[0]
	gids := e.fake.AgentGroupIDs(sub)
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 429, RetryAfter: "1", Times: 1,
		PathContains: fmt.Sprintf("/agentGroups/%d/agents", gids[0])})
	var got []int
	for _, gid := range gids[:2] {
		agents, _, err := e.c.ListAgents(t.Context(), sub, int64(gid))
		if err != nil {
			t.Fatal(e.err(err))
		}
		got = append(got, len(agents))
	}
	want := []int{len(e.fake.AgentIDs(gids[0])), len(e.fake.AgentIDs(gids[1]))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("agents listed (-want +got):\n%s", diff)
	}
}

// A token endpoint's Retry-After beyond MaxRetryWait is not waited out either, whatever its
// size: the RingCentral grant's (an *AuthError, 429 or 503) and the Engage exchange's (a
// *RateLimitError).
func TestAuthRetryAfterBeyondMaxRetryWait(t *testing.T) {
	t.Parallel()
	for _, endpoint := range []string{engagefake.EndpointRCToken, engagefake.EndpointExchange} {
		for _, status := range []int{429, 503} {
			for _, retryAfter := range []string{"3600", "99999", "9999999999", "Fri, 31 Dec 9999 23:59:59 GMT"} {
				t.Run(fmt.Sprintf("%s/%d/%s", endpoint, status, retryAfter), func(t *testing.T) {
					t.Parallel()
					e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) { c.MaxRetryDuration = 2 * time.Hour })
					e.fake.SetFault(endpoint, engagefake.Fault{Status: status, RetryAfter: retryAfter})
					ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
					defer cancel()
					_, err := e.c.Login(ctx)
					e.err(err)
					var au *AuthError
					var rl *RateLimitError
					switch {
					case ctx.Err() != nil:
						t.Fatalf("err = %v: the login waited until the deadline", err)
					case endpoint == engagefake.EndpointRCToken && (!errors.As(err, &au) || au.StatusCode != status):
						t.Fatalf("err = %v, want the %d *AuthError", err, status)
					case endpoint == engagefake.EndpointExchange && status == 429 && (!errors.As(err, &rl) || rl.MaxWait == 0):
						t.Fatalf("err = %v, want a *RateLimitError beyond MaxWait", err)
					case endpoint == engagefake.EndpointExchange && status == 503 && !strings.Contains(fmt.Sprint(err), "503 Service Unavailable"):
						t.Fatalf("err = %v, want the 503", err)
					}
					if n := e.fake.Stats().Requests[endpoint]; n != 1 {
						t.Errorf("%s sent %d times, want 1", endpoint, n)
					}
				})
			}
		}
	}
}

// An Engage 503's Retry-After is honoured too (docs/api.md: 429/5xx honour Retry-After): waited
// out within MaxRetryWait, and failing the call at once beyond it, whatever its size.
func TestServiceUnavailableRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
		wantSent   int64
		wantMsg    string // "" for success
		minElapsed time.Duration
	}{
		{name: "within max_retry_wait: waited", retryAfter: "1", wantSent: 2, minElapsed: time.Second},
		{name: "more than a day", retryAfter: "99999", wantSent: 1,
			wantMsg: "503 Service Unavailable: Service Unavailable (injected fault): Retry-After 27h46m39s exceeds engage.max_retry_wait 2m0s"},
		{name: "beyond a Duration", retryAfter: "9999999999", wantSent: 1, wantMsg: "Retry-After 2562047h47m16s exceeds engage.max_retry_wait 2m0s"},
		{name: "a far HTTP date", retryAfter: "Fri, 31 Dec 9999 23:59:59 GMT", wantSent: 1, wantMsg: "exceeds engage.max_retry_wait 2m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) { c.MaxRetryDuration = 2 * time.Hour })
			sub := e.fake.SubAccountIDs()[0]
			gid := e.fake.AgentGroupIDs(sub)[0]
			if _, err := e.c.Login(t.Context()); err != nil {
				t.Fatal(e.err(err))
			}
			e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 503, RetryAfter: tt.retryAfter, Times: 1})
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			start := time.Now()
			_, _, err := e.c.ListAgents(ctx, sub, int64(gid))
			e.err(err)
			if ctx.Err() != nil {
				t.Fatalf("the call outlived its deadline: %v", err)
			}
			if tt.wantMsg == "" {
				if err != nil || time.Since(start) < tt.minElapsed {
					t.Errorf("err = %v after %s, want success after at least %s", err, time.Since(start), tt.minElapsed)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantMsg)
			}
			if n := e.fake.Stats().Requests[engagefake.EndpointAgents]; n != tt.wantSent {
				t.Errorf("agent listings sent = %d, want %d", n, tt.wantSent)
			}
		})
	}
}

// While requests wait out a 429's pause, Stats says until when and which header asked for it,
// so a progress display can say "waiting 28 s: Retry-After"; before the 429 and once the pause
// has ended it says nothing.
func TestStatsWaitDuringRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) {
		c.MaxRetryDuration = time.Hour // the retry budget allows the wait
	})
	sub := e.fake.SubAccountIDs()[0]
	gid := int64(e.fake.AgentGroupIDs(sub)[0])
	if w := e.c.Stats().Wait; w != (Wait{}) {
		t.Fatalf("Stats().Wait before any 429 = %+v, want none", w)
	}
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 429, RetryAfter: "60", Times: 1})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	sent := time.Now()
	go func() {
		_, _, err := e.c.ListAgents(ctx, sub, gid)
		done <- err
	}()
	var w Wait
	for w == (Wait{}) {
		select {
		case err := <-done:
			t.Fatalf("the call ended before waiting: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
		w = e.c.Stats().Wait
	}
	cancel()
	<-done
	if w.Reason != "Retry-After" {
		t.Errorf("Wait.Reason = %q, want Retry-After", w.Reason)
	}
	if w.Until.Before(sent.Add(59*time.Second)) || w.Until.After(time.Now().Add(61*time.Second)) {
		t.Errorf("Wait.Until = %s, want about 60 s after the request (%s)", w.Until, sent)
	}
	if got := e.c.wait(w.Until.Add(time.Millisecond)); got != (Wait{}) {
		t.Errorf("wait after the pause ended = %+v, want none", got)
	}
}

// The wait names the header it was read from.
func TestWaitAskedNamesItsHeader(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		h    http.Header
		want string
	}{
		{"none", http.Header{}, ""},
		{"seconds", http.Header{"Retry-After": {"28"}}, "Retry-After"},
		{"http date", http.Header{"Retry-After": {now.Add(time.Minute).Format(http.TimeFormat)}}, "Retry-After"},
		{"window only", http.Header{"X-Rate-Limit-Window": {"60"}}, "X-Rate-Limit-Window"},
		{"unusable retry-after falls back to window", http.Header{"Retry-After": {"later"}, "X-Rate-Limit-Window": {"3"}}, "X-Rate-Limit-Window"},
		{"garbage", http.Header{"Retry-After": {"soon"}}, ""},
	}
	for _, tt := range tests {
		if _, got := waitAsked(tt.h, now); got != tt.want {
			t.Errorf("%s: waitAsked names %q, want %q", tt.name, got, tt.want)
		}
	}
}
