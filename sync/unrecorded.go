package sync

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	gosync "sync"
)

// A run that cannot record its end (its database is away) leaves its error here, by database
// identity (db.Store.Identity) and run id, for the next run of its schema: that run closes the
// row as abandoned and records "abandoned: <the error>". The errors are kept in this process
// (the daemon's next run) and, when Config.StateDir is set, in a small file there (the next
// process's).
type unrecorded struct {
	mu gosync.Mutex
	m  map[string]map[int64]string // identity -> run id -> error
}

// unrecordedErrors is this process's.
var unrecordedErrors = &unrecorded{m: map[string]map[int64]string{}}

// unrecordedFile is the file the errors of identity are kept in under dir.
func unrecordedFile(dir, identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return filepath.Join(dir, "unrecorded-"+hex.EncodeToString(sum[:8])+".json")
}

// unrecordedState is the file's content.
type unrecordedState struct {
	Identity string           `json:"identity"`
	Runs     map[int64]string `json:"runs"`
}

// save keeps the error of run runID of identity, in memory and in dir's file when dir is set.
func (u *unrecorded) save(dir, identity string, runID int64, text string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	runs := u.m[identity]
	if runs == nil {
		runs = map[int64]string{}
		u.m[identity] = runs
	}
	runs[runID] = text
	if dir == "" {
		return nil
	}
	st, err := readUnrecorded(dir, identity)
	if err != nil {
		st = &unrecordedState{Identity: identity, Runs: map[int64]string{}}
	}
	st.Runs[runID] = text
	return writeUnrecorded(dir, st)
}

// load returns the errors kept for identity, from memory and from dir's file.
func (u *unrecorded) load(dir, identity string) (map[int64]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := maps.Clone(u.m[identity])
	if out == nil {
		out = map[int64]string{}
	}
	if dir == "" {
		return out, nil
	}
	st, err := readUnrecorded(dir, identity)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	for id, text := range st.Runs {
		if _, ok := out[id]; !ok {
			out[id] = text
		}
	}
	return out, nil
}

// clear forgets the errors of identity, once the runs they belong to are closed.
func (u *unrecorded) clear(dir, identity string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, identity)
	if dir == "" {
		return nil
	}
	if err := os.Remove(unrecordedFile(dir, identity)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the errors of unrecorded runs: %w", err)
	}
	return nil
}

// errUnrecordedForeign is readUnrecorded's error for a file that is corrupt or another
// database's: it holds nothing this database's runs can use, and is removed.
var errUnrecordedForeign = errors.New("corrupt, or another database's")

func readUnrecorded(dir, identity string) (*unrecordedState, error) {
	b, err := os.ReadFile(unrecordedFile(dir, identity))
	if err != nil {
		return nil, err
	}
	var st unrecordedState
	if err := json.Unmarshal(b, &st); err != nil || st.Identity != identity {
		return nil, fmt.Errorf("reading the errors of unrecorded runs: %s: %w", unrecordedFile(dir, identity), errUnrecordedForeign)
	}
	if st.Runs == nil {
		st.Runs = map[int64]string{}
	}
	return &st, nil
}

// writeUnrecorded replaces the file atomically.
func writeUnrecorded(dir string, st *unrecordedState) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keeping the error of an unrecorded run: %w", err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("keeping the error of an unrecorded run: %w", err)
	}
	f, err := os.CreateTemp(dir, ".unrecorded-*")
	if err != nil {
		return fmt.Errorf("keeping the error of an unrecorded run: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("keeping the error of an unrecorded run: %w", err)
	}
	if err := os.Rename(f.Name(), unrecordedFile(dir, st.Identity)); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("keeping the error of an unrecorded run: %w", err)
	}
	return nil
}
