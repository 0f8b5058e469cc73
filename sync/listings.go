package sync

import (
	"context"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
)

// The listings below the accounts listing run as a tree (entity.Listing): per sub-account the
// agent groups, queue groups (with their queues) and dial groups (with their campaigns); per
// item of those, the agents, skills and assigned agents. A run makes only the listings its
// entities need, level by level, up to Concurrency requests at once. An entity's scope (its
// sub-account) is complete when every request of its listing and of the listings above it
// completed for that sub-account; otherwise it fails with the first error among them.

// item is what one listing request is made for: a sub-account, and the ids of the parent
// listing's item (an agent group; a queue group and a queue; a dial group).
type item struct {
	sub string
	ids [2]int64
}

// children are the items a listing request found for the listings below it.
type children map[*entity.Listing][]item

// lister makes one request of a listing for it, stages the rows of the selected entities it
// yields, and returns the items found for the listings below. listErr is the listing's own
// error (its scopes'); err fails the run.
type lister func(f *fetcher, ctx context.Context, it item) (found children, listErr, err error)

// listers holds the request of every listing below the accounts listing.
var listers = map[*entity.Listing]lister{
	entity.ListAgentGroups:     (*fetcher).listAgentGroups,
	entity.ListAgents:          (*fetcher).listAgents,
	entity.ListGateGroups:      (*fetcher).listGateGroups,
	entity.ListGateGroupSkills: (*fetcher).listGateGroupSkills,
	entity.ListGateAgents:      (*fetcher).listGateAgents,
	entity.ListDialGroups:      (*fetcher).listDialGroups,
	entity.ListDialGroupAgents: (*fetcher).listDialGroupAgents,
}

// call is one listing request and its outcome.
type call struct {
	l     *entity.Listing
	it    item
	found children
	err   error // the listing's own error
}

// fetchSubAccounts makes the listings below the accounts listing for subIDs, level by level,
// and marks every selected scoped entity's scope of each sub-account.
func (f *fetcher) fetchSubAccounts(ctx context.Context, subIDs []string) error {
	f.progress.plan.settleBelow(entity.ListAccounts, len(subIDs))
	var level []*call
	for _, l := range f.r.listings {
		if l.Parent == entity.ListAccounts {
			for _, sub := range subIDs {
				level = append(level, &call{l: l, it: item{sub: sub}})
			}
		}
	}
	failed := map[listingScope]error{} // the first error of each listing, per sub-account
	for len(level) > 0 {
		if err := f.runLevel(ctx, level); err != nil {
			return err
		}
		level = f.nextLevel(level, failed)
	}
	for _, e := range f.r.scoped {
		for _, sub := range subIDs {
			f.scopeDone(e.Name, sub, firstFailure(failed, e.Listing, sub))
		}
	}
	return nil
}

// nextLevel records the errors of a level's calls in failed and returns the calls of the
// items they found, for the listings the run needs.
func (f *fetcher) nextLevel(level []*call, failed map[listingScope]error) []*call {
	var next []*call
	for _, c := range level {
		if k := (listingScope{c.l, c.it.sub}); c.err != nil && failed[k] == nil {
			failed[k] = f.listingErr(c.err)
		}
		for _, l := range f.r.listings {
			for _, it := range c.found[l] {
				next = append(next, &call{l: l, it: it})
			}
		}
	}
	return next
}

// listingScope is one listing's requests for one sub-account.
type listingScope struct {
	l   *entity.Listing
	sub string
}

// firstFailure is the error of l or of a listing above it for sub, nil when all completed.
func firstFailure(failed map[listingScope]error, l *entity.Listing, sub string) error {
	var err error
	for p := l; p != nil; p = p.Parent {
		if e := failed[listingScope{p, sub}]; e != nil {
			err = e // the highest failure explains the ones below it
		}
	}
	return err
}

// runLevel makes the calls of one level, up to Concurrency at once, each writing its own slot.
func (f *fetcher) runLevel(ctx context.Context, level []*call) error {
	f.r.report(f.progress) // the finished level's final numbers
	f.progress.setPhase(f.levelName(level), len(level))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.r.cfg.Concurrency)
	for _, c := range level {
		g.Go(func() (err error) {
			start := time.Now()
			c.found, c.err, err = listers[c.l](f, gctx, c.it)
			f.progress.made(gctx, c.l, c.found, start)
			f.progress.scopeDone()
			return err
		})
	}
	return g.Wait()
}

// levelName names a level for progress: the selected entities its listings yield, in order,
// joined with "+" ("agents", "agent_groups+queue_groups+queues+dial_groups+campaigns").
func (f *fetcher) levelName(level []*call) string {
	var names []string
	for _, e := range f.r.selected {
		d := entity.Of(e)
		if slices.ContainsFunc(level, func(c *call) bool { return c.l == d.Listing }) {
			names = append(names, string(e))
		}
	}
	return strings.Join(names, "+")
}

// listed decides what a listing request's error means: keep says whether the items that came
// back are staged (all of them, or all but some that could not be decoded), and stop is the
// run's stop (the request failed because the run is stopping).
func listed(ctx context.Context, err error) (keep bool, stop error) {
	if err == nil {
		return true, nil
	}
	if stop := runStopped(ctx); stop != nil {
		return false, stop
	}
	return itemsOnly(err), nil
}

// stageRows queues rows of entity e from source for staging when e is selected.
func (f *fetcher) stageRows(ctx context.Context, e entity.Name, source string, rows []db.Row) error {
	if !f.r.selects(e) || len(rows) == 0 {
		return nil
	}
	return f.send(ctx, len(rows), func(ctx context.Context) error {
		return f.stage.Add(ctx, e, source, rows)
	})
}

