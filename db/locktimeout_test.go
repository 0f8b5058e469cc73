package db_test

import (
	"testing"
	"time"

	"github.com/evsync/evsync/db"
)

// CheckLockTimeout accepts LockTimeoutMin to LockTimeoutMax, and its error reads after the
// setting's name.
func TestCheckLockTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{db.LockTimeoutDefault, ""},
		{time.Second, ""},
		{time.Hour, ""},
		{500 * time.Millisecond, `must be a duration from 1s to 1h like "1m", got "500ms"`},
		{2 * time.Hour, `must be a duration from 1s to 1h like "1m", got "2h0m0s"`},
		{0, `must be a duration from 1s to 1h like "1m", got "0s"`},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			t.Parallel()
			got := ""
			if err := db.CheckLockTimeout(tt.d); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("CheckLockTimeout(%s) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}
