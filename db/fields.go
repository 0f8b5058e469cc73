package db

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/secretjson"
)

// Schema drift (docs/schema.md, "The API's fields"): while rows are staged, Stage
// records per entity the JSON paths its API objects carried and their JSON types (the scrub
// hashes each object's shape, secretjson.ScrubShape, and an object of a shape not seen before
// is scanned for its paths, secretjson.ScrubPaths); Plan reads what api_fields holds; the
// decisions say which entities' removals may be judged; Publish updates api_fields and writes
// api_field_changes in the run's transaction. A dry run computes the same and writes nothing.

// MaxFieldPaths bounds the paths api_fields holds per entity, and those a run records per
// entity. Objects keyed by data (an id as a key) would otherwise grow api_fields with the rows.
// Past the bound the paths kept do not depend on the order the objects arrive in: a run keeps
// the lexicographically smallest MaxFieldPaths paths it saw; api_fields keeps the paths it
// holds (until judged removed, which a path greater than every one the run kept never is: it
// is beyond the cap) and takes new ones, smallest first, while there is room. So a no-op run
// past the bound reports no change, and EntityFields.Overflow says that some paths were not
// recorded.
const MaxFieldPaths = 10_000

// maxShapes bounds the object shapes remembered per entity (a shape is an object's paths and
// types, in order; secretjson.Paths.Shape): an object of a shape seen before costs nothing
// past the scrub it shares. Past the bound, an object of a shape not remembered has its
// paths recorded (a second scan): slower, the same result. An entity's objects vary by their
// null and optional fields, a few dozen shapes.
const maxShapes = 16_384

// FieldChange is one api_field_changes row.
type FieldChange struct {
	Entity entity.Name
	Path   string // "isActive", "mainAccount.rcAccountId", "roles[].roleType"
	Change FieldChangeKind
	// OldType and NewType are the path's sorted non-null types joined with "|" ("boolean",
	// "number|string"), "null" for a path that held only nulls, "" on the side where the path
	// did not exist.
	OldType, NewType string
}

// EntityFields is what a run observed of one entity's API objects.
type EntityFields struct {
	Entity   entity.Name
	Objects  int64 // objects observed
	Paths    int   // distinct paths they carried
	Baseline bool  // the entity's first observation: recorded, no changes reported
	// Removals says whether paths no object carried were judged removed: only when every
	// scope of the entity completed (and succeeded) and the run listed all of them
	// (PublishParams.WholeEntities); past the cap, only for paths within it (MaxFieldPaths).
	Removals bool
	// Overflow says that paths were not recorded: more than MaxFieldPaths distinct ones, or
	// more new ones than api_fields had room for (see MaxFieldPaths).
	Overflow bool
}

// fieldSet is one entity's observation in a run: memory bounded by its distinct paths and
// shapes, not by its rows.
type fieldSet struct {
	types    map[string]secretjson.Type
	shapes   map[uint64]struct{}
	objects  int64
	overflow bool     // a path was dropped: types holds the smallest MaxFieldPaths
	kept     maxPaths // once types is full: its paths, the greatest on top
}

// maxPaths is a max-heap of paths (container/heap).
type maxPaths []string

func (h maxPaths) Len() int           { return len(h) }
func (h maxPaths) Less(i, j int) bool { return h[i] > h[j] }
func (h maxPaths) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *maxPaths) Push(x any)        { *h = append(*h, x.(string)) }
func (h *maxPaths) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// seen counts one object of shape h and reports whether its paths are recorded already; a
// new shape is remembered (while there is room) and the caller records its paths (add).
func (fs *fieldSet) seen(h uint64) bool {
	fs.objects++
	if fs.types == nil {
		fs.types, fs.shapes = map[string]secretjson.Type{}, map[uint64]struct{}{}
	}
	// A 64-bit hash: two shapes of one entity colliding, which would hide the second one's
	// paths, is about as likely as a disk returning wrong bytes.
	if _, ok := fs.shapes[h]; ok {
		return true
	}
	if len(fs.shapes) < maxShapes {
		fs.shapes[h] = struct{}{}
	}
	return false
}

// add records the paths p holds (secretjson.ScrubPaths of one object). Past MaxFieldPaths
// paths it keeps the smallest: which ones does not depend on the order objects arrive in, and
// a path dropped once is greater than MaxFieldPaths others, so it never comes back with a type
// missed.
func (fs *fieldSet) add(p *secretjson.Paths) {
	for path, t := range p.All() {
		old, ok := fs.types[string(path)]
		switch {
		case ok && old&t == 0:
			fs.types[string(path)] = old | t
		case ok:
		case len(fs.types) < MaxFieldPaths:
			fs.types[string(path)] = t
		default:
			fs.overflow = true
			fs.keepSmallest(path, t)
		}
	}
}

