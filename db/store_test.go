package db_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/secretjson"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/migrations"
)

func TestOpenSetsSessionDefaults(t *testing.T) {
	t.Parallel()
	base := dbtest.NewURL(t)
	tests := []struct {
		name, query                     string
		wantApp, wantStmt, wantIdleInTx string
	}{
		{name: "defaults", wantApp: "evsync", wantStmt: "5min", wantIdleInTx: "1min"},
		{name: "url wins", query: "&application_name=reports&statement_timeout=1500&idle_in_transaction_session_timeout=0",
			wantApp: "reports", wantStmt: "1500ms", wantIdleInTx: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool, err := db.Open(t.Context(), base+tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			var app, stmt, idle string
			if err := pool.QueryRow(t.Context(), `SELECT current_setting('application_name'), current_setting('statement_timeout'),
 current_setting('idle_in_transaction_session_timeout')`).Scan(&app, &stmt, &idle); err != nil {
				t.Fatal(err)
			}
			if app != tt.wantApp || stmt != tt.wantStmt || idle != tt.wantIdleInTx {
				t.Fatalf("session: %q %q %q, want %q %q %q", app, stmt, idle, tt.wantApp, tt.wantStmt, tt.wantIdleInTx)
			}
		})
	}
	if _, err := db.Open(t.Context(), "postgres://u:sekrit@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"); err == nil || strings.Contains(err.Error(), "sekrit") {
		t.Fatalf("open of a dead server: %v", err)
	}
	if _, err := db.Open(t.Context(), "postgres://u:sekrit@[bad"); err == nil || strings.Contains(err.Error(), "sekrit") {
		t.Fatalf("open of a bad url: %v", err)
	}
}

