package engageclient

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// Secrets with characters that URL, path and JSON encoding change, and a credential that does
// not look like a JWT (so that only knowing it, not its shape, can redact it).
const (
	oddClientSecret = "s3cr/t+key=&x y%"
	oddJWT          = "cred/with+odd=chars&and spaces;" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" +
		"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz"
)

// The client redacts every known secret in every form an echo may carry it (as sent,
// query-escaped, path-escaped, JSON-escaped, base64 in a Basic header, cut short), and any
// Bearer/Basic credential, JWT-shaped token or secret form parameter it does not know.
func TestRedactEncodedSecrets(t *testing.T) {
	t.Parallel()
	c, err := New(Config{ClientID: "my-client", ClientSecret: oddClientSecret, JWT: oddJWT})
	if err != nil {
		t.Fatal(err)
	}
	basic := []byte("my-client:" + oddClientSecret)
	tests := []struct{ name, in, want string }{
		{"as sent", "bad secret " + oddClientSecret + " here", "bad secret [REDACTED] here"},
		{"query-escaped", "x " + url.QueryEscape(oddClientSecret) + " y", "x [REDACTED] y"},
		{"path-escaped", "DELETE /api/auth/logout/" + url.PathEscape(oddClientSecret), "DELETE /api/auth/logout/[REDACTED]"},
		{"JSON-escaped", `{"echo":"` + strings.ReplaceAll(oddClientSecret, "&", `\u0026`) + `"}`, `{"echo":"[REDACTED]"}`},
		{"form-encoded credential", "body: grant_type=x&assertion=" + url.QueryEscape(oddJWT) + "&a=b", "body: grant_type=x&assertion=[REDACTED]&a=b"},
		{"credential cut short", "echo: " + oddJWT[:40] + "…", "echo: [REDACTED]…"},
		{"query-escaped credential cut short", "echo: " + url.QueryEscape(oddJWT)[:30], "echo: [REDACTED]"},
		{"Basic std", "Authorization: Basic " + base64.StdEncoding.EncodeToString(basic), "Authorization: Basic [REDACTED]"},
		{"Basic URL encoding, no header", "creds " + base64.URLEncoding.EncodeToString(basic) + ".", "creds [REDACTED]."},
		{"Basic unpadded, cut short", "creds " + base64.RawStdEncoding.EncodeToString(basic)[:12], "creds [REDACTED]"},
		{"unknown Bearer", "Authorization: Bearer abcdefghijklmnop1234", "Authorization: Bearer [REDACTED]"},
		{"unknown Basic", "authorization: basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "authorization: basic [REDACTED]"},
		{"unknown JWT", "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_x, then", "token [REDACTED], then"},
		{"unknown JWT cut short", "token eyJhbGciOiJIUzI1Ni", "token [REDACTED]"},
		{"unknown form secrets", "refresh_token=zzzzzzzz&x=1&rcAccessToken=abc&client_secret=q", "refresh_token=[REDACTED]&x=1&rcAccessToken=[REDACTED]&client_secret=[REDACTED]"},
		{"ordinary text kept", "GET /voice/api/v1/admin/accounts: 404 Not Found: Basic auth required (Bearer token)",
			"GET /voice/api/v1/admin/accounts: 404 Not Found: Basic auth required (Bearer token)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, c.redact(tt.in)); diff != "" {
				t.Errorf("redact(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// An error body is redacted before it is truncated: a secret that the cut would split is
// still removed whole, not left with its first part.
func TestErrorBodyRedactedBeforeTruncation(t *testing.T) {
	t.Parallel()
	c, err := New(Config{ClientID: "my-client", ClientSecret: oddClientSecret, JWT: oddJWT})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "https://example.test/restapi/oauth/token", nil)
	resp := func(status int) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"text/plain"}}, Request: req}
	}
	tests := []struct {
		name string
		err  func(body []byte) error
		pad  int // bytes before " assertion " and the secret: the error's cut falls inside it
	}{
		{"auth error, text/plain", func(b []byte) error { return newAuthError(StepGrant, resp(400), b, c.redact) }, 200 - 40},
		{"API error, text/plain", func(b []byte) error { return newAPIError(StepAPI, resp(403), b, c.redact) }, maxErrorBody - 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(strings.Repeat("x", tt.pad) + " assertion " + oddJWT + " end")
			err := tt.err(body)
			var ae *APIError
			text := fmt.Sprintf("%v %#v", err, err)
			if errors.As(err, &ae) {
				text += ae.Body
			}
			for _, f := range fixture.SecretForms("my-client", oddClientSecret, []string{oddClientSecret, oddJWT}) {
				if strings.Contains(text, f) {
					t.Errorf("error keeps %q of a secret: %.300s", f, text)
				}
			}
		})
	}
}

// A server (or proxy) that echoes the request in a text/plain error body (the form with the
// JWT assertion, the Basic header with the client secret, the bearer token) gets none of them
// into errors or logs: newEnv's check scans for every encoded form.
func TestEchoedCredentialsRedacted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     engagefake.Options
		endpoint string
		call     func(e *env) error
	}{
		{"grant echo, default credentials", engagefake.Options{}, engagefake.EndpointRCToken,
			func(e *env) error { _, err := e.c.Login(e.t.Context()); return err }},
		{"grant echo, odd credentials", engagefake.Options{ClientSecret: oddClientSecret, JWT: oddJWT}, engagefake.EndpointRCToken,
			func(e *env) error { _, err := e.c.Login(e.t.Context()); return err }},
		{"exchange echo", engagefake.Options{}, engagefake.EndpointExchange,
			func(e *env) error { _, err := e.c.Login(e.t.Context()); return err }},
		{"admin API echo", engagefake.Options{}, engagefake.EndpointAccounts,
			func(e *env) error { _, _, err := e.c.ListAccounts(e.t.Context()); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.opts.Seed, tt.opts.Tenant = 1, smallTenant()
			e := newEnv(t, tt.opts, nil)
			e.fake.SetFault(tt.endpoint, engagefake.Fault{Status: http.StatusBadRequest, Echo: true})
			err := e.err(tt.call(e))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "[REDACTED]") {
				t.Errorf("err = %v, want the echoed credentials shown as [REDACTED]", err)
			}
		})
	}
}
