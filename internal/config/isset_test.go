package config_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// IsSet tells a key the file or the environment gave a value, even its default's, from one
// left at its default: a null in the file, a blank variable and a tenant's entry give none.
func TestIsSet(t *testing.T) {
	t.Parallel()
	def := config.Default().Database.URL
	tests := []struct {
		name  string
		file  string // "" = no file
		env   map[string]string
		key   string
		isSet bool
	}{
		{"defaults", "", nil, "database.url", false},
		{"file sets the default", "database:\n  url: " + def + "\n", nil, "database.url", true},
		{"file sets another key", "database:\n  schema: other\n", nil, "database.url", false},
		{"file null", "database:\n  url:\n", nil, "database.url", false},
		{"variable", "", map[string]string{config.EnvDatabaseURL: def}, "database.url", true},
		{"blank variable", "", map[string]string{config.EnvDatabaseURL: " "}, "database.url", false},
		{"variable of another key", "", map[string]string{"EVSYNC_DATABASE_SCHEMA": "other"}, "database.schema", true},
		{"a tenant's key", "tenants:\n  - name: a\n    ringcentral:\n      client_id: x\n", nil, "ringcentral.client_id", false},
		{"a top-level key with tenants", "ringcentral:\n  client_id: x\ntenants:\n  - name: a\n", nil, "ringcentral.client_id", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := ""
			if tt.file != "" {
				path = fixture.WriteFile(t, "c.yaml", tt.file)
			}
			c, err := config.Load(path, fixture.Env(tt.env))
			if err != nil {
				t.Fatalf("config.Load: %v", err)
			}
			if got := c.IsSet(tt.key); got != tt.isSet {
				t.Errorf("IsSet(%q) = %v, want %v", tt.key, got, tt.isSet)
			}
		})
	}
}

// Which keys were set is no part of the output.
func TestIsSetNotInOutput(t *testing.T) {
	t.Parallel()
	c, err := config.Load(fixture.WriteFile(t, "c.yaml", "database:\n  schema: other\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := config.Default()
	d.Database.Schema = "other"
	if got, want := c.Masked(), d.Masked(); got != want {
		t.Errorf("Masked() = %q, want %q as without IsSet", got, want)
	}
	got, err := json.Marshal(c.MaskedJSON())
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(d.MaskedJSON())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) || strings.Contains(strings.ToLower(string(got)), "given") {
		t.Errorf("MaskedJSON() = %s, want %s as without IsSet", got, want)
	}
}
