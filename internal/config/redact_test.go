package config_test

import (
	"net/url"
	"testing"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/testing/fixture/configtest"
)

// redactURL masks the query parameters that the secret rule (internal/secretjson, the one
// rule) names, besides any that holds password, secret or token (issue 21, item 4: pin, jwt,
// api_key, passphrase and authorization went through).
func TestRedactURLQuery(t *testing.T) {
	t.Parallel()
	in := "postgres://evsync:" + configtest.Password + "@db:5432/evsync?sslpassword=a1&api_key=b2&pin=c3&jwt=d4&passphrase=e5" +
		"&authorization=f6&token2=g7&application_name=evsync&sslmode=require"
	u, err := url.Parse(config.RedactURL(in))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for _, k := range []string{"sslpassword", "api_key", "pin", "jwt", "passphrase", "authorization", "token2"} {
		if q.Get(k) != "****" {
			t.Errorf("%s = %q, want it masked", k, q.Get(k))
		}
	}
	if q.Get("application_name") != "evsync" || q.Get("sslmode") != "require" {
		t.Errorf("other parameters changed: %v", q)
	}
	if p, _ := u.User.Password(); p != "****" {
		t.Errorf("password %q, want it masked", p)
	}
}
