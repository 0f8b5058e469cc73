package engagefake

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/evsync/evsync/internal/httpaccept"
)

// Grant types of the RingCentral token endpoint.
const (
	grantJWT     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	grantRefresh = "refresh_token"
)

// checkBasic verifies the client's Basic auth; on failure it writes the OAuth error.
func (s *Server) checkBasic(w http.ResponseWriter, r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		s.count(func(st *Stats) { st.Unauthorized++ })
		rcError(w, http.StatusUnauthorized, "invalid_client", "Client authentication is required", "OAU-123")
		return false
	}
	if subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
		s.count(func(st *Stats) { st.Unauthorized++ })
		rcError(w, http.StatusUnauthorized, "invalid_client", "Invalid client credentials", "OAU-146")
		return false
	}
	return true
}

// handleRCToken serves POST /restapi/oauth/token (JWT and refresh_token grants).
func (s *Server) handleRCToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rcError(w, http.StatusMethodNotAllowed, "invalid_request", "Method not allowed", "CMN-405")
		return
	}
	if !s.checkBasic(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		rcError(w, http.StatusBadRequest, "invalid_request", "Unparsable request body", "OAU-101")
		return
	}
	d, status, errName, desc, code := s.grant(r.PostForm)
	if status != http.StatusOK {
		rcError(w, status, errName, desc, code)
		return
	}
	if r.PostForm.Get("grant_type") == grantJWT {
		s.churnOnLogin() // before the run that logs in lists anything
	}
	writeJSON(w, http.StatusOK, appendJSON(nil, d))
}

// grant runs a RingCentral token grant; it returns the token response or an OAuth error.
func (s *Server) grant(form url.Values) (d doc, status int, errName, desc, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	switch form.Get("grant_type") {
	case grantJWT:
		a := form.Get("assertion")
		if a == "" {
			return nil, http.StatusBadRequest, "invalid_request", "Parameter [assertion] is missed", "OAU-101"
		}
		if subtle.ConstantTimeCompare([]byte(a), []byte(s.opts.JWT)) != 1 {
			return nil, http.StatusBadRequest, "invalid_grant", "Token is invalid", "OAU-213"
		}
	case grantRefresh:
		old := s.rcRefresh[form.Get("refresh_token")]
		if old == nil || old.revoked || !now.Before(old.expires) {
			return nil, http.StatusBadRequest, "invalid_grant", "Token is revoked or expired", "OAU-211"
		}
		old.revoked = true
		if old.pair != nil {
			old.pair.revoked = true
		}
	case "":
		return nil, http.StatusBadRequest, "invalid_request", "Parameter [grant_type] is missed", "OAU-101"
	default:
		return nil, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type", "OAU-250"
	}
	access := &rcToken{expires: now.Add(s.opts.RCTokenTTL)}
	refresh := &rcToken{expires: now.Add(rcRefreshTokenLifetime), pair: access}
	access.pair = refresh
	at := s.newToken("U0pDMTFQMDFQQVMwMHxBQUFf", 64)
	rt := s.newToken("U0pDMTFQMDFQQVMwMHxSRUZf", 48)
	s.rcAccess[at], s.rcRefresh[rt] = access, refresh
	s.stats.Grants++
	d = doc{
		{"access_token", at},
		{"token_type", "bearer"},
		{"expires_in", int64(s.opts.RCTokenTTL / time.Second)},
		{"refresh_token", rt},
		{"refresh_token_expires_in", int64(rcRefreshTokenLifetime / time.Second)},
		{"scope", "ReadAccounts"},
		{"owner_id", "400131004"},
		{"endpoint_id", "fakeEndpointId-" + strconv.FormatUint(s.tokenSeq, 10)},
	}
	return d, http.StatusOK, "", "", ""
}

// handleRCRevoke serves POST /restapi/oauth/revoke (form token = access or refresh token).
func (s *Server) handleRCRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rcError(w, http.StatusMethodNotAllowed, "invalid_request", "Method not allowed", "CMN-405")
		return
	}
	if !s.checkBasic(w, r) {
		return
	}
	_ = r.ParseForm()
	tok := r.PostForm.Get("token")
	if tok == "" {
		rcError(w, http.StatusBadRequest, "invalid_request", "Parameter [token] is missed", "OAU-101")
		return
	}
	s.mu.Lock()
	t := s.rcAccess[tok]
	if t == nil {
		t = s.rcRefresh[tok]
	}
	if t != nil {
		t.revoked = true
		if t.pair != nil {
			t.pair.revoked = true
		}
	}
	s.stats.Revokes++
	s.mu.Unlock()
	// RingCentral answers 200 with an empty body, also for unknown tokens (RFC 7009).
	w.WriteHeader(http.StatusOK)
}

// formValue reads a parameter from the form body or, failing that, the query (Spring-style).
func formValue(r *http.Request, key string) string {
	_ = r.ParseForm()
	return r.Form.Get(key)
}

