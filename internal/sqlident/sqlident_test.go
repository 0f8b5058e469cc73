package sqlident_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/evsync/evsync/internal/sqlident"
)

func TestCheckSchema(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		wantErr string // "" = accepted
	}{
		{"engage", ""},
		{"public", ""},
		{"_x9", ""},
		{strings.Repeat("a", 63), ""},
		{strings.Repeat("a", 64), "lower-case SQL identifier"},
		{"", "lower-case SQL identifier"},
		{"Engage", "lower-case SQL identifier"},
		{"9lives", "lower-case SQL identifier"},
		{"bad-name", `got "bad-name"`},
		{"pg_catalog", "PostgreSQL system schema"},
		{"pg_anything", "PostgreSQL system schema"},
		{"information_schema", "PostgreSQL system schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := sqlident.CheckSchema(tt.name)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("CheckSchema(%q) = %v, want nil", tt.name, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, sqlident.ErrBadSchema) {
				t.Errorf("CheckSchema(%q) = %v, want an error matching ErrBadSchema containing %q", tt.name, err, tt.wantErr)
			}
		})
	}
}
