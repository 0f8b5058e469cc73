package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// SubAccountIDsWithLiveRows lists the sub-accounts that still have live rows stored in the
// tables of the entities scoped per sub-account (agent groups, agents, queues, ...), as the
// stage's connection sees them: a dry run may have migrated the schema in its own transaction
// (StageBegin). A run uses it to find the sub-accounts that vanished from the accounts
// listing, whose scopes it then publishes as complete and empty, so their rows are
// soft-deleted (under the mass-delete breaker) rather than left live forever.
func (st *Stage) SubAccountIDsWithLiveRows(ctx context.Context) ([]string, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done || st.closed {
		return nil, ErrStageDone
	}
	if err := st.waitRecover(ctx); err != nil {
		return nil, err // an earlier Add's COPY, reported as itself
	}
	var parts []string
	for _, d := range entityDefs {
		if d.scoped {
			parts = append(parts, expand(`SELECT {{scope_col}} FROM {{table}} WHERE deleted_at IS NULL`, d.sqlVars(st.s.q)))
		}
	}
	query := strings.Join(parts, "\nUNION\n") + "\nORDER BY 1"
	var ids []string
	err := st.retry(ctx, func() error {
		rows, err := st.conn.Query(ctx, query)
		if err != nil {
			return fmt.Errorf("listing sub-accounts with live rows: %w", err)
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("listing sub-accounts with live rows: %w", err)
		}
		return nil
	})
	return ids, err
}
