package db

import (
	"context"

	"github.com/evsync/evsync/internal/secretjson"
)

// SetStageHook installs fn to run at the named steps of st's Publish ("plan",
// "<entity>:analyze", "<entity>:update", "<entity>:insert", "<entity>:delete",
// "<entity>:done", "ledger", "commit", "committed"); an error aborts the publish.
func SetStageHook(st *Stage, fn func(ctx context.Context, step string) error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.hook = fn
}

// IsSecretKey exposes the secret-key rule to the db tests.
func IsSecretKey(k string) bool { return secretjson.IsSecretKey(k) }
