package tenant_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/tenant"
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

// An API or network error names the key or credential to check: the one of the top level
// without a tenants list, the tenant's (and its variables) with one. The errors are the
// client's own, from the fake or a closed port.
func TestExplainNamesTheKeyToCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mod       func(*engageclient.Config)
		fault     string
		status    int
		want      string // without a tenants list
		wantMulti string // for tenant acme of a tenants list
	}{
		{name: "ringcentral does not answer", mod: func(c *engageclient.Config) { c.RCServerURL = closedURL(t) },
			want:      "RingCentral did not answer: check ringcentral.server_url (" + config.EnvRCServerURL + ")",
			wantMulti: "check tenant acme's ringcentral.server_url (else the top level's, " + config.EnvRCServerURL + ")"},
		{name: "engage does not answer", mod: func(c *engageclient.Config) { c.EngageServerURL = closedURL(t) },
			want:      "Engage did not answer: check engage.server_url (" + config.EnvEngageURL + ")",
			wantMulti: "check tenant acme's engage.server_url"},
		{name: "invalid_grant", mod: func(c *engageclient.Config) { c.JWT = "not-the-jwt" },
			want:      "RingCentral refused the JWT: check the JWT (" + config.EnvRCJWT + " or ringcentral.jwt_file)",
			wantMulti: "check the JWT (EVSYNC_TENANT_ACME_RC_JWT or tenant acme's ringcentral.jwt_file)"},
		{name: "invalid_client", mod: func(c *engageclient.Config) { c.ClientSecret = "not-the-secret" },
			want: "RingCentral refused the app's credentials: check ringcentral.client_id (" + config.EnvRCClientID +
				") and the client secret (" + config.EnvRCClientSecret + " or ringcentral.client_secret_file)",
			wantMulti: "EVSYNC_TENANT_ACME_RC_CLIENT_SECRET or tenant acme's ringcentral.client_secret_file"},
		{name: "exchange refused", fault: engagefake.EndpointExchange, status: 403,
			want:      "Engage refused the RingCentral token: check that the user of the JWT (" + config.EnvRCJWT + " or ringcentral.jwt_file) has RingCX",
			wantMulti: "EVSYNC_TENANT_ACME_RC_JWT"},
		{name: "listing refused", fault: engagefake.EndpointAccounts, status: 403,
			want:      "Engage refused the listing: check the permissions of the user of the JWT (" + config.EnvRCJWT,
			wantMulti: "EVSYNC_TENANT_ACME_RC_JWT"},
		{name: "server error: nothing to check", fault: engagefake.EndpointAccounts, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fixture.Fake(t, engagefake.Options{Seed: 9})
			if tt.fault != "" {
				fake.SetFault(tt.fault, engagefake.Fault{Status: tt.status})
			}
			c := engagetest.Client(t, fake, tt.mod)
			_, _, err := c.ListAccounts(t.Context())
			if err == nil {
				t.Fatal("no error")
			}
			acme := config.Tenant{Name: "acme"}
			got, gotMulti := tenant.Explain(acme, false, err), tenant.Explain(acme, true, err)
			if tt.want == "" {
				if got != "" || gotMulti != "" {
					t.Errorf("Explain(%v) = %q, %q; want nothing", err, got, gotMulti)
				}
				return
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("Explain(%v)\n = %q\nwant %q", err, got, tt.want)
			}
			if !strings.Contains(gotMulti, tt.wantMulti) {
				t.Errorf("Explain(%v) for tenant acme\n = %q\nwant it to contain %q", err, gotMulti, tt.wantMulti)
			}
		})
	}
	if got := tenant.Explain(config.Tenant{}, false, context.Canceled); got != "" {
		t.Errorf("Explain(context.Canceled) = %q, want nothing", got)
	}
}

// A database that does not answer names database.url and its variable.
func TestOpenPoolNamesTheDatabaseURL(t *testing.T) {
	t.Parallel()
	_, err := tenant.OpenPool(t.Context(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", 1)
	if err == nil || !strings.Contains(err.Error(), "check database.url ("+config.EnvDatabaseURL+")") {
		t.Errorf("error = %v, want it to name database.url and %s", err, config.EnvDatabaseURL)
	}
}

// A RingCentral OAuth answer is explained by its code whatever its status (invalid_grant the
// JWT even with a 401, unauthorized_client the app's JWT flow even with a 401), and by its
// status only without a known code.
func TestExplainAuthCodeBeforeStatus(t *testing.T) {
	t.Parallel()
	const (
		jwt    = "RingCentral refused the JWT: check the JWT"
		client = "RingCentral refused the app's credentials: check ringcentral.client_id"
		grant  = "RingCentral refused the JWT grant to this app: check that the app of ringcentral.client_id"
		rcURL  = "RingCentral has no OAuth endpoint there: check ringcentral.server_url"
	)
	tests := []struct {
		status int
		code   string
		want   string
	}{
		{400, "invalid_grant", jwt},
		{401, "invalid_grant", jwt},
		{400, "invalid_client", client},
		{401, "invalid_client", client},
		{400, "unauthorized_client", grant},
		{401, "unauthorized_client", grant},
		{403, "unauthorized_client", grant},
		{401, "", client},
		{403, "", grant},
		{404, "", rcURL},
		{400, "", ""},
		{400, "invalid_request", ""},
		{500, "", ""},
		{429, "", ""},
	}
	for _, tt := range tests {
		err := fmt.Errorf("logging in: %w", &engageclient.AuthError{Step: engageclient.StepGrant, StatusCode: tt.status, Code: tt.code})
		got := tenant.Explain(config.Tenant{Name: "acme"}, false, err)
		if tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
			t.Errorf("Explain(%d %s) = %q, want %q…", tt.status, tt.code, got, tt.want)
		}
	}
}
