package secretjson

import "testing"

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
