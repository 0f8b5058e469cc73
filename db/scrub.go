package db

import "github.com/evsync/evsync/internal/secretjson"

// ScrubRaw returns raw without its secret-bearing members, at any depth of objects and arrays,
// compacted, by DESIGN.md's rule (internal/secretjson: the key's last word or two, the value's
// type; so phoneLoginPin, sipPass, apiKey, accessTokens and a credentials object go,
// allowManualPass: true and campaignPass: 3 stay). Empty input is returned as "{}"; invalid JSON
// is an error that does not quote the input.
func ScrubRaw(raw []byte) ([]byte, error) { return secretjson.Scrub(raw) }