// handleExchange serves POST /api/auth/login/rc/accesstoken.
func (s *Server) handleExchange(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.engageError(w, r, http.StatusMethodNotAllowed, "Method Not Allowed", "use POST")
		return
	}
	if ok, wait := s.allowExchange(); !ok {
		if s.opts.RateLimitRetryAfter {
			w.Header().Set("Retry-After", strconv.Itoa(wait))
		}
		s.count(func(st *Stats) { st.RateLimited++ })
		s.engageError(w, r, http.StatusTooManyRequests, "Too Many Requests", "token exchange limit exceeded")
		return
	}
	tok, typ := formValue(r, "rcAccessToken"), formValue(r, "rcTokenType")
	if tok == "" {
		s.engageError(w, r, http.StatusBadRequest, "Bad Request", "Required parameter 'rcAccessToken' is not present")
		return
	}
	if typ != "Bearer" {
		s.engageError(w, r, http.StatusBadRequest, "Bad Request", "rcTokenType must be Bearer")
		return
	}
	s.mu.Lock()
	rc := s.rcAccess[tok]
	valid := rc != nil && !rc.revoked && s.opts.Now().Before(rc.expires)
	s.mu.Unlock()
	if !valid {
		s.count(func(st *Stats) { st.Unauthorized++ })
		s.engageError(w, r, http.StatusUnauthorized, "Unauthorized", "Invalid RingCentral access token")
		return
	}
	includeRefresh, _ := strconv.ParseBool(r.URL.Query().Get("includeRefresh"))
	s.writeTokenResponse(w, includeRefresh, func(st *Stats) { st.Exchanges++ })
}

// handleRefresh serves POST /api/auth/token/refresh: a new access token AND a new refresh
// token; the presented refresh token is used up. An unknown, used or expired refresh token gets
// 401 with a JSON Errors body whose generalMessage is "Invalid refresh token".
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.engageError(w, r, http.StatusMethodNotAllowed, "Method Not Allowed", "use POST")
		return
	}
	tok := formValue(r, "refresh_token")
	if tok == "" {
		s.engageError(w, r, http.StatusBadRequest, "Bad Request", "Required parameter 'refresh_token' is not present")
		return
	}
	if typ := formValue(r, "rcTokenType"); typ != "" && typ != "Bearer" {
		s.engageError(w, r, http.StatusBadRequest, "Bad Request", "rcTokenType must be Bearer")
		return
	}
	s.mu.Lock()
	rt := s.engRefresh[tok]
	valid := rt != nil && !rt.used && s.opts.Now().Before(rt.expires)
	if valid {
		rt.used = true
	}
	s.mu.Unlock()
	if !valid {
		s.count(func(st *Stats) { st.Unauthorized++ })
		s.engageError(w, r, http.StatusUnauthorized, "Invalid refresh token", "The refresh token is unknown or was already used")
		return
	}
	s.writeTokenResponse(w, true, func(st *Stats) { st.Refreshes++ })
}

// handleLogout serves DELETE /api/auth/logout/{refreshToken}: the refresh token is used up
// (an unknown one too: the answer is the same). 200, Content-Type text/plain, as EV-SPEC-ALL's
// logoutEngageAuthUser documents (docs/api.md, Authentication). The 200 body is empty: [I] assumption, no
// source shows one. Like Spring's content negotiation for an endpoint that produces text/plain,
// a request whose Accept header admits neither text/plain nor text/* nor */* gets 406 Not
// Acceptable (empty body), as the real server answers "Accept: application/json".
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, tok string) {
	if r.Method != http.MethodDelete {
		s.engageError(w, r, http.StatusMethodNotAllowed, "Method Not Allowed", "use DELETE")
		return
	}
	if !httpaccept.Admits(r.Header.Values("Accept"), "text/plain") {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusNotAcceptable)
		return
	}
	s.mu.Lock()
	if rt := s.engRefresh[tok]; rt != nil {
		rt.used = true
	}
	s.mu.Unlock()
	writeText(w, http.StatusOK, "")
}

// writeTokenResponse issues a token pair and writes the AccessTokenUserDetails object.
func (s *Server) writeTokenResponse(w http.ResponseWriter, includeRefresh bool, bump func(*Stats)) {
	s.tmu.RLock()
	mainID, adminID, details := s.tenant.loginIdentity()
	s.tmu.RUnlock()
	rcUser := doc{{"businessPhone", nil}, {"company", nil}, {"department", nil}, {"email", "admin@example.com"},
		{"emailAsLoginName", true}, {"firstName", "Fake"}, {"jobTitle", nil}, {"lastName", "Admin"}, {"mobilePhone", nil}}

	s.mu.Lock()
	now := s.opts.Now()
	s.engSerial++
	access := s.signJWT(now, s.engSerial, mainID, adminID)
	s.issued = append(s.issued, access)
	refresh := ""
	if includeRefresh {
		refresh = s.newToken("", 40)
		s.engRefresh[refresh] = &engRefresh{expires: now.Add(s.opts.RefreshTokenTTL)}
	}
	s.stats.TokensIssued++
	bump(&s.stats)
	s.mu.Unlock()

	d := doc{}
	if includeRefresh {
		d = append(d, field{"refreshToken", refresh})
	}
	if details == nil {
		details = []doc{}
	}
	d = append(d, doc{
		{"accessToken", access},
		{"tokenType", "Bearer"},
		{"mainAccountId", mainID},
		{"agentDetails", details},
		{"adminId", adminID},
		{"adminUrl", "/voice/admin/"},
		{"agentUrl", "/voice/agent/"},
		{"analyticsUrl", "/voice/analytics/"},
		{"iqUrl", nil},
		{"redirectUrl", nil},
		{"adminPasswordReset", false},
		{"isAdminPasswordReset", false},
		{"loginHashcode", nil},
		{"platformId", "fake"},
		{"port", 443},
		{"rcUser", rcUser},
		{"ssoLogin", true},
	}...)
	writeJSON(w, http.StatusOK, appendJSON(nil, d))
}

