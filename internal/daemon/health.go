package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Check reports whether River can work: its queue is registered in the control schema (River
// does that when it starts, and reports it every 10 minutes while it runs) and its job table
// answers. Each is one indexed query through River's own API. A control schema dropped or
// emptied under a running daemon, or a daemon not started, fails it; River itself only logs
// such failures and keeps trying, so nothing would run while the process looked healthy.
func (s *scheduler) Check(ctx context.Context) error {
	if _, err := s.client.QueueGet(ctx, river.QueueDefault); err != nil {
		if errors.Is(err, rivertype.ErrNotFound) {
			return errors.New("its queue is not registered (River has not started)")
		}
		return fmt.Errorf("reading its queue: %w", err)
	}
	if _, err := s.client.JobList(ctx, river.NewJobListParams().First(1)); err != nil {
		return fmt.Errorf("reading its jobs: %w", err)
	}
	return nil
}
