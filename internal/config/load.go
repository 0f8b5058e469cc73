package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Load builds the effective configuration: defaults, then the YAML file at path (none when
// path is ""), then the EVSYNC_* variables of environ (os.Environ's form; an empty value counts
// as unset; EnvVars lists them), then the tenants (each on a copy of the top level) and the
// secret files. An EVSYNC_* variable that is not one of them is an error, with the nearest
// valid name. It does not Validate: call Validate (and, for commands that talk to RingCentral,
// RequireCredentials) on the result. Each error is one line naming the key or the variable;
// several are joined with newlines.
func Load(path string, environ []string) (Config, error) {
	c := Default()
	c.Given = keySet{}
	d := &configDecoder{file: path, set: map[string]bool{}, given: c.Given}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: reading %s: %w", path, pathErrCause(err))
		}
		if err := d.decodeDocument(data, &c); err != nil {
			return c, err
		}
	}
	env := configEnv(environ)
	multi := d.tenants != nil
	errs := overlayEnv(&c, env, multi)
	if multi {
		errs = append(errs, d.decodeTenants(&c, env)...)
	} else {
		errs = append(errs, readSecrets(&c.RingCentral, "")...)
	}
	errs = append(unknownEnv(env, c.TenantList), errs...)
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
