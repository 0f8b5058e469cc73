package engageclient_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/engagetest"
)

// closedURL is a URL on which nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// Each failure of the auth chain and of the admin API is typed with the step it happened in,
// so that a caller can point at the host or the credential to check; the retries of a
// RingCentral call are logged as ringcentral's, not engage's.
func TestErrorsNameTheirStep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mod       func(*engageclient.Config, *engagefake.Server)
		fault     string // fake endpoint to fail with status
		status    int
		wantType  string // "transport", "auth" or "api"
		wantStep  engageclient.Step
		wantCode  string // AuthError.Code
		wantLog   string // a log line's message that must appear
		forbidLog string // one that must not
	}{
		{name: "ringcentral does not answer", wantType: "transport", wantStep: engageclient.StepGrant,
			mod:     func(c *engageclient.Config, _ *engagefake.Server) { c.RCServerURL = closedURL(t) },
			wantLog: "ringcentral: retrying request", forbidLog: "engage: retrying request"},
		{name: "engage does not answer", wantType: "transport", wantStep: engageclient.StepExchange,
			mod:     func(c *engageclient.Config, _ *engagefake.Server) { c.EngageServerURL = closedURL(t) },
			wantLog: "engage: retrying request", forbidLog: "ringcentral: retrying request"},
		{name: "bad JWT", wantType: "auth", wantStep: engageclient.StepGrant, wantCode: "invalid_grant",
			mod: func(c *engageclient.Config, _ *engagefake.Server) { c.JWT = "not-the-jwt" }},
		{name: "bad client secret", wantType: "auth", wantStep: engageclient.StepGrant, wantCode: "invalid_client",
			mod: func(c *engageclient.Config, _ *engagefake.Server) { c.ClientSecret = "not-the-secret" }},
		{name: "exchange refused", wantType: "api", wantStep: engageclient.StepExchange, fault: engagefake.EndpointExchange, status: 403},
		{name: "listing refused", wantType: "api", wantStep: engageclient.StepAPI, fault: engagefake.EndpointAccounts, status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fixture.Fake(t, engagefake.Options{Seed: 3})
			if tt.fault != "" {
				fake.SetFault(tt.fault, engagefake.Fault{Status: tt.status})
			}
			var logs fixture.Logs
			c := engagetest.Client(t, fake, func(c *engageclient.Config) {
				c.Logger = logs.Logger()
				if tt.mod != nil {
					tt.mod(c, fake)
				}
			})
			_, _, err := c.ListAccounts(t.Context())
			if err == nil {
				t.Fatal("no error")
			}
			var (
				te *engageclient.TransportError
				ae *engageclient.AuthError
				pe *engageclient.APIError
			)
			switch tt.wantType {
			case "transport":
				if !errors.As(err, &te) || te.Step != tt.wantStep || te.Step.RingCentral() != (tt.wantStep == engageclient.StepGrant) {
					t.Errorf("error %v (%T): want a *TransportError of step %q", err, err, tt.wantStep)
				}
			case "auth":
				if !errors.As(err, &ae) || ae.Step != tt.wantStep || ae.Code != tt.wantCode || !ae.Step.RingCentral() {
					t.Errorf("error %v: want an *AuthError %s of step %q", err, tt.wantCode, tt.wantStep)
				}
			case "api":
				if !errors.As(err, &pe) || pe.Step != tt.wantStep || pe.Step.RingCentral() {
					t.Errorf("error %v: want an *APIError of step %q", err, tt.wantStep)
				}
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), `msg="`+tt.wantLog+`"`) {
				t.Errorf("no log line %q:\n%s", tt.wantLog, logs.String())
			}
			if tt.forbidLog != "" && strings.Contains(logs.String(), tt.forbidLog) {
				t.Errorf("log line %q:\n%s", tt.forbidLog, logs.String())
			}
		})
	}
}

// The audit search and the aggregate statistics are admin API requests like the listings:
// their refusals and transport errors carry StepAPI (a caller's hint for a 403 depends on it),
// and their retries are logged as engage's.
func TestBodyRequestsNameTheAPIStep(t *testing.T) {
	t.Parallel()
	end := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	calls := []struct {
		name, endpoint string
		call           func(*engageclient.Client) error
	}{
		{"audit search", engagefake.EndpointAuditSearch, func(c *engageclient.Client) error {
			_, _, err := c.SearchAuditLogs(t.Context(), &engageclient.AuditLogSearch{AccountID: "20001", Start: end.Add(-time.Hour), End: end})
			return err
		}},
		{"queue stats", engagefake.EndpointQueueStats, func(c *engageclient.Client) error {
			_, _, err := c.ListQueueStats(t.Context(), "980634004", "20001",
				&engageclient.StatsWindow{Start: end.Add(-time.Hour), End: end, Interval: time.Hour})
			return err
		}},
	}
	for _, call := range calls {
		for _, fault := range []engagefake.Fault{{Status: 403}, {Drop: true}} {
			t.Run(fmt.Sprintf("%s drop=%t status=%d", call.name, fault.Drop, fault.Status), func(t *testing.T) {
				t.Parallel()
				fake := fixture.Fake(t, engagefake.Options{Seed: 3})
				fake.SetFault(call.endpoint, fault)
				var logs fixture.Logs
				c := engagetest.Client(t, fake, func(c *engageclient.Config) { c.Logger = logs.Logger() })
				err := call.call(c)
				var (
					te *engageclient.TransportError
					pe *engageclient.APIError
				)
				switch {
				case fault.Drop:
					if !errors.As(err, &te) || te.Step != engageclient.StepAPI {
						t.Errorf("error %v (%T): want a *TransportError of step %q", err, err, engageclient.StepAPI)
					}
					if !strings.Contains(logs.String(), `msg="engage: retrying request"`) {
						t.Errorf("no engage retry logged:\n%s", logs.String())
					}
				case !errors.As(err, &pe) || pe.StatusCode != 403 || pe.Step != engageclient.StepAPI:
					t.Errorf("error %v: want a 403 *APIError of step %q", err, engageclient.StepAPI)
				}
			})
		}
	}
}
