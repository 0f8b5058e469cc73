package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Environment variables that override the file (docs/configuration.md, "Environment variables").
const (
	EnvDatabaseURL    = "EVSYNC_DATABASE_URL"
	EnvRCServerURL    = "EVSYNC_RC_SERVER_URL"
	EnvRCClientID     = "EVSYNC_RC_CLIENT_ID"
	EnvRCClientSecret = "EVSYNC_RC_CLIENT_SECRET"
	EnvRCJWT          = "EVSYNC_RC_JWT"
	EnvEngageURL      = "EVSYNC_ENGAGE_SERVER_URL"
)

// Load builds the effective configuration: defaults, then the YAML file at path (none
// when path is ""), then the EVSYNC_* variables read through getenv (an empty value counts as
// unset), then the tenants (each on a copy of the top level) and the secret files. It does not
// Validate: call Validate (and, for commands that talk to RingCentral, RequireCredentials) on
// the result. Each error is one line naming the key; several are joined with newlines.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	d := &configDecoder{file: path, set: map[string]bool{}}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: reading %s: %w", path, pathErrCause(err))
		}
		if err := d.decodeDocument(data, &c); err != nil {
			return c, err
		}
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	multi := d.tenants != nil
	var errs []error
	for _, o := range []struct {
		env    string
		dst    *string
		single string // with a tenants list the variable is ambiguous: what to set instead
	}{
		{EnvDatabaseURL, &c.Database.URL, ""},
		{EnvRCServerURL, &c.RingCentral.ServerURL, ""},
		{EnvRCClientID, &c.RingCentral.ClientID, "ringcentral.client_id (for every tenant) or tenants[I].ringcentral.client_id"},
		{EnvRCClientSecret, &c.RingCentral.ClientSecret, "EVSYNC_TENANT_<NAME>_RC_CLIENT_SECRET or a client_secret_file"},
		{EnvRCJWT, &c.RingCentral.JWT, "EVSYNC_TENANT_<NAME>_RC_JWT or tenants[I].ringcentral.jwt_file"},
		{EnvEngageURL, &c.Engage.ServerURL, ""},
	} {
		v := strings.TrimSpace(getenv(o.env))
		switch {
		case v == "":
		case multi && o.single != "":
			errs = append(errs, fmt.Errorf("config: %s: is ambiguous with a tenants list; set %s instead", o.env, o.single))
		default:
			*o.dst = v
		}
	}
	if multi {
		errs = append(errs, d.decodeTenants(&c, getenv)...)
		return c, errors.Join(errs...)
	}
	errs = append(errs, readSecrets(&c.RingCentral, "")...)
	return c, errors.Join(errs...)
}

// pathErrCause is the cause of a file error without the operation and path that
// *fs.PathError adds ("read dir.yaml: is a directory" → "is a directory"): the caller names
// the file itself.
func pathErrCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
