package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Check reports whether this replica's River can work: its client runs (Start began and Stop
// has not), its queue is registered in the control schema (River does that when it starts,
// and reports it every 10 minutes while it runs) and its job table answers. The queue and the
// jobs are one indexed query each through River's own API. The queue alone does not say this
// replica runs: on a control schema shared by replicas, another one may have registered it.
// A control schema dropped or emptied under a running daemon fails it too; River itself only
// logs such failures and keeps trying, so nothing would run while the process looked healthy.
func (s *scheduler) Check(ctx context.Context) error {
	if _, err := s.client.QueueGet(ctx, river.QueueDefault); err != nil {
		if errors.Is(err, rivertype.ErrNotFound) {
			return errors.New("its queue is not registered (River has not started)")
		}
		return fmt.Errorf("reading its queue: %w", err)
	}
	if !s.running.Load() {
		return errors.New("this replica's River client is not running (starting or stopping)")
	}
	if _, err := s.client.JobList(ctx, river.NewJobListParams().First(1)); err != nil {
		return fmt.Errorf("reading its jobs: %w", err)
	}
	return nil
}
