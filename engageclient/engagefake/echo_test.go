package engagefake_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// An Echo fault answers its Status with the request echoed back, credentials included (the
// client's redaction is tested against it).
func TestFaultEcho(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		endpoint string
		send     func(t *testing.T, s *engagefake.Server, base string) response
		want     []string
	}{
		{
			name: "grant form and Basic header", endpoint: engagefake.EndpointRCToken,
			send: func(t *testing.T, _ *engagefake.Server, base string) response {
				form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {engagefake.JWTDefault}}
				return postForm(t, base+"/restapi/oauth/token", form, engagefake.ClientIDDefault, engagefake.ClientSecretDefault)
			},
			want: []string{"POST /restapi/oauth/token", "Authorization: Basic ", "assertion=" + engagefake.JWTDefault},
		},
		{
			name: "admin bearer header", endpoint: engagefake.EndpointAccounts,
			send: func(t *testing.T, _ *engagefake.Server, base string) response {
				return get(t, base+accountsPath, "tok-123")
			},
			want: []string{"GET " + accountsPath, "Authorization: Bearer tok-123"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, base := start(t, engagefake.Options{})
			s.SetFault(tt.endpoint, engagefake.Fault{Status: 400, Echo: true, Times: 1})
			r := tt.send(t, s, base)
			if r.status != 400 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
				t.Fatalf("got %d %q, want 400 text/plain", r.status, r.header.Get("Content-Type"))
			}
			for _, w := range tt.want {
				if !strings.Contains(string(r.body), w) {
					t.Errorf("body %q lacks %q", r.body, w)
				}
			}
		})
	}
}
