package sync_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	syncrun "github.com/evsync/evsync/sync"
)

// The secret-bearing members of docs/schema.md's rule never reach raw, whatever their spelling or
// depth; the look-alikes it keeps stay.
func TestRunRawKeepsNoSecretBearingKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 29})
	id := e.fake.AgentIDs(e.fake.AgentGroupIDs(e.fake.SubAccountIDs()[0])[0])[0]
	for k, v := range map[string]any{
		"apiKey":          "k-0123456789",
		"sipPass":         "sip-0123456789",
		"privateKey":      "-----BEGIN PRIVATE KEY-----",
		"accessTokens":    []string{"tok-a", "tok-b"},
		"credentials":     json.RawMessage(`{"user":"u","secretish":"c-0123456789"}`),
		"SIPPassword":     "sp-0123456789",
		"allowManualPass": true,
		"campaignPass":    3,
		// Issue 21: trailing digits, versions and encodings dropped, and the words added.
		"password1":              "p1-0123456789",
		"sipPassword2":           "sp2-0123456789",
		"apiKey2":                "k2-0123456789",
		"token1":                 "t1-0123456789",
		"refreshToken2":          "rt2-0123456789",
		"passwordEncrypted":      "pe-0123456789",
		"passphrase":             "pp-0123456789",
		"privateKeyPem":          "-----BEGIN PEM-----",
		"jwt":                    "eyJ-0123456789",
		"authorization":          "Bearer 0123456789",
		"apiKeyV2":               "kv2-0123456789",
		"phoneRecordingPin":      790000001,
		"passwordExpirationDate": "2030-01-01",
	} {
		if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(id, k, v) }); err != nil {
			t.Fatal(err)
		}
	}
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	var raw []byte
	if err := e.pool.QueryRow(t.Context(), "SELECT raw FROM engage.agents WHERE agent_id = $1", id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, k := range []string{"apiKey", "sipPass", "privateKey", "accessTokens", "credentials", "SIPPassword",
		"password", "sipPassword", "phoneLoginPin", "allowManualPass", "campaignPass", "password1", "sipPassword2",
		"apiKey2", "token1", "refreshToken2", "passwordEncrypted", "passphrase", "privateKeyPem", "jwt", "authorization",
		"apiKeyV2", "phoneRecordingPin", "passwordExpirationDate"} {
		if v, ok := obj[k]; ok {
			got[k] = v
		}
	}
	want := map[string]any{"allowManualPass": true, "campaignPass": float64(3), "passwordExpirationDate": "2030-01-01"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("raw's secret-bearing and look-alike keys (-want +got):\n%s", diff)
	}
}

// A token endpoint that echoes the request (the JWT assertion, the Basic credentials) in a
// text/plain error gets none of it into sync_runs.error, in any encoding.
func TestRunErrorKeepsNoEchoedCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 31})
	e.fake.SetFault(engagefake.EndpointRCToken, engagefake.Fault{Status: 400, Echo: true})
	res, err := e.run(t.Context(), syncrun.Config{})
	if err == nil || res == nil || res.Status != db.RunFailed {
		t.Fatalf("Run = %+v, %v; want a failed run", res, err)
	}
	var stored string
	if err := e.pool.QueryRow(t.Context(), "SELECT coalesce(error, '') FROM engage.sync_runs WHERE run_id = $1", res.RunID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stored, "[REDACTED]") {
		t.Errorf("sync_runs.error = %q, want the echo shown redacted", stored)
	}
	o := e.fake.Options()
	basic := []byte(o.ClientID + ":" + o.ClientSecret)
	for _, s := range []string{o.JWT, url.QueryEscape(o.JWT), o.JWT[:16], o.ClientSecret,
		base64.StdEncoding.EncodeToString(basic)} {
		for _, text := range []string{stored, res.Error, err.Error()} {
			if strings.Contains(text, s) {
				t.Errorf("run error keeps a credential (%d chars): %.200s", len(s), text)
			}
		}
	}
}
