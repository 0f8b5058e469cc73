package engageclient

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// redactMark replaces what redact removes.
const redactMark = "[REDACTED]"

// Bounds of redaction: a secret shorter than minSecretLen is not looked for (it would match
// ordinary text); a secret cut short (by the server, a proxy or a truncation) is still
// redacted when at least minSecretPart bytes of its start are there.
const (
	minSecretLen  = 4
	minSecretPart = 8
)

// Credentials redacted by their shape, whether the client knows them or not: the value of an
// Authorization header (Bearer or Basic), a JWT (or the start of one: its header is base64url
// JSON, "eyJ"), and the value of a form or query parameter that carries a credential.
var (
	authHeaderRE  = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{16,}`)
	jwtRE         = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}`)
	secretParamRE = regexp.MustCompile(`(?i)\b(assertion|client_secret|refresh_token|access_token|id_token|rcAccessToken|token|password)=[^&\s"',;]+`)
)

// redact removes from s every secret the client knows (client secret, JWT, current and past
// tokens) in every form a server or proxy may echo it (secretForms), cut short or whole, then
// any credential recognised by its shape. Redact before truncating: a truncation can cut a
// secret so that only its start is left.
func (w *wire) redact(s string) string {
	if s == "" {
		return s
	}
	s = redactForms(s, w.secretForms())
	s = authHeaderRE.ReplaceAllString(s, "${1}${2}"+redactMark)
	s = jwtRE.ReplaceAllLiteralString(s, redactMark)
	return secretParamRE.ReplaceAllString(s, "${1}="+redactMark)
}

// secretForms lists each secret the client knows as sent, query-escaped (form bodies),
// path-escaped (the logout path) and JSON-escaped (a JSON echo), plus base64 (standard and URL
// alphabets) of clientID:clientSecret, the credentials of the Basic header.
func (w *wire) secretForms() []string {
	var out []string
	for _, s := range w.knownSecrets() {
		if len(s) < minSecretLen {
			continue
		}
		js, _ := json.Marshal(s)
		out = append(out, s, url.QueryEscape(s), url.PathEscape(s), string(js[1:len(js)-1]))
	}
	basic := []byte(w.cfg.ClientID + ":" + w.cfg.ClientSecret)
	return append(out, base64.StdEncoding.EncodeToString(basic), base64.URLEncoding.EncodeToString(basic))
}

// knownSecrets lists the configured credentials and every token the token source holds or
// held during the client's life.
func (w *wire) knownSecrets() []string {
	out := []string{w.cfg.ClientSecret, w.cfg.JWT}
	return append(out, w.tokensFunc()...)
}

// redactForms replaces, scanning s once, the longest match at each position among forms: a
// whole form, or at least minSecretPart bytes of its start (the rest cut off). One scan over
// all forms, rather than one replacement per form, keeps a form that shares its start with
// another (two JWTs share their header) from hiding the other's match.
func redactForms(s string, forms []string) string {
	var byFirst [256][]string
	for _, f := range forms {
		if f != "" {
			byFirst[f[0]] = append(byFirst[f[0]], f)
		}
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		n := 0
		for _, f := range byFirst[s[i]] {
			n = max(n, secretMatch(s[i:], f))
		}
		if n == 0 {
			i++
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(redactMark)
		i += n
		last = i
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// secretMatch returns how many bytes at the start of s are the secret form f: all of f, or at
// least minSecretPart bytes of its start; 0 otherwise.
func secretMatch(s, f string) int {
	n := 0
	for n < len(s) && n < len(f) && s[n] == f[n] {
		n++
	}
	if n == len(f) || n >= minSecretPart {
		return n
	}
	return 0
}

// redactErr returns err unchanged when its text carries no secret, else a plain error with
// the secrets redacted. The items of an *ItemsError (decodeList returns one as it is) are
// redacted one by one, so that it stays an *ItemsError.
func (w *wire) redactErr(err error) error {
	var ie *ItemsError
	if errors.As(err, &ie) {
		for i := range ie.Items {
			ie.Items[i].Err = w.redactErr(ie.Items[i].Err)
		}
		return ie
	}
	if msg := err.Error(); w.redact(msg) != msg {
		return errors.New(w.redact(msg))
	}
	return err
}