// TestMigrations runs up twice at once, then down to nothing and up again, in two schemas.
func TestMigrations(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	ctx := t.Context()
	pool, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	tables := func(schema string) int64 {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'goose_db_version'`, schema).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const want = 12 + 2 + 14 + 3 + 2 + 3 + 6 // 00001 tables, 00002 views, 00004 tables and views, 00005 tables, 00007 tables and view, 00008 tables and views
	for _, schema := range []string{"engage", "tenant_b"} {
		var g errgroup.Group
		for range 2 {
			g.Go(func() error { return db.MigrateUp(ctx, pool, schema) })
		}
		if err := g.Wait(); err != nil {
			t.Fatalf("concurrent MigrateUp(%s): %v", schema, err)
		}
		if n := tables(schema); n != want {
			t.Fatalf("%s after up: %d tables and views, want %d", schema, n, want)
		}
	}
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := db.MigrateStatus(ctx, pool, "engage", &buf); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); strings.Count(got, "applied") != len(files) || !strings.Contains(got, "00001_create_tables.sql") {
		t.Fatalf("status:\n%s", got)
	}
	// Down to nothing, then up again, with data in between.
	s := dbtest.Store(t, pool, "engage")
	if _, err := s.RunCreate(ctx, "manual"); err != nil {
		t.Fatal(err)
	}
	for range files {
		if _, err := db.MigrateDown(ctx, pool, "engage", true); err != nil { // the run row goes too
			t.Fatal(err)
		}
	}
	if n := tables("engage"); n != 0 {
		t.Fatalf("after down: %d tables left", n)
	}
	if n := tables("tenant_b"); n != want {
		t.Fatalf("down in engage touched tenant_b: %d tables", n)
	}
	if err := db.MigrateUp(ctx, pool, "engage"); err != nil {
		t.Fatal(err)
	}
	if n := tables("engage"); n != want {
		t.Fatalf("after up again: %d", n)
	}
	if err := db.MigrateUp(ctx, pool, "Bad-Name"); !errors.Is(err, db.ErrBadSchema) {
		t.Fatalf("bad schema: %v", err)
	}
}

func TestLockTake(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	ctx := t.Context()
	a, b := dbtest.Store(t, pool, schema), dbtest.Store(t, pool, schema)
	lock, err := a.LockTake(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Two lockers at once: exactly one gets the lock.
	var g errgroup.Group
	results := make([]error, 4)
	for i := range results {
		g.Go(func() error {
			lk, err := b.LockTake(ctx)
			if err == nil {
				lk.Release()
			}
			results[i] = err
			return nil
		})
	}
	_ = g.Wait()
	for i, err := range results {
		if !errors.Is(err, db.ErrLocked) {
			t.Fatalf("locker %d while held: %v, want ErrLocked", i, err)
		}
	}
	// Another schema has its own lock.
	other := dbtest.Store(t, pool, "other_tenant")
	lk2, err := other.LockTake(ctx)
	if err != nil {
		t.Fatalf("lock of another schema: %v", err)
	}
	lk2.Release()
	lock.Release()
	lock.Release() // twice is fine
	lkB, err := b.LockTake(ctx)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	lkB.Release()

	// Race two lockers: one wins, one gets ErrLocked.
	var wins, locked int
	errs := make(chan error, 2)
	rels := make(chan *db.Lock, 2)
	for range 2 {
		go func() {
			lk, err := a.LockTake(ctx)
			if err == nil {
				rels <- lk
			}
			errs <- err
		}()
	}
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			wins++
		case errors.Is(err, db.ErrLocked):
			locked++
		default:
			t.Fatal(err)
		}
	}
	(<-rels).Release()
	if wins != 1 || locked != 1 {
		t.Fatalf("two lockers: %d won, %d locked", wins, locked)
	}
}

func TestRunLedger(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	s := dbtest.Store(t, pool, schema)
	ctx := t.Context()
	id, err := s.RunCreate(ctx, "schedule")
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.StatusGet(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Runs) != 1 || st.Runs[0].Status != db.RunRunning || st.Runs[0].FinishedAt != nil || st.Runs[0].Trigger != "schedule" {
		t.Fatalf("running run: %+v", st.Runs)
	}
	p := &db.RunFinishParams{RunID: id, Status: db.RunFailed, Error: "listing accounts:\n HTTP 503", APIRequests: 3}
	if err := s.RunFinish(ctx, p); err != nil {
		t.Fatal(err)
	}
	// A finished run stays as it was.
	if err := s.RunFinish(ctx, &db.RunFinishParams{RunID: id, Status: db.RunCanceled}); err != nil {
		t.Fatal(err)
	}
	if st, err = s.StatusGet(ctx, 5); err != nil {
		t.Fatal(err)
	}
	r := st.Runs[0]
	if r.Status != db.RunFailed || r.Error != "listing accounts: HTTP 503" || r.APIRequests != 3 || r.FinishedAt == nil || r.Duration <= 0 {
		t.Fatalf("finished run: %+v", r)
	}
	if err := s.RunFinish(ctx, &db.RunFinishParams{RunID: 999, Status: db.RunFailed}); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("unknown run: %v", err)
	}
	if err := s.RunFinish(ctx, &db.RunFinishParams{RunID: id, Status: "bogus"}); err == nil {
		t.Fatal("bogus status accepted")
	}
	for _, e := range st.Entities {
		if e.LastSuccessRunID != 0 || e.Live != 0 {
			t.Fatalf("entity with no successful run: %+v", e)
		}
	}
	if len(st.Entities) != len(entity.Names()) {
		t.Fatalf("entities: %+v", st.Entities)
	}
}

// TestSecretsNeverStored stages rows carrying secrets at several depths and searches a dump
// of the whole test database for them.
func TestSecretsNeverStored(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	secrets := []string{}
	secret := func(name string) string {
		v := fmt.Sprintf("S3CR3T-%s-%d", name, len(secrets))
		secrets = append(secrets, v)
		return v
	}
	raw := func() []byte {
		return fmt.Appendf(nil, `{"version":%d,"password":%q,"sipPassword":%q,"phoneLoginPin":%q,"allowManualPass":true,
 "settings":{"crmPwd":%q,"ftpPwd":%q,"nested":[{"securityKey":%q,"keep":1},{"apiToken":%q}]},
 "integrations":[[{"clientSecret":%q,"PASSWORD":%q,"phoneRecordingPin":%q}]],
 "auth":{"refresh_token":{"value":%q},"tokenType":"kept-not-a-secret-key"}}`,
			len(secrets), secret("password"), secret("sip"), secret("pin"), secret("crm"), secret("ftp"), secret("key"),
			secret("api"), secret("client"), secret("upper"), secret("rec"), secret("refresh"))
	}
	tn := newTenant(1)
	for i := range tn.agents {
		tn.agents[i].Raw = raw()
	}
	tn.users[0].Raw = raw()
	tn.accounts[0].Raw = raw()
	f.mustSync(tn, syncOpts{})
	// A change moves the old object into history.
	for i := range tn.agents {
		tn.agents[i].Raw = raw()
	}
	f.mustSync(tn, syncOpts{})

	dump := f.db.Dump(t)
	if !strings.Contains(dump, "allowManualPass") || !strings.Contains(dump, "kept-not-a-secret-key") || !strings.Contains(dump, `"keep": 1`) {
		t.Fatalf("dump lacks the non-secret keys; is the data there?")
	}
	for _, s := range secrets {
		if strings.Contains(dump, s) {
			t.Errorf("secret %s found in the database dump", s)
		}
	}
	var n int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM engage.agents_history WHERE raw ? 'allowManualPass'`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("history rows with raw: %d, %v", n, err)
	}
}

func TestScrubRaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "empty", in: "", want: `{}`},
		{name: "flat", in: `{"a": 1, "password": "x", "b": "y"}`, want: `{"a":1,"b":"y"}`},
		{name: "first key secret", in: `{"sipPassword":"x","a":[1,2]}`, want: `{"a":[1,2]}`},
		{name: "last key secret", in: `{"a":null,"crmPwd":{"deep":[1]}}`, want: `{"a":null}`},
		{name: "only secrets", in: `{"pin":"1","securityKey":"2"}`, want: `{}`},
		{name: "nested", in: `{"x":[{"apiToken":"t","k":true},[{"clientSecret":"s"}]],"y":{"ftpPwd":"p","z":-1.5e3}}`,
			want: `{"x":[{"k":true},[{}]],"y":{"z":-1.5e3}}`},
		{name: "case and escapes", in: `{"PhoneLoginPIN":"1","pass\u0077ord":"2","na\"me":"v"}`, want: `{"na\"me":"v"}`},
		{name: "kept look-alikes", in: `{"allowManualPass":true,"pinned":1,"tokens":2,"spinach":3}`,
			want: `{"allowManualPass":true,"pinned":1,"spinach":3}`},
		{name: "unicode", in: `{"név":"Zoë ✓","n":0}`, want: `{"név":"Zoë ✓","n":0}`},
		{name: "array top", in: ` [ {"token":"x"} , 1 ] `, want: `[{},1]`},
		{name: "truncated", in: `{"a":`, wantErr: true},
		{name: "trailing", in: `{} x`, wantErr: true},
		{name: "bad literal", in: `{"a":tru}`, wantErr: true},
		{name: "missing comma", in: `{"a":1 "b":2}`, wantErr: true},
		{name: "bad number", in: `{"a":-}`, wantErr: true},
		{name: "control char", in: "{\"a\":\"\x01\"}", wantErr: true},
		{name: "bad utf8 repaired", in: "{\"a\":\"\xff\"}", want: "{\"a\":\"\uFFFD\"}"},
		{name: "lone surrogate repaired", in: `{"a":"\ud800"}`, want: `{"a":"\ufffd"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := secretjson.Scrub([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ScrubRaw(%q) = %s, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("ScrubRaw(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsSecretKey(t *testing.T) {
	t.Parallel()
	for k, want := range map[string]bool{
		"password": true, "sipPassword": true, "phoneLoginPin": true, "phoneRecordingPin": true, "crmPwd": true,
		"ftpPwd": true, "securityKey": true, "apiToken": true, "clientSecret": true, "PIN": true, "access_token": true,
		"tokens": true, "apiKey": true, "sipPass": true, "credentials": true,
		"pinned": false, "key": false, "name": false, "": false,
	} {
		if got := db.IsSecretKey(k); got != want {
			t.Errorf("isSecretKey(%q) = %v, want %v", k, got, want)
		}
	}
}

// A lock whose holder falls silent (its process frozen: no heartbeat, no release) dies with
// it: the server ends the holder's session within the lock timeout and another run takes the
// lock. Before, the lock was held until TCP keepalive noticed, hours later.
func TestLockDiesWithASilentHolder(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits out the lock timeout: skipped with -short")
	}
	pool, schema := dbtest.New(t)
	ctx := t.Context()
	frozen := dbtest.Store(t, pool, schema, db.WithLockTimeout(2*time.Second))
	lock, err := frozen.LockTake(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	db.FreezeLock(lock)
	other := dbtest.Store(t, pool, schema)
	deadline := time.Now().Add(time.Minute) // generous: the server ends the session after 2 s
	for {
		lk, err := other.LockTake(ctx)
		if err == nil {
			lk.Release()
			break
		}
		if !errors.Is(err, db.ErrLocked) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock of a silent holder is still held a minute later")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A live holder keeps its lock however long it holds it: its heartbeats keep its session from
// being ended as idle.
func TestLockHeldPastItsTimeoutByALiveHolder(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("holds a lock past its timeout: skipped with -short")
	}
	pool, schema := dbtest.New(t)
	ctx := t.Context()
	const timeout = 3 * time.Second
	lock, err := dbtest.Store(t, pool, schema, db.WithLockTimeout(timeout)).LockTake(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	time.Sleep(3 * timeout) // the lock's session would have been ended twice over without heartbeats
	select {
	case <-lock.Lost():
		t.Fatalf("a live holder lost its lock: %v", lock.Err())
	default:
	}
	if _, err := dbtest.Store(t, pool, schema).LockTake(ctx); !errors.Is(err, db.ErrLocked) {
		t.Fatalf("another locker: %v, want ErrLocked", err)
	}
}

// A holder whose lock session ends (terminated, or its network lost) learns it from its next
// heartbeat: Lost is closed and Err says so.
func TestLockLostIsNoticed(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a database-outage scenario: skipped with -short")
	}
	pool, schema := dbtest.New(t)
	ctx := t.Context()
	lock, err := dbtest.Store(t, pool, schema, db.WithLockTimeout(3*time.Second)).LockTake(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminating the lock's session: %d, %v", n, err)
	}
	select {
	case <-lock.Lost():
	case <-time.After(time.Minute): // generous: a heartbeat goes every second
		t.Fatal("a lock whose session ended is not known lost a minute later")
	}
	if err := lock.Err(); !errors.Is(err, db.ErrLockLost) || !strings.Contains(err.Error(), "lost the advisory lock") {
		t.Fatalf("Err = %v, want ErrLockLost saying it lost the advisory lock", err)
	}
}

// A heartbeat that fails because the server restarted (every session ended, the lock freed
// with them) takes the lock again on a new session: the run goes on, as a staging that lost
// its connection does (issue 21, #17), instead of being lost (#8).
func TestLockTakenAgainAfterAServerRestart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a database-outage scenario: skipped with -short")
	}
	pool, schema := dbtest.New(t)
	ctx := t.Context()
	lock, err := dbtest.Store(t, pool, schema, db.WithLockTimeout(3*time.Second)).LockTake(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	db.PretendServerRestarted(lock)
	old := db.LockPID(lock)
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(pg_terminate_backend($1))`, int64(old)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminating the lock's session: %d, %v", n, err)
	}
	deadline := time.Now().Add(time.Minute) // generous: a heartbeat goes every second
	for db.LockPID(lock) == old && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-lock.Lost():
		t.Fatalf("the lock was lost after a restart: %v", lock.Err())
	default:
	}
	var holders []int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(pid), '{}') FROM pg_locks
WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&holders); err != nil {
		t.Fatal(err)
	}
	if now := db.LockPID(lock); now == old || len(holders) != 1 || holders[0] != int64(now) {
		t.Fatalf("after the restart the lock is held by %v, want the lock's new session (was %d, now %d)", holders, old, now)
	}
	if _, err := dbtest.Store(t, pool, schema).LockTake(ctx); !errors.Is(err, db.ErrLocked) {
		t.Fatalf("another run took the lock after the restart: %v", err)
	}
}

// RunLastStarted is when the latest entity run started, whatever its status; zero before any.
// A stream run does not count (the daemon's run_on_start of the entities looks at it).
func TestRunLastStarted(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	s := dbtest.Store(t, pool, schema)
	if got, err := s.RunLastStarted(t.Context()); err != nil || !got.IsZero() {
		t.Fatalf("RunLastStarted before any run = %v, %v; want the zero time", got, err)
	}
	before := time.Now().Add(-time.Minute) // the server's clock, not ours: generous
	for range 2 {
		if _, err := s.RunCreate(t.Context(), "manual"); err != nil {
			t.Fatal(err)
		}
	}
	var want time.Time
	if err := pool.QueryRow(t.Context(), "SELECT max(started_at) FROM "+schema+".sync_runs").Scan(&want); err != nil {
		t.Fatal(err)
	}
	if got, err := s.RunLastStarted(t.Context()); err != nil || !got.Equal(want) || got.Before(before) {
		t.Fatalf("RunLastStarted = %v, %v; want %v", got, err, want)
	}
	for _, tr := range db.StreamTriggers() {
		l, _, err := s.StreamRunBegin(t.Context(), tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Finish(t.Context(), &db.RunFinishParams{Status: db.RunSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.RunLastStarted(t.Context()); err != nil || !got.Equal(want) {
		t.Fatalf("RunLastStarted after stream runs = %v, %v; want the entity run's %v", got, err, want)
	}
}

// The drift status is the latest entity run's: a stream run after it records no drift and
// does not hide its changes.
func TestFieldStatusGetSkipsStreamRuns(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, schema := dbtest.New(t)
	s := dbtest.Store(t, pool, schema)
	run, err := s.RunCreate(ctx, db.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO "+schema+".api_field_changes (run_id, entity, path, change, new_type) VALUES ($1, 'agents', 'team', 'added', 'object')", run); err != nil {
		t.Fatal(err)
	}
	l, _, err := s.StreamRunBegin(ctx, db.TriggerStreams)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(ctx, &db.RunFinishParams{Status: db.RunSucceeded}); err != nil {
		t.Fatal(err)
	}
	fs, err := s.FieldStatusGet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []db.FieldChange{{Entity: entity.Agents, Path: "team", Change: db.FieldAdded, NewType: "object"}}
	if fs.RunID != run || fs.LastChangeRunID != run || !cmp.Equal(fs.Changes, want) {
		t.Errorf("FieldStatusGet after a stream run = %+v; want run %d's changes %v", fs, run, want)
	}
}
