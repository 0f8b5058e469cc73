package secretjson

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"secret keys at any depth", `{"a":1,"password":"x","n":{"sipPassword":"y","l":[{"phoneLoginPin":"1","allowManualPass":true}]}}`,
			`{"a":1,"n":{"l":[{"allowManualPass":true}]}}`},
		// Every example of the rule in docs/schema.md ("Secret-bearing keys").
		{"documented examples", `{"phoneLoginPin":"1234","phoneRecordingPin":790000001,"sipPass":"s3cret","apiKey":"k-1",` +
			`"accessTokens":["t1","t2"],"credentials":{"user":"u","id":7},"allowManualPass":true,"campaignPass":3,"name":"n"}`,
			`{"allowManualPass":true,"campaignPass":3,"name":"n"}`},
		{"whole credentials object at depth", `{"x":[{"credentials":{"apiKey":"k","nested":[1,{"a":"b"}]},"keep":null}]}`,
			`{"x":[{"keep":null}]}`},
		{"privateKey and friends", `{"privateKey":"-----BEGIN","private_key":"p","SIPPassword":"s","APIKey":"a","secret_key":"s","accessKey":"a","pinCode":"1","securityKey":"k"}`,
			`{}`},
		{"pass only for strings", `{"sipPass":"x","campaignPass":3,"dialPass":null,"otherPass":{"a":1},"skipPass":[1]}`,
			`{"campaignPass":3,"dialPass":null,"otherPass":{"a":1},"skipPass":[1]}`},
		{"booleans never secret", `{"password":true,"hasApiKey":false,"apiKey":false,"token":true}`,
			`{"password":true,"hasApiKey":false,"apiKey":false,"token":true}`},
		{"look-alikes kept", `{"tokenType":"Bearer","pinned":1,"spinach":"x","bypass":"y","adminPasswordReset":false,"billingKey":"b","enableCallbacksAfterMaxpass":true,"key":"k"}`,
			`{"tokenType":"Bearer","pinned":1,"spinach":"x","bypass":"y","adminPasswordReset":false,"billingKey":"b","enableCallbacksAfterMaxpass":true,"key":"k"}`},
		{"escaped secret key", `{"api\u004bey":"k","a":1}`, `{"a":1}`},
		// Every example the rule names, both ways.
		{"documented examples, trailing words", `{"password1":"a","sipPassword2":"b","apiKey2":"c","token1":"d","refreshToken2":"e",` +
			`"passwordEncrypted":"f","passphrase":"g","privateKeyPem":"h","jwt":"i","authorization":"j","apiKeyV2":"k",` +
			`"accessTokens":["l"],"credentials":{"m":1},"phoneRecordingPin":2,"sipPass":"n",` +
			`"allowManualPass":true,"campaignPass":3,"passwordExpirationDate":"2020-01-01"}`,
			`{"allowManualPass":true,"campaignPass":3,"passwordExpirationDate":"2020-01-01"}`},
		{"order and values kept", `{ "z" : "Zoë", "b" : [1, 2.5e3, null] }`, `{"z":"Zoë","b":[1,2.5e3,null]}`},
		{"NUL escape replaced", `{"name":"a\u0000b"}`, `{"name":"a\ufffdb"}`},
		{"escaped backslash before u0000 kept", `{"name":"a\\u0000b"}`, `{"name":"a\\u0000b"}`},
		{"NUL after other escapes", `{"name":"\"\\\u0000"}`, `{"name":"\"\\\ufffd"}`},
		{"invalid UTF-8 repaired", "{\"name\":\"a\xffb\xc3\"}", `{"name":"a�b�"}`},
		{"lone high surrogate repaired", `{"name":"a\ud800b"}`, `{"name":"a\ufffdb"}`},
		{"high surrogate at the end repaired", `{"name":"\uD800"}`, `{"name":"\ufffd"}`},
		{"lone low surrogate repaired", `{"name":"\udc00"}`, `{"name":"\ufffd"}`},
		{"two high surrogates repaired", `{"name":"\ud800\ud800\udc00"}`, `{"name":"\ufffd\ud800\udc00"}`},
		{"surrogate pair kept", `{"name":"\ud83d\ude00"}`, `{"name":"\ud83d\ude00"}`},
		{"escaped backslash before ud800 kept", `{"name":"\\ud800"}`, `{"name":"\\ud800"}`},
		{"other escapes kept", `{"name":"\u00e9\n"}`, `{"name":"\u00e9\n"}`},
		{"empty", ``, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Scrub([]byte(tt.in))
			if err != nil {
				t.Fatalf("Scrub: %v", err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Scrub(%s) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	if _, err := Scrub([]byte(`{"a":`)); err == nil {
		t.Error("Scrub of invalid JSON gave no error")
	}
	deep := func(n int) []byte {
		return []byte(`{"a":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`)
	}
	if _, err := Scrub(deep(MaxDepth)); err != nil {
		t.Errorf("Scrub of %d nested containers: %v", MaxDepth, err)
	}
	if _, err := Scrub(deep(MaxDepth + 2)); err == nil {
		t.Errorf("Scrub of %d nested containers gave no error", MaxDepth+2)
	}
}

// TestIsSecret covers the rule of docs/schema.md word by word: the last word (or last two words) of
// the key split into words (camelCase, snake_case, kebab-case, acronyms), ignoring case; a
// boolean value is never a secret; pass only for a string value.
func TestIsSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, value string
		want       bool
	}{
		// docs/schema.md's examples.
		{"phoneLoginPin", `"1234"`, true},
		{"phoneRecordingPin", `790000001`, true},
		{"sipPass", `"s3cret"`, true},
		{"apiKey", `"k"`, true},
		{"accessTokens", `["a","b"]`, true},
		{"credentials", `{"user":"u"}`, true},
		{"allowManualPass", `true`, false},
		{"campaignPass", `3`, false},
		// The named fields.
		{"password", `"x"`, true},
		{"sipPassword", `"x"`, true},
		{"crmPwd", `"x"`, true},
		{"ftpPwd", `"x"`, true},
		{"securityKey", `"x"`, true},
		// Every last word.
		{"passwd", `"x"`, true},
		{"clientSecret", `"x"`, true},
		{"refresh_token", `"x"`, true},
		{"X-Auth-Token", `"x"`, true},
		{"tokens", `[]`, true},
		{"PIN", `1234`, true},
		{"userPIN", `"1"`, true},
		{"credential", `"x"`, true},
		// Every last two words, in each spelling.
		{"APIKey", `"x"`, true},
		{"api_key", `"x"`, true},
		{"api-key", `"x"`, true},
		{"privateKey", `"x"`, true},
		{"PRIVATE_KEY", `"x"`, true},
		{"security_key", `"x"`, true},
		{"awsAccessKey", `"x"`, true},
		{"secretKey", `"x"`, true},
		{"pinCode", `"1"`, true},
		{"PINCode", `"1"`, true},
		{"SIPPassword", `"x"`, true},
		// pass names a secret only for a string value.
		{"sipPass", `3`, false},
		{"sipPass", `null`, false},
		{"sipPass", `{"a":1}`, false},
		{"campaignPass", `"x"`, true},
		// A boolean is never a secret.
		{"password", `true`, false},
		{"apiKey", `false`, false},
		{"credentials", `true`, false},
		// Not the last word, or not a word of its own.
		{"tokenType", `"Bearer"`, false},
		{"adminPasswordReset", `false`, false},
		{"pinned", `1`, false},
		{"spinach", `"x"`, false},
		{"bypass", `"x"`, false},
		{"enableCallbacksAfterMaxpass", `true`, false},
		{"billingKey", `"x"`, false},
		{"key", `"x"`, false},
		{"keyPin", `"x"`, true},
		{"pinKey", `"x"`, false},
		{"name", `"x"`, false},
		{"", `"x"`, false},
		// docs/schema.md's examples of the trailing words dropped and the words added.
		{"password1", `"x"`, true},
		{"sipPassword2", `"x"`, true},
		{"apiKey2", `"x"`, true},
		{"token1", `"x"`, true},
		{"refreshToken2", `"x"`, true},
		{"passwordEncrypted", `"x"`, true},
		{"passphrase", `"x"`, true},
		{"privateKeyPem", `"x"`, true},
		{"jwt", `"x"`, true},
		{"authorization", `"Bearer x"`, true},
		{"apiKeyV2", `"x"`, true},
		{"credentials", `{"apiKey":"k"}`, true},
		// Every trailing word dropped, in each spelling, and several of them.
		{"api_key_v2", `"x"`, true},
		{"API_KEY_V2", `"x"`, true},
		{"secret-v10", `"x"`, true},
		{"oldPassword", `"x"`, true},
		{"passwordOld", `"x"`, true},
		{"password_new", `"x"`, true},
		{"tokenEnc", `"x"`, true},
		{"pinHash", `"x"`, true},
		{"passwordHashed", `"x"`, true},
		{"privateKeyPEM", `"x"`, true},
		{"secretValue", `"x"`, true},
		{"tokenValueV2Old", `"x"`, true},
		{"sipPass2", `"x"`, true},
		{"sipPass2", `2`, false},
		{"userJWT", `"x"`, true},
		{"Authorization", `"x"`, true},
		{"proxyAuthorization", `"x"`, true},
		{"pinCode2", `"1"`, true},
		{"password2", `false`, false},
		// The dropped words alone, or before a word that is no secret, are no secret.
		{"value", `"x"`, false},
		{"hash", `"x"`, false},
		{"v2", `"x"`, false},
		{"123", `"x"`, false},
		{"passwordExpirationDate", `"2020-01-01"`, false},
		{"passwordV", `"x"`, false},
		{"tokenVersion", `"x"`, false},
		{"hashValue", `"x"`, false},
		{"loginHashcode", `"x"`, false},
		{"maxPasses", `3`, false},
		{"phoneNumberE164", `"x"`, false},
		{"enablePhoneNumbersI18n", `true`, false},
		{"passwordEncryptedAt", `"x"`, false},
		{"keyV2", `"x"`, false},
		{"authorizationType", `"x"`, false},
	}
	for _, tt := range tests {
		if got := IsSecret(tt.key, []byte(tt.value)); got != tt.want {
			t.Errorf("IsSecret(%q, %s) = %v, want %v", tt.key, tt.value, got, tt.want)
		}
	}
}

