package db

import "github.com/evsync/evsync/internal/secretjson"

// ScrubRaw returns raw without its secret-bearing keys, at any depth of objects and arrays,
// compacted. A key is secret-bearing when, ignoring case, it is or ends with password, pwd,
// secret, token, pin or securityKey (so phoneLoginPin goes and allowManualPass stays). Empty
// input is returned as "{}"; invalid JSON is an error that does not quote the input.
func ScrubRaw(raw []byte) ([]byte, error) { return secretjson.Scrub(raw) }