// pageOpts pages a listing n rows at a time; nil (the full list in one request) for n <= 0.
func pageOpts(n int) *engageclient.ListOptions {
	if n <= 0 {
		return nil
	}
	return &engageclient.ListOptions{MaxRows: n}
}

// leaf stages the items of a listing request that yields one entity and nothing to list
// below it (agents, skills, assigned agents), each made a row by row.
func leaf[T any](ctx context.Context, f *fetcher, e entity.Name, list []*T, resp *engageclient.Response, listErr error,
	row func(*T) db.Row) (children, error, error) {
	if keep, stop := listed(ctx, listErr); !keep {
		return nil, listErr, stop
	}
	rows := make([]db.Row, 0, len(list))
	for _, x := range list {
		rows = append(rows, row(x))
	}
	return nil, listErr, f.stageRows(ctx, e, resp.Endpoint(), rows)
}

func (f *fetcher) listAgentGroups(ctx context.Context, it item) (children, error, error) {
	list, resp, listErr := f.r.client.ListAgentGroups(ctx, it.sub, pageOpts(f.r.cfg.AgentGroupPageSize))
	if keep, stop := listed(ctx, listErr); !keep {
		return nil, listErr, stop
	}
	rows := make([]db.Row, 0, len(list))
	found := children{}
	for _, ag := range list {
		rows = append(rows, agentGroupRow(it.sub, ag))
		found[entity.ListAgents] = append(found[entity.ListAgents], item{sub: it.sub, ids: [2]int64{ag.AgentGroupID}})
	}
	return found, listErr, f.stageRows(ctx, entity.AgentGroups, resp.Endpoint(), rows)
}

func (f *fetcher) listAgents(ctx context.Context, it item) (children, error, error) {
	list, resp, err := f.r.client.ListAgents(ctx, it.sub, it.ids[0])
	return leaf(ctx, f, entity.Agents, list, resp, err, func(a *engageclient.Agent) db.Row { return agentRow(it.sub, it.ids[0], a) })
}

func (f *fetcher) listGateGroups(ctx context.Context, it item) (children, error, error) {
	list, resp, listErr := f.r.client.ListGateGroupsWithChildren(ctx, it.sub)
	if keep, stop := listed(ctx, listErr); !keep {
		return nil, listErr, stop
	}
	var groups, queues []db.Row
	found := children{}
	for _, gg := range list {
		groups = append(groups, queueGroupRow(it.sub, gg))
		found[entity.ListGateGroupSkills] = append(found[entity.ListGateGroupSkills], item{sub: it.sub, ids: [2]int64{gg.GateGroupID}})
		for _, g := range gg.Gates {
			queues = append(queues, queueRow(it.sub, gg.GateGroupID, g))
			found[entity.ListGateAgents] = append(found[entity.ListGateAgents], item{sub: it.sub, ids: [2]int64{gg.GateGroupID, g.GateID}})
		}
	}
	source := resp.Endpoint()
	if err := f.stageRows(ctx, entity.QueueGroups, source, groups); err != nil {
		return nil, listErr, err
	}
	return found, listErr, f.stageRows(ctx, entity.Queues, source, queues)
}

func (f *fetcher) listGateGroupSkills(ctx context.Context, it item) (children, error, error) {
	list, resp, err := f.r.client.ListGateGroupSkills(ctx, it.sub, it.ids[0])
	return leaf(ctx, f, entity.Skills, list, resp, err, func(s *engageclient.GateGroupSkill) db.Row { return skillRow(it.sub, it.ids[0], s) })
}

func (f *fetcher) listGateAgents(ctx context.Context, it item) (children, error, error) {
	list, resp, err := f.r.client.ListGateAssignedAgents(ctx, it.sub, it.ids[0], it.ids[1], pageOpts(f.r.cfg.AssignedAgentsPageSize))
	return leaf(ctx, f, entity.AgentQueues, list, resp, err, func(a *engageclient.Agent) db.Row { return assignmentRow(it.sub, it.ids[1], a) })
}

func (f *fetcher) listDialGroups(ctx context.Context, it item) (children, error, error) {
	list, resp, listErr := f.r.client.ListDialGroupsWithChildren(ctx, it.sub)
	if keep, stop := listed(ctx, listErr); !keep {
		return nil, listErr, stop
	}
	var groups, campaigns []db.Row
	found := children{}
	for _, dg := range list {
		groups = append(groups, dialGroupRow(it.sub, dg))
		found[entity.ListDialGroupAgents] = append(found[entity.ListDialGroupAgents], item{sub: it.sub, ids: [2]int64{dg.DialGroupID}})
		for _, c := range dg.Campaigns {
			campaigns = append(campaigns, campaignRow(it.sub, dg.DialGroupID, c))
		}
	}
	source := resp.Endpoint()
	if err := f.stageRows(ctx, entity.DialGroups, source, groups); err != nil {
		return nil, listErr, err
	}
	return found, listErr, f.stageRows(ctx, entity.Campaigns, source, campaigns)
}

func (f *fetcher) listDialGroupAgents(ctx context.Context, it item) (children, error, error) {
	list, resp, err := f.r.client.ListDialGroupAssignedAgents(ctx, it.sub, it.ids[0], pageOpts(f.r.cfg.AssignedAgentsPageSize))
	return leaf(ctx, f, entity.AgentDialGroups, list, resp, err, func(a *engageclient.Agent) db.Row { return assignmentRow(it.sub, it.ids[0], a) })
}
