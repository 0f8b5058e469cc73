package config

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// readSecrets reads the secret files of rc whose secret is not set yet (a variable wins over
// its file); prefix is the key prefix of rc's section in errors ("" or "tenants[2].").
func readSecrets(rc *RingCentral, prefix string) []error {
	var errs []error
	for _, s := range []struct {
		key, file string
		dst       *string
	}{
		{"ringcentral.client_secret_file", rc.ClientSecretFile, &rc.ClientSecret},
		{"ringcentral.jwt_file", rc.JWTFile, &rc.JWT},
	} {
		if *s.dst != "" || s.file == "" {
			continue
		}
		v, err := readSecretFile(s.file)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %s%s: %w", prefix, s.key, err))
			continue
		}
		*s.dst = v
	}
	return errs
}

// readSecretFile returns the trimmed content of a secret file. Its errors name the file,
// never the content.
func readSecretFile(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("reading secret file %q: %w", name, pathErrCause(err))
	}
	defer func() { _ = f.Close() }() // read only: a close error loses nothing
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	if err != nil {
		return "", fmt.Errorf("reading secret file %q: %w", name, pathErrCause(err))
	}
	if len(data) > maxSecretFileSize {
		return "", fmt.Errorf("secret file %q is larger than %d bytes", name, maxSecretFileSize)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", fmt.Errorf("secret file %q is empty", name)
	}
	return v, nil
}

// inlineSecrets are keys that would put a secret in the YAML, with where it belongs instead.
var inlineSecrets = map[string]string{
	"ringcentral.client_secret": "set EVSYNC_RC_CLIENT_SECRET or ringcentral.client_secret_file instead",
	"ringcentral.jwt":           "set EVSYNC_RC_JWT or ringcentral.jwt_file instead",
}

// tenantInlineSecrets are inlineSecrets' hints for a tenant's entry.
var tenantInlineSecrets = map[string]string{
	"ringcentral.client_secret": "set EVSYNC_TENANT_<NAME>_RC_CLIENT_SECRET or the tenant's ringcentral.client_secret_file instead",
	"ringcentral.jwt":           "set EVSYNC_TENANT_<NAME>_RC_JWT or the tenant's ringcentral.jwt_file instead",
}

// maxSecretFileSize bounds what a secret file may hold; a JWT is a few KiB.
const maxSecretFileSize = 1 << 20
