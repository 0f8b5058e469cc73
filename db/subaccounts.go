package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// SubAccountIDsWithLiveRows lists the sub-accounts that still have live rows stored in the
// tables of the entities scoped per sub-account (agent groups, agents, queues, ...). A run uses
// it to find the sub-accounts that vanished from the accounts listing, whose scopes it then
// publishes as complete and empty, so their rows are soft-deleted (under the mass-delete
// breaker) rather than left live forever.
func (s *Store) SubAccountIDsWithLiveRows(ctx context.Context) ([]string, error) {
	return s.subAccountIDsWithLiveRows(ctx, s.pool)
}

// SubAccountIDsWithLiveRows is Store.SubAccountIDsWithLiveRows as the stage's connection sees
// the tables: a run asks its stage, whose dry run may have migrated the schema in its own
// transaction (StageBegin).
func (st *Stage) SubAccountIDsWithLiveRows(ctx context.Context) ([]string, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done || st.closed {
		return nil, ErrStageDone
	}
	if err := st.waitRecover(ctx); err != nil {
		return nil, err // an earlier Add's COPY, reported as itself
	}
	var ids []string
	err := st.retry(ctx, func() (err error) {
		ids, err = st.s.subAccountIDsWithLiveRows(ctx, st.conn)
		return err
	})
	return ids, err
}

// subAccountIDsWithLiveRows is SubAccountIDsWithLiveRows as q sees the tables.
func (s *Store) subAccountIDsWithLiveRows(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) ([]string, error) {
	var parts []string
	for _, d := range entityDefs {
		if d.scoped {
			parts = append(parts, expand(`SELECT {{scope_col}} FROM {{table}} WHERE deleted_at IS NULL`, d.sqlVars(s.q)))
		}
	}
	rows, err := q.Query(ctx, strings.Join(parts, "\nUNION\n")+"\nORDER BY 1")
	if err != nil {
		return nil, fmt.Errorf("listing sub-accounts with live rows: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing sub-accounts with live rows: %w", err)
	}
	return ids, nil
}
