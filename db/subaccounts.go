package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SubAccountIDsWithLiveRows lists the sub-accounts that still have live agent groups or agents
// stored. A run uses it to find the sub-accounts that vanished from the accounts listing, whose
// agent-group and agent scopes it then publishes as complete and empty, so their rows are
// soft-deleted (under the mass-delete breaker) rather than left live forever.
func (s *Store) SubAccountIDsWithLiveRows(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, s.sql(`
		SELECT sub_account_id FROM {{schema}}.agent_groups WHERE deleted_at IS NULL
		UNION
		SELECT sub_account_id FROM {{schema}}.agents WHERE deleted_at IS NULL
		ORDER BY 1`))
	if err != nil {
		return nil, fmt.Errorf("listing sub-accounts with live rows: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing sub-accounts with live rows: %w", err)
	}
	return ids, nil
}