// loginIdentity returns what a login response says about the tenant: the first main account,
// the first admin user (as adminId) and, as agentDetails, the first agent of the first
// sub-account's first group (none if there is no such agent).
func (t *Tenant) loginIdentity() (mainID string, adminID int, details []doc) {
	if len(t.MainAccounts) > 0 {
		mainID = t.MainAccounts[0].ID
	}
	if len(t.Users) > 0 {
		adminID = t.Users[0].ID
	}
	if len(t.SubAccounts) == 0 || len(t.SubAccounts[0].Groups) == 0 || len(t.SubAccounts[0].Groups[0].Agents) == 0 {
		return mainID, adminID, nil
	}
	sa := t.SubAccounts[0]
	a := t.agentDoc(sa.Groups[0].Agents[0])
	accName, _ := t.subDoc(sa).get("accountName")
	det := doc{{"accountId", sa.ID}, {"accountName", accName}}
	for _, k := range []string{"agentId", "firstName", "lastName", "email", "username", "agentType", "rcUserId",
		"agentRank", "allowLoginControl", "allowLoginUpdates", "altDefaultLoginDest", "directAgentExtension",
		"enableSoftphone", "externalAgentId", "ghostRnaAction", "initLoginBaseState", "location",
		"manualOutboundDefaultCallerId", "maxChats", "team"} {
		v, _ := a.get(k)
		det = append(det, field{k, v})
	}
	det = append(det, field{"agentGroupId", nil})
	return mainID, adminID, []doc{det}
}

// jwtClaims are the claims of an Engage access token.
type jwtClaims struct {
	Iss           string `json:"iss"`
	Sub           string `json:"sub"`
	MainAccountID string `json:"mainAccountId"`
	Iat           int64  `json:"iat"`
	Exp           int64  `json:"exp"`
	Jti           string `json:"jti"`
}

var b64 = base64.RawURLEncoding

// signJWT returns an HS256 JWT. Call with s.mu held.
func (s *Server) signJWT(now time.Time, serial int64, mainID string, adminID int) string {
	head := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload, _ := json.Marshal(jwtClaims{
		Iss: "engagefake", Sub: strconv.Itoa(adminID), MainAccountID: mainID,
		Iat: now.Unix(), Exp: now.Add(s.opts.TokenTTL).Unix(), Jti: strconv.FormatInt(serial, 10),
	})
	unsigned := head + "." + b64.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(unsigned))
	return unsigned + "." + b64.EncodeToString(mac.Sum(nil))
}

// authorize checks the Engage bearer token; on failure it writes a 401 and returns false.
// An expired token gets text/plain "Jwt is expired" ("JWT is expired." on the integration
// reporting paths: expiredText); a missing or invalid one gets text/plain "Full
// authentication is required to access this resource" (no word "expired"; [I] on the
// reporting paths too, whose examples show only the expired text).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	fail := func(msg string) bool {
		s.count(func(st *Stats) { st.Unauthorized++ })
		writeText(w, http.StatusUnauthorized, msg)
		return false
	}
	const noAuth = "Full authentication is required to access this resource"
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return fail(noAuth)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fail(noAuth)
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return fail(noAuth)
	}
	raw, err := b64.DecodeString(parts[1])
	var c jwtClaims
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return fail(noAuth)
	}
	serial, _ := strconv.ParseInt(c.Jti, 10, 64)
	s.mu.Lock()
	expired := serial <= s.expiredUpTo || !s.opts.Now().Before(time.Unix(c.Exp, 0))
	s.mu.Unlock()
	if expired {
		return fail(expiredText(r.URL.Path))
	}
	return true
}

// expiredText is the text/plain body of a 401 for an expired token: "JWT is expired." on the
// integration reporting paths (the spec's 401 example of those four operations), "Jwt is
// expired" elsewhere (the admin operations' example). Both are served as the spec shows them;
// the client replays on any 401, whatever its body.
func expiredText(path string) string {
	if strings.HasPrefix(path, reportingPrefix) {
		return "JWT is expired."
	}
	return "Jwt is expired"
}