// IsSecretKey is the rule for a string value.
func TestIsSecretKey(t *testing.T) {
	t.Parallel()
	got := map[string]bool{}
	want := map[string]bool{
		"password": true, "sipPass": true, "apiKey": true, "accessTokens": true, "credentials": true,
		"SIPPassword": true, "APIKey": true, "allowManualPass": true, "campaignPass": true,
		"tokenType": false, "pinned": false, "key": false, "name": false,
		"password1": true, "apiKeyV2": true, "privateKeyPem": true, "jwt": true, "passphrase": true,
		"passwordExpirationDate": false,
	}
	for k := range want {
		got[k] = IsSecretKey(k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IsSecretKey (-want +got):\n%s", diff)
	}
}

// IsSecretParam is the rule for a string value and any name holding password, secret or token.
func TestIsSecretParam(t *testing.T) {
	t.Parallel()
	got := map[string]bool{}
	want := map[string]bool{
		"sslpassword": true, "api_key": true, "pin": true, "jwt": true, "passphrase": true, "authorization": true,
		"token2": true, "password": true, "client_secret": true, "tokenType": true, "passwordExpirationDate": true,
		"application_name": false, "sslmode": false, "sslkey": false, "pinned": false, "key": false,
	}
	for k := range want {
		got[k] = IsSecretParam(k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IsSecretParam (-want +got):\n%s", diff)
	}
}

// BenchmarkScrub scrubs an agent-sized object (Scrub runs on every row's raw).
func BenchmarkScrub(b *testing.B) {
	in := []byte(benchObject)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Scrub(in); err != nil {
			b.Fatal(err)
		}
	}
}

// benchObject is an agent-sized object.
const benchObject = `{"agentId":1001,"agentGroupId":12,"firstName":"Ann","lastName":"Lee","username":"ann.lee@example.com",` +
	`"password":"p","sipPassword":"s","phoneLoginPin":"1234","allowManualPass":true,"agentType":"AGENT","isActive":true,` +
	`"gateAssignments":[1,2,3],"dialGroupAssignments":[4],"rcUserId":4001,"createdOn":"2020-05-18T19:22:12.000+0000",` +
	`"lastLoginDate":null,"externalAgentId":"x-1","location":"Denver","team":"A","manualOutboundDefaultCallerId":"3035550100"}`
