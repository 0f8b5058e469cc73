package secretjson

import (
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"secret keys at any depth", `{"a":1,"password":"x","n":{"sipPassword":"y","l":[{"phoneLoginPin":"1","allowManualPass":true}]}}`,
			`{"a":1,"n":{"l":[{"allowManualPass":true}]}}`},
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
			if string(got) != tt.want {
				t.Errorf("Scrub(%s) = %s, want %s", tt.in, got, tt.want)
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

func TestIsSecretKey(t *testing.T) {
	t.Parallel()
	for k, want := range map[string]bool{
		"password": true, "sipPassword": true, "phoneLoginPin": true, "phoneRecordingPin": true, "crmPwd": true,
		"SECURITYKEY": true, "accessToken": true, "clientSecret": true,
		"allowManualPass": false, "pinned": false, "tokens": false, "username": false,
	} {
		if got := IsSecretKey(k); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", k, got, want)
		}
	}
}
