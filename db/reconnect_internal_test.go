package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// A lost connection is told from the errors a reconnection cannot mend: the server ending the
// session (a restart, a failover, an operator) and network errors are lost connections; bad
// data, a statement timeout or a canceled statement are not.
func TestConnLost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown (a restart)", &pgconn.PgError{Code: "57P01"}, true},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"the server starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"wrapped", fmt.Errorf("copying rows: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"unexpected EOF", fmt.Errorf("updating rows: %w", io.ErrUnexpectedEOF), true},
		{"conn closed", fmt.Errorf("committing: %w", pgconn.ErrConnClosed), true},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, false},
		{"a value that does not fit", &pgconn.PgError{Code: "22003"}, false},
		{"canceled", context.Canceled, false},
		{"anything else", errors.New("some error"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := connLost(tt.err, nil); got != tt.want {
				t.Errorf("connLost(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
