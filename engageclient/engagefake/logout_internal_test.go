package engagefake

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// A refresh token holding "/", "%" or a space, escaped once in the logout path, is one segment
// and is the token that gets used up.
func TestLogoutEscapedToken(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	toks := []string{"a/b", "a%2Fb", "50% off", "..", "x y/z%"}
	for _, tok := range toks {
		s.engRefresh[tok] = &engRefresh{expires: time.Now().Add(time.Hour)}
	}
	for i, tok := range toks {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodDelete, "/api/auth/logout/"+url.PathEscape(tok), nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Errorf("logout %q: %d %s", tok, w.Code, w.Body)
		}
		for j, other := range toks {
			if got, want := s.engRefresh[other].used, j <= i; got != want {
				t.Errorf("after logging out %q: token %q used = %v, want %v", tok, other, got, want)
			}
		}
	}
}
