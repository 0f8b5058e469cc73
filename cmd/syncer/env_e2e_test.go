package main

import (
	"slices"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// A misspelt EVSYNC_ variable stops the binary before it touches anything (exit 2, one line
// naming it and the right name), and a key's variable reaches the run: EVSYNC_SYNC_ENTITIES
// limits what it syncs.
func TestE2EEnvironmentTypoAndKey(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 98})
	base := e.env
	e.env = append(slices.Clone(base), "EVSYNC_DATABSE_URL=postgres://postgres@127.0.0.1:1/elsewhere")
	r := e.mustRun(2, "sync")
	if want := "syncer: config: EVSYNC_DATABSE_URL: unknown variable (did you mean EVSYNC_DATABASE_URL?)\n"; r.stderr != want {
		t.Errorf("stderr:\n got %q\nwant %q", r.stderr, want)
	}
	if n := e.count("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'engage'"); n != 0 {
		t.Errorf("a config error still touched the database (%d tables)", n)
	}

	e.env = append(slices.Clone(base), "EVSYNC_SYNC_ENTITIES=accounts")
	e.mustRun(0, "sync")
	if n := e.count("SELECT count(*) FROM engage.accounts"); n == 0 {
		t.Error("EVSYNC_SYNC_ENTITIES=accounts: no account synced")
	}
	if n := e.count("SELECT count(*) FROM engage.users"); n != 0 {
		t.Errorf("EVSYNC_SYNC_ENTITIES=accounts: %d users synced, want none", n)
	}
}
