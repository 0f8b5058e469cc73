package engagefake_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
)

func TestRCTokenResponse(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	m := rcGrant(t, base)
	for _, k := range []string{"access_token", "refresh_token", "scope", "owner_id", "endpoint_id"} {
		if v, ok := m[k].(string); !ok || v == "" {
			t.Errorf("%s = %v, want a non-empty string", k, m[k])
		}
	}
	if m["token_type"] != "bearer" {
		t.Errorf("token_type = %v, want bearer", m["token_type"])
	}
	if m["expires_in"] != float64(3600) || m["refresh_token_expires_in"] != float64(604800) {
		t.Errorf("expires_in = %v, refresh_token_expires_in = %v", m["expires_in"], m["refresh_token_expires_in"])
	}
	if got := s.Stats().Grants; got != 1 {
		t.Errorf("Grants = %d, want 1", got)
	}
}

func TestRCTokenErrors(t *testing.T) {
	t.Parallel()
	_, base := start(t, engagefake.Options{})
	jwtForm := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {engagefake.JWTDefault}}
	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		errName    string
		code       string
	}{
		{"no basic auth", jwtForm, "", "", 401, "invalid_client", "OAU-123"},
		{"wrong secret", jwtForm, engagefake.ClientIDDefault, "nope", 401, "invalid_client", "OAU-146"},
		{"wrong client id", jwtForm, "other", engagefake.ClientSecretDefault, 401, "invalid_client", "OAU-146"},
		{"wrong assertion", url.Values{"grant_type": jwtForm["grant_type"], "assertion": {"eyJ.bad.jwt"}},
			engagefake.ClientIDDefault, engagefake.ClientSecretDefault, 400, "invalid_grant", "OAU-213"},
		{"missing assertion", url.Values{"grant_type": jwtForm["grant_type"]},
			engagefake.ClientIDDefault, engagefake.ClientSecretDefault, 400, "invalid_request", "OAU-101"},
		{"password grant", url.Values{"grant_type": {"password"}},
			engagefake.ClientIDDefault, engagefake.ClientSecretDefault, 400, "unsupported_grant_type", "OAU-250"},
		{"bad refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}},
			engagefake.ClientIDDefault, engagefake.ClientSecretDefault, 400, "invalid_grant", "OAU-211"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := postForm(t, base+"/restapi/oauth/token", tt.form, tt.user, tt.pass)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", r.status, tt.status, r.body)
			}
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
				Errors      []struct {
					ErrorCode string `json:"errorCode"`
					Message   string `json:"message"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(r.body, &e); err != nil {
				t.Fatalf("decoding %s: %v", r.body, err)
			}
			if e.Error != tt.errName || len(e.Errors) != 1 || e.Errors[0].ErrorCode != tt.code || e.Description == "" {
				t.Errorf("error body = %s, want error %s code %s", r.body, tt.errName, tt.code)
			}
		})
	}
}

func TestRCRefreshGrantRotates(t *testing.T) {
	t.Parallel()
	_, base := start(t, engagefake.Options{})
	first := rcGrant(t, base)
	refresh := func(tok string) response {
		return postForm(t, base+"/restapi/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}},
			engagefake.ClientIDDefault, engagefake.ClientSecretDefault)
	}
	r := refresh(first["refresh_token"].(string))
	if r.status != http.StatusOK {
		t.Fatalf("refresh grant: %d %s", r.status, r.body)
	}
	second := decode[map[string]any](t, r)
	if second["refresh_token"] == first["refresh_token"] || second["access_token"] == first["access_token"] {
		t.Fatal("refresh grant did not rotate the tokens")
	}
	if r := refresh(first["refresh_token"].(string)); r.status != http.StatusBadRequest {
		t.Errorf("reusing the RC refresh token: status %d, want 400", r.status)
	}
	if r := exchange(t, base, first["access_token"].(string)); r.status != http.StatusUnauthorized {
		t.Errorf("exchange with the replaced RC access token: status %d, want 401", r.status)
	}
	if r := exchange(t, base, second["access_token"].(string)); r.status != http.StatusOK {
		t.Errorf("exchange with the new RC access token: status %d, want 200", r.status)
	}
}

func TestExchangeResponse(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Seed: 3})
	rc := rcGrant(t, base)
	r := exchange(t, base, rc["access_token"].(string))
	if r.status != http.StatusOK {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"accessToken", "refreshToken", "tokenType", "mainAccountId", "agentDetails", "adminId",
		"adminUrl", "agentUrl", "ssoLogin", "rcUser"} {
		if _, ok := m[k]; !ok {
			t.Errorf("exchange response lacks %q", k)
		}
	}
	if m["tokenType"] != "Bearer" || m["mainAccountId"] != "10001" || m["adminUrl"] != "/voice/admin/" {
		t.Errorf("tokenType/mainAccountId/adminUrl = %v/%v/%v", m["tokenType"], m["mainAccountId"], m["adminUrl"])
	}
	if d, ok := m["agentDetails"].([]any); !ok || len(d) != 1 {
		t.Errorf("agentDetails = %v, want one agent", m["agentDetails"])
	}
	// The access token is a JWT with an exp claim TokenTTL after iat.
	parts := strings.Split(m["accessToken"].(string), ".")
	if len(parts) != 3 {
		t.Fatalf("access token has %d parts, want 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct{ Iat, Exp int64 }
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Exp-claims.Iat != int64(engagefake.TokenTTLDefault/time.Second) {
		t.Errorf("exp-iat = %d, want %d", claims.Exp-claims.Iat, int64(engagefake.TokenTTLDefault/time.Second))
	}
	// Without includeRefresh there is no refresh token.
	r = postForm(t, base+"/api/auth/login/rc/accesstoken", url.Values{"rcAccessToken": {rc["access_token"].(string)}, "rcTokenType": {"Bearer"}}, "", "")
	if m := decode[map[string]any](t, r); m["refreshToken"] != nil {
		t.Errorf("refreshToken without includeRefresh: %v", m["refreshToken"])
	}
	st := s.Stats()
	if st.Exchanges != 2 || st.TokensIssued != 2 || st.Requests[engagefake.EndpointExchange] != 2 {
		t.Errorf("stats = %+v, want 2 exchanges and 2 tokens", st)
	}
}

func TestExchangeRejectsBadRCTokens(t *testing.T) {
	t.Parallel()
	clock := newClock()
	_, base := start(t, engagefake.Options{Now: clock.Now, RCTokenTTL: time.Minute, ExchangePerMinute: -1})
	revoked := rcGrant(t, base)["access_token"].(string)
	if r := postForm(t, base+"/restapi/oauth/revoke", url.Values{"token": {revoked}}, engagefake.ClientIDDefault, engagefake.ClientSecretDefault); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	expiring := rcGrant(t, base)["access_token"].(string)
	clock.Advance(time.Minute)
	valid := rcGrant(t, base)["access_token"].(string)

	tests := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"unknown", url.Values{"rcAccessToken": {"made-up"}, "rcTokenType": {"Bearer"}}, 401},
		{"revoked", url.Values{"rcAccessToken": {revoked}, "rcTokenType": {"Bearer"}}, 401},
		{"expired", url.Values{"rcAccessToken": {expiring}, "rcTokenType": {"Bearer"}}, 401},
		{"wrong type", url.Values{"rcAccessToken": {valid}, "rcTokenType": {"Basic"}}, 400},
		{"missing token", url.Values{"rcTokenType": {"Bearer"}}, 400},
		{"valid", url.Values{"rcAccessToken": {valid}, "rcTokenType": {"Bearer"}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := postForm(t, base+"/api/auth/login/rc/accesstoken?includeRefresh=true", tt.form, "", "")
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d (%s)", r.status, tt.status, r.body)
			}
			if tt.status != 200 {
				e := decode[map[string]any](t, r)
				if e["generalMessage"] == nil || e["requestUri"] == nil || e["timestamp"] == nil {
					t.Errorf("error body %s is not an Engage Errors object", r.body)
				}
			}
		})
	}
}

func TestAccessTokenExpiry(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s, base := start(t, engagefake.Options{Now: clock.Now, TokenTTL: time.Second})
	at, _ := login(t, base)
	if r := get(t, base+accountsPath, at); r.status != http.StatusOK {
		t.Fatalf("fresh token: %d %s", r.status, r.body)
	}
	clock.Advance(time.Second)
	r := get(t, base+accountsPath, at)
	if r.status != http.StatusUnauthorized || string(r.body) != "Jwt is expired" ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("expired token: %d %q %q, want 401 text/plain \"Jwt is expired\"", r.status, r.header.Get("Content-Type"), r.body)
	}
	if got := s.Stats().Unauthorized; got != 1 {
		t.Errorf("Unauthorized = %d, want 1", got)
	}
}

func TestExpireTokens(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	at, rt := login(t, base)
	s.ExpireTokens()
	if r := get(t, base+accountsPath, at); r.status != 401 || string(r.body) != "Jwt is expired" {
		t.Fatalf("after ExpireTokens: %d %s", r.status, r.body)
	}
	r := postForm(t, base+"/api/auth/token/refresh", url.Values{"refresh_token": {rt}, "rcTokenType": {"Bearer"}}, "", "")
	at2 := decode[map[string]any](t, r)["accessToken"].(string)
	if r := get(t, base+accountsPath, at2); r.status != 200 {
		t.Fatalf("token issued after ExpireTokens: %d %s", r.status, r.body)
	}
}

func TestMissingAndForgedBearer(t *testing.T) {
	t.Parallel()
	_, base := start(t, engagefake.Options{})
	at, _ := login(t, base)
	forged := at[:len(at)-4] + "AAAA"
	for _, tok := range []string{"", "not-a-jwt", forged} {
		r := get(t, base+accountsPath, tok)
		if r.status != 401 || strings.Contains(strings.ToLower(string(r.body)), "expired") {
			t.Errorf("token %q: %d %q, want 401 without \"expired\"", tok, r.status, r.body)
		}
	}
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	at1, rt1 := login(t, base)
	refresh := func(rt string) response {
		return postForm(t, base+"/api/auth/token/refresh", url.Values{"refresh_token": {rt}, "rcTokenType": {"Bearer"}}, "", "")
	}
	r := refresh(rt1)
	if r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	m := decode[map[string]any](t, r)
	at2, rt2 := m["accessToken"].(string), m["refreshToken"].(string)
	if at2 == at1 || rt2 == rt1 || rt2 == "" {
		t.Fatal("refresh did not return a new access and refresh token")
	}
	r = refresh(rt1)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("reused refresh token: %d %s, want 401", r.status, r.body)
	}
	if e := decode[map[string]any](t, r); e["generalMessage"] != "Invalid refresh token" {
		t.Errorf("reused refresh token body = %s", r.body)
	}
	if r := refresh(rt2); r.status != http.StatusOK {
		t.Fatalf("rotated refresh token: %d %s", r.status, r.body)
	}
	st := s.Stats()
	if st.Refreshes != 2 || st.TokensIssued != 3 || st.Exchanges != 1 || st.Requests[engagefake.EndpointRefresh] != 3 {
		t.Errorf("stats = %+v, want 2 refreshes, 3 tokens, 1 exchange, 3 refresh requests", st)
	}
}

func TestRefreshTokenLifetimeAndLogout(t *testing.T) {
	t.Parallel()
	clock := newClock()
	_, base := start(t, engagefake.Options{Now: clock.Now, RefreshTokenTTL: time.Hour, ExchangePerMinute: -1})
	_, rtOld := login(t, base)
	clock.Advance(time.Hour)
	if r := postForm(t, base+"/api/auth/token/refresh", url.Values{"refresh_token": {rtOld}}, "", ""); r.status != 401 {
		t.Errorf("expired refresh token: %d, want 401", r.status)
	}
	_, rtOut := login(t, base)
	if r := get(t, base+"/api/auth/logout/"+rtOut, ""); r.status != http.StatusMethodNotAllowed || strings.Contains(string(r.body), rtOut) {
		t.Errorf("GET logout: %d %s, want 405 without the token", r.status, r.body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodDelete, base+"/api/auth/logout/"+rtOut, nil)
	req.Header.Set("Accept", "text/plain, application/json;q=0.9")
	if r := do(t, req); r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || len(r.body) != 0 {
		t.Fatalf("logout: %d %q %q, want 200 text/plain with an empty body", r.status, r.header.Get("Content-Type"), r.body)
	}
	if r := postForm(t, base+"/api/auth/token/refresh", url.Values{"refresh_token": {rtOut}}, "", ""); r.status != 401 {
		t.Errorf("logged-out refresh token: %d, want 401", r.status)
	}
}

func TestExchangeRateLimit(t *testing.T) {
	t.Parallel()
	for _, retryAfter := range []bool{false, true} {
		clock := newClock()
		s, base := start(t, engagefake.Options{Now: clock.Now, RateLimitRetryAfter: retryAfter})
		rc := rcGrant(t, base)["access_token"].(string)
		for i := range 5 {
			if r := exchange(t, base, rc); r.status != 200 {
				t.Fatalf("exchange %d: %d %s", i+1, r.status, r.body)
			}
			clock.Advance(10 * time.Second)
		}
		r := exchange(t, base, rc)
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("6th exchange within a minute: %d, want 429", r.status)
		}
		if got := r.header.Get("Retry-After"); (got != "") != retryAfter || (retryAfter && got != "10") {
			t.Errorf("RateLimitRetryAfter=%v: Retry-After = %q (want \"10\" when enabled)", retryAfter, got)
		}
		clock.Advance(10 * time.Second) // the first exchange leaves the window
		if r := exchange(t, base, rc); r.status != 200 {
			t.Fatalf("exchange after the window moved: %d", r.status)
		}
		if st := s.Stats(); st.RateLimited != 1 || st.Exchanges != 6 {
			t.Errorf("stats = %+v, want 1 rate-limited and 6 exchanges", st)
		}
	}
}

func TestRevokeCounts(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	rc := rcGrant(t, base)
	if r := postForm(t, base+"/restapi/oauth/revoke", url.Values{"token": {rc["refresh_token"].(string)}}, "", ""); r.status != 401 {
		t.Errorf("revoke without Basic auth: %d, want 401", r.status)
	}
	if r := postForm(t, base+"/restapi/oauth/revoke", url.Values{"token": {rc["refresh_token"].(string)}},
		engagefake.ClientIDDefault, engagefake.ClientSecretDefault); r.status != 200 {
		t.Fatalf("revoke: %d", r.status)
	}
	// Revoking the refresh token revokes its access token too.
	if r := exchange(t, base, rc["access_token"].(string)); r.status != 401 {
		t.Errorf("exchange after revoke: %d, want 401", r.status)
	}
	if st := s.Stats(); st.Revokes != 1 || st.Requests[engagefake.EndpointRCRevoke] != 2 {
		t.Errorf("stats = %+v", st)
	}
}