// keepSmallest records path (new, with type t) in place of the greatest path recorded when it
// is smaller.
func (fs *fieldSet) keepSmallest(path []byte, t secretjson.Type) {
	if len(fs.kept) == 0 {
		fs.kept = slices.Collect(maps.Keys(fs.types))
		heap.Init(&fs.kept)
	}
	if string(path) > fs.kept[0] {
		return
	}
	delete(fs.types, fs.kept[0])
	p := string(path)
	fs.types[p] = t
	fs.kept[0] = p
	heap.Fix(&fs.kept, 0)
}

// fieldWrites are the api_fields rows Publish writes, for every entity, and the changes.
type fieldWrites struct {
	upEntity, upPath, upTypes []string // upserts: json_types as names joined with ","
	delEntity, delPath        []string
	changes                   []FieldChange
}

// loadFields reads what api_fields holds, per entity, for the entities this run observed.
func (st *Stage) loadFields(ctx context.Context) error {
	st.stored = map[entity.Name]map[string]secretjson.Type{}
	observed := false
	for _, e := range st.ents {
		observed = observed || e.fields.objects > 0
	}
	if !observed {
		return nil
	}
	rows, err := st.conn.Query(ctx, st.s.sql(`SELECT entity, path, json_types FROM {{schema}}.api_fields`))
	if err != nil {
		return fmt.Errorf("reading api_fields: %w", err)
	}
	defer rows.Close()
	var (
		name  string
		path  string
		types []string
	)
	for rows.Next() {
		if err := rows.Scan(&name, &path, &types); err != nil {
			return fmt.Errorf("reading api_fields: %w", err)
		}
		m := st.stored[entity.Name(name)]
		if m == nil {
			m = map[string]secretjson.Type{}
			st.stored[entity.Name(name)] = m
		}
		var t secretjson.Type
		for _, n := range types {
			if x, ok := secretjson.ParseType(n); ok {
				t |= x
			}
		}
		m[path] = t
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading api_fields: %w", err)
	}
	return nil
}

// decideFields computes, from each observed entity's paths and what api_fields holds, the
// changes and the api_fields rows to write. whole reports whether an entity's removals may be
// judged (every scope of it completed, succeeded and was listed).
func (st *Stage) decideFields(whole func(entity.Name) bool) ([]EntityFields, *fieldWrites) {
	var summary []EntityFields
	w := &fieldWrites{}
	for _, e := range st.ents {
		if e.fields.objects == 0 {
			continue // nothing observed: not an observation (an empty listing says nothing of the API)
		}
		name := e.def.name
		summary = append(summary, w.decide(name, &e.fields, st.stored[name], whole(name)))
	}
	sortFieldChanges(w.changes)
	return summary, w
}

// decide adds to w the changes and writes of one entity's observation fs against what
// api_fields holds of it (stored); whole says whether its removals may be judged.
func (w *fieldWrites) decide(name entity.Name, fs *fieldSet, stored map[string]secretjson.Type, whole bool) EntityFields {
	ef := EntityFields{Entity: name, Objects: fs.objects, Paths: len(fs.types), Overflow: fs.overflow,
		Baseline: len(stored) == 0}
	ef.Removals = !ef.Baseline && whole
	var removed []string
	if ef.Removals {
		for _, path := range slices.Sorted(maps.Keys(stored)) {
			// Past the cap (fs.overflow), a stored path greater than every path kept may have
			// been carried: it is beyond the cap, not judged.
			if _, ok := fs.types[path]; !ok && (!fs.overflow || path < fs.kept[0]) {
				removed = append(removed, path)
			}
		}
	}
	room := MaxFieldPaths - len(stored) + len(removed) // for new paths, smallest first
	for _, path := range slices.Sorted(maps.Keys(fs.types)) {
		seen := fs.types[path]
		old, known := stored[path]
		types := seen
		switch {
		case !known && room <= 0:
			ef.Overflow = true
			continue
		case !known:
			room--
			if !ef.Baseline {
				w.changes = append(w.changes, FieldChange{Entity: name, Path: path, Change: FieldAdded, NewType: seen.String()})
			}
		default:
			// A partial observation may have missed a type: it only adds to the stored ones.
			if !ef.Removals {
				types |= old
			}
			if types.NonNull() != old.NonNull() {
				w.changes = append(w.changes, FieldChange{Entity: name, Path: path, Change: FieldTypeChanged,
					OldType: old.String(), NewType: types.String()})
			}
		}
		w.upEntity = append(w.upEntity, string(name))
		w.upPath = append(w.upPath, path)
		w.upTypes = append(w.upTypes, strings.Join(types.Names(), ","))
	}
	for _, path := range removed {
		w.changes = append(w.changes, FieldChange{Entity: name, Path: path, Change: FieldRemoved, OldType: stored[path].String()})
		w.delEntity = append(w.delEntity, string(name))
		w.delPath = append(w.delPath, path)
	}
	return ef
}

