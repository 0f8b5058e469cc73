package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
)

// MaxDeleteFractionDefault is the mass-delete breaker's threshold when none is given: a scope
// that would lose more than this fraction of its live rows has its deletes withheld.
const MaxDeleteFractionDefault = 0.5

// Policy is how a run decides what publishes: the mass-delete breaker's settings.
type Policy struct {
	MaxDeleteFraction float64 // 0 means MaxDeleteFractionDefault
	AllowMassDelete   bool    // apply deletes even when a scope trips the breaker
	// SomeSubAccounts says the run lists only some sub-accounts (--sub-account): the entities
	// scoped per sub-account were not seen whole, so no path of theirs is judged removed.
	SomeSubAccounts bool
}

// Decision is a run's decided publish: one decision per planned scope, and the run's status
// and error (one line; "" when it succeeded).
type Decision struct {
	Scopes []db.ScopeDecision
	Status db.RunStatus
	Error  string
	// WholeEntities are the planned entities whose every scope the run listed
	// (db.PublishParams.WholeEntities).
	WholeEntities []entity.Name
}

// Decide decides every scope of plan and the run's status. A scope marked failed is failed
// (its rows publish, nothing of it is deleted); a complete scope applies its deletes, unless
// they would remove more than the breaker's fraction of its live rows and mass deletes are not
// allowed, when it is withheld. problems are the run's failures that belong to no scope. Any
// failed or withheld scope, or any problem, makes the run partial, and a run in which every
// scope failed is failed (docs/schema.md).
func (p Policy) Decide(plan *db.Plan, problems []string) Decision {
	frac := p.MaxDeleteFraction
	if frac <= 0 {
		frac = MaxDeleteFractionDefault
	}
	var dec Decision
	var lines []string
	for _, sp := range plan.Scopes {
		d := db.ScopeDecision{Status: db.ScopeSucceeded}
		switch {
		case !sp.Complete:
			d.Status, d.Error = db.ScopeFailed, sp.Error
			lines = append(lines, fmt.Sprintf("%s/%s failed: %s", sp.Entity, sp.Scope, sp.Error))
		case sp.Missing > 0 && float64(sp.Missing) > frac*float64(sp.Live) && !p.AllowMassDelete:
			d.Status = db.ScopeWithheld
			d.Error = fmt.Sprintf("deletes withheld: %d of %d live rows missing upstream (more than %g); rerun with --allow-mass-delete to apply them",
				sp.Missing, sp.Live, frac)
			lines = append(lines, fmt.Sprintf("%s/%s %s", sp.Entity, sp.Scope, d.Error))
		default:
			d.Delete = sp.Missing > 0
		}
		dec.Scopes = append(dec.Scopes, d)
		partly := p.SomeSubAccounts && entity.Of(sp.Entity).Scoped() // not every sub-account listed
		if !partly && !slices.Contains(dec.WholeEntities, sp.Entity) {
			dec.WholeEntities = append(dec.WholeEntities, sp.Entity)
		}
	}
	lines = append(lines, problems...)
	dec.Status = db.RunSucceeded
	if len(lines) > 0 {
		dec.Status = db.RunPartial
		dec.Error = oneline.Of(strings.Join(lines, "; "), oneline.Stored)
		if !slices.ContainsFunc(dec.Scopes, func(d db.ScopeDecision) bool { return d.Status != db.ScopeFailed }) {
			dec.Status = db.RunFailed
		}
	}
	return dec
}

// StatusOf is the status of a run that ended with err under ctx: canceled when it was asked
// to stop (ctx canceled, or err a cancellation), failed otherwise; a deadline (the run's
// timeout) is a failure, and so is a run stopped because it lost its lock (ctx canceled with
// a cause matching db.ErrLockLost).
func StatusOf(ctx context.Context, err error) db.RunStatus {
	switch {
	case errors.Is(context.Cause(ctx), db.ErrLockLost):
		return db.RunFailed // not a stop request: the run could not go on
	case errors.Is(ctx.Err(), context.Canceled):
		return db.RunCanceled // a stop request
	case ctx.Err() == nil && errors.Is(err, context.Canceled):
		return db.RunCanceled // a stop that reached the error before the context
	default:
		return db.RunFailed // the run's own failure, or its deadline
	}
}
