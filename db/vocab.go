package db

// The ledger's vocabulary. Each type below but Trigger, and internal/entity's names, holds
// exactly the values that the CHECK constraints of the migrations allow in the column named in
// its comment, and nothing else restates them (TestVocabularyMatchesCheckConstraints compares
// the two).

// RunStatus is a run's status, sync_runs.status.
type RunStatus string

// The run statuses.
const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunPartial   RunStatus = "partial"
	RunFailed    RunStatus = "failed"
	RunCanceled  RunStatus = "canceled"
)

// RunStatuses returns every run status, running first.
func RunStatuses() []RunStatus {
	return []RunStatus{RunRunning, RunSucceeded, RunPartial, RunFailed, RunCanceled}
}

// ScopeStatus is how one scope of a run ended, sync_run_scopes.status.
type ScopeStatus string

// The scope statuses.
const (
	// ScopeSucceeded: the scope's listing completed; its rows published and its deletes applied.
	ScopeSucceeded ScopeStatus = "succeeded"
	// ScopeFailed: the scope's listing failed; the rows it did fetch published, nothing of it
	// was deleted.
	ScopeFailed ScopeStatus = "failed"
	// ScopeWithheld: the scope's listing completed, but its deletes tripped the mass-delete
	// breaker and were not applied.
	ScopeWithheld ScopeStatus = "withheld"
	// ScopeNotEntitled: a stream's (stream, sub-account) that the API refused with 403: neither
	// failed nor partial.
	ScopeNotEntitled ScopeStatus = "not_entitled"
)

// ScopeStatuses returns every scope status.
func ScopeStatuses() []ScopeStatus {
	return []ScopeStatus{ScopeSucceeded, ScopeFailed, ScopeWithheld, ScopeNotEntitled}
}

// StreamsSince is the migration that created the streams' ledger (stream_windows) and
// allowed ScopeNotEntitled.
const StreamsSince = 7

// ScopeStatusesAsOf returns the scope statuses that migration version allows: ScopeNotEntitled
// came with the streams (StreamsSince). genmigration renders the check from it.
func ScopeStatusesAsOf(version int64) []ScopeStatus {
	if version < StreamsSince {
		return []ScopeStatus{ScopeSucceeded, ScopeFailed, ScopeWithheld}
	}
	return ScopeStatuses()
}

// Trigger is what started a run, sync_runs.trigger. No CHECK constraint holds it: the column
// has always taken any text, and a run recorded by another version keeps its trigger.
type Trigger string

// The triggers.
const (
	TriggerManual   Trigger = "manual"   // `syncer sync`
	TriggerSchedule Trigger = "schedule" // the daemon's runs, its run on start included
	TriggerDemo     Trigger = "demo"     // `syncer demo`
	// TriggerStreams: a run of the streams' due windows (`syncer sync` and `demo` after their
	// entities, the daemon on streams.schedule). A stream run holds its run's key while it goes
	// (StreamRunBegin), so it is never taken for abandoned while alive.
	TriggerStreams Trigger = "streams"
	// TriggerBackfill: a run of `syncer backfill`, a stream run too.
	TriggerBackfill Trigger = "backfill"
)

// StreamTriggers are the triggers of stream runs.
func StreamTriggers() []Trigger { return []Trigger{TriggerStreams, TriggerBackfill} }

// WindowStatus is a stream window's status, stream_windows.status.
type WindowStatus string

// The window statuses.
const (
	// WindowPending: recorded, not read yet (or left due by a run's deadline).
	WindowPending WindowStatus = "pending"
	// WindowSucceeded: its last read published (first_read_at, and settled_at once settled).
	WindowSucceeded WindowStatus = "succeeded"
	// WindowFailed: its last read failed; it is read again, with backoff.
	WindowFailed WindowStatus = "failed"
	// WindowNotEntitled: the API answered 403 (the sub-account or user lacks the entitlement
	// the stream needs); read again after a day.
	WindowNotEntitled WindowStatus = "not_entitled"
)

// WindowStatuses returns every window status.
func WindowStatuses() []WindowStatus {
	return []WindowStatus{WindowPending, WindowSucceeded, WindowFailed, WindowNotEntitled}
}

// FieldChangeKind is what happened to a path of an entity's API objects,
// api_field_changes.change.
type FieldChangeKind string

// The field changes.
const (
	// FieldAdded: the path appeared.
	FieldAdded FieldChangeKind = "added"
	// FieldRemoved: no object carried the path, in a run where every scope of the entity
	// completed.
	FieldRemoved FieldChangeKind = "removed"
	// FieldTypeChanged: the path's set of non-null JSON types changed.
	FieldTypeChanged FieldChangeKind = "type_changed"
)

// FieldChangeKinds returns every field change.
func FieldChangeKinds() []FieldChangeKind {
	return []FieldChangeKind{FieldAdded, FieldRemoved, FieldTypeChanged}
}