// writeFields writes the api_fields rows and api_field_changes of run inside tx.
func (st *Stage) writeFields(ctx context.Context, tx pgx.Tx, w *fieldWrites, run any) error {
	if len(w.upPath) > 0 {
		tag, err := tx.Exec(ctx, st.s.sql(`
INSERT INTO {{schema}}.api_fields (entity, path, json_types, first_seen_run_id, last_seen_run_id)
SELECT u.entity, u.path, string_to_array(u.types, ','), $4, $4
FROM unnest($1::text[], $2::text[], $3::text[]) AS u(entity, path, types)
ON CONFLICT (entity, path) DO UPDATE SET json_types = EXCLUDED.json_types, last_seen_run_id = EXCLUDED.last_seen_run_id`),
			w.upEntity, w.upPath, w.upTypes, run)
		if err != nil {
			return fmt.Errorf("recording api_fields: %w", err)
		}
		if err := expectRows(tag, int64(len(w.upPath)), "recording api_fields: %d rows written, expected %d"); err != nil {
			return err
		}
	}
	if len(w.delPath) > 0 {
		tag, err := tx.Exec(ctx, st.s.sql(`
DELETE FROM {{schema}}.api_fields f USING unnest($1::text[], $2::text[]) AS d(entity, path)
WHERE f.entity = d.entity AND f.path = d.path`), w.delEntity, w.delPath)
		if err != nil {
			return fmt.Errorf("removing api_fields: %w", err)
		}
		if err := expectRows(tag, int64(len(w.delPath)), "removing api_fields: %d rows deleted, expected %d (table changed during the run?)"); err != nil {
			return err
		}
	}
	if len(w.changes) == 0 {
		return nil
	}
	rows := make([][]any, 0, len(w.changes))
	for _, c := range w.changes {
		rows = append(rows, []any{run, string(c.Entity), c.Path, string(c.Change), nullIfEmpty(c.OldType), nullIfEmpty(c.NewType)})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{st.s.schema, "api_field_changes"},
		[]string{"run_id", "entity", "path", "change", "old_type", "new_type"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("recording api_field_changes: %w", err)
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// FieldStatus is what `syncer status` shows of schema drift.
type FieldStatus struct {
	Paths, Entities int64 // api_fields rows, and the entities they cover
	// RunID is the latest entity run (0 when there is none; stream runs record no drift) and
	// Changes its api_field_changes, in entity order then by path.
	RunID   int64
	Changes []FieldChange
	// LastChangeRunID is the latest run that recorded any change (0 when none has), and
	// LastChangeAt when it started.
	LastChangeRunID int64
	LastChangeAt    *time.Time
}

// FieldStatusGet reads the drift tables' summary and the latest entity run's changes.
func (s *Store) FieldStatusGet(ctx context.Context) (*FieldStatus, error) {
	var fs FieldStatus
	err := s.pool.QueryRow(ctx, s.sql(`
WITH last AS (SELECT max(run_id) AS run_id FROM {{schema}}.api_field_changes)
SELECT (SELECT count(*) FROM {{schema}}.api_fields),
       (SELECT count(DISTINCT entity) FROM {{schema}}.api_fields),
       coalesce((SELECT max(run_id) FROM {{schema}}.sync_runs WHERE trigger <> ALL ($1::text[])), 0),
       coalesce((SELECT run_id FROM last), 0),
       (SELECT r.started_at FROM {{schema}}.sync_runs r, last WHERE r.run_id = last.run_id)`), StreamTriggers()).Scan(
		&fs.Paths, &fs.Entities, &fs.RunID, &fs.LastChangeRunID, &fs.LastChangeAt)
	if err != nil {
		return nil, fmt.Errorf("reading api_fields: %w", err)
	}
	if fs.RunID == 0 || fs.LastChangeRunID != fs.RunID {
		return &fs, nil
	}
	rows, err := s.pool.Query(ctx, s.sql(`
SELECT entity, path, change, coalesce(old_type, ''), coalesce(new_type, '')
FROM {{schema}}.api_field_changes WHERE run_id = $1`), fs.RunID)
	if err != nil {
		return nil, fmt.Errorf("reading api_field_changes: %w", err)
	}
	fs.Changes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (FieldChange, error) {
		var c FieldChange
		err := r.Scan(&c.Entity, &c.Path, &c.Change, &c.OldType, &c.NewType)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading api_field_changes: %w", err)
	}
	sortFieldChanges(fs.Changes)
	return &fs, nil
}

// sortFieldChanges orders changes by entity (internal/entity's order), then path.
func sortFieldChanges(cs []FieldChange) {
	slices.SortStableFunc(cs, func(a, b FieldChange) int {
		return cmp.Or(cmp.Compare(a.Entity.Order(), b.Entity.Order()), strings.Compare(a.Path, b.Path))
	})
}
