package db

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"time"

	"github.com/evsync/evsync/internal/entity"
)

// Row is one row to stage (Stage.Add): its key, its typed values and the API object.
type Row struct {
	// S is the key's text part ("" for an entity without one); N holds its bigint parts, in
	// the description's key order.
	S string
	N [2]int64
	// Vals are the typed columns' values, in the description's Columns order. Each is nil (SQL
	// NULL) or a value of the column's kind: a string or *string (text), an int64 or *int64
	// (bigint), a bool or *bool (boolean), a time.Time or *time.Time (timestamptz, stored at
	// microsecond precision; a time Postgres cannot hold is stored as NULL), a []string
	// (text[]). Text is stored with NUL replaced by U+FFFD.
	Vals []any
	// Raw is the API object JSON; Stage scrubs its secret-bearing keys and computes the row
	// hash itself.
	Raw []byte
	// Object, when set, is the API object as listed where Raw is not it (an assignment row
	// keeps only the agentId of the agent object its listing sent): schema drift records its
	// paths instead of Raw's. It is not stored.
	Object []byte
	// Rank decides which copy is kept of a key added twice in one run (an agent listed in two
	// groups): the lower rank, of equal ranks the first added (Stage.SetDuplicateFunc).
	Rank Rank
}

// Rank orders the copies of one key added twice in one run: the lower Tier first, of equal
// tiers the lower N. A rule that must give the same answer on every run, whatever order the
// copies arrive in, gives distinct copies distinct ranks.
type Rank struct {
	Tier int8
	N    int64
}

// less reports whether r ranks before o.
func (r Rank) less(o Rank) bool {
	if r.Tier != o.Tier {
		return r.Tier < o.Tier
	}
	return r.N < o.N
}

// entityDef is an entity's description (internal/entity) as staging and publishing use it.
type entityDef struct {
	desc    *entity.Desc
	name    entity.Name
	idx     int
	keyCols []string      // the key columns, the text part first
	keyS    string        // column of the text key part, "" when none
	keyN    []string      // columns of the bigint key parts (0 to 2)
	cols    []string      // typed non-key columns
	kinds   []entity.Kind // ... and their kinds
	scoped  bool          // scope = the text key part (sub_account_id); else "all"
}

// newEntityDef reads description d. A description staging cannot hold (a text key part that
// is not first, more than two bigint parts) is a programming error and panics.
func newEntityDef(idx int, d *entity.Desc) *entityDef {
	def := &entityDef{desc: d, name: d.Name, idx: idx, scoped: d.Scoped()}
	for i, c := range d.Key {
		def.keyCols = append(def.keyCols, c.Name)
		switch {
		case c.Kind == entity.Text && i == 0:
			def.keyS = c.Name
		case c.Kind == entity.Int && len(def.keyN) < len(rowKey{}.n):
			def.keyN = append(def.keyN, c.Name)
		default:
			panic(fmt.Sprintf("db: %s: key column %s cannot be staged", d.Name, c.Name))
		}
	}
	if def.scoped && def.keyS == "" {
		panic(fmt.Sprintf("db: %s: a per-sub-account entity needs a text key part", d.Name))
	}
	for _, c := range d.Columns {
		def.cols = append(def.cols, c.Name)
		def.kinds = append(def.kinds, c.Kind)
	}
	return def
}

var entityDefs = func() []*entityDef {
	var defs []*entityDef
	for i, d := range entity.All() {
		defs = append(defs, newEntityDef(i, d))
	}
	return defs
}()

func entityByName(name entity.Name) *entityDef {
	for _, d := range entityDefs {
		if d.name == name {
			return d
		}
	}
	return nil
}

// rowKey is an entity key: the text part s and/or the bigint parts n (unused parts 0).
type rowKey struct {
	s string
	n [2]int64
}

// scope returns the scope a key belongs to.
func (d *entityDef) scope(k rowKey) string {
	return d.desc.ScopeOf(k.s)
}

// rowHasher hashes the typed values and scrubbed raw of a row into a canonical encoding.
type rowHasher struct {
	h   hash.Hash
	buf []byte
}

func newRowHasher() *rowHasher { return &rowHasher{h: sha256.New(), buf: make([]byte, 0, 64)} }

// sum hashes vals (typed column values in table order) and raw.
func (rh *rowHasher) sum(vals []any, raw []byte) [32]byte {
	rh.h.Reset()
	b := rh.buf[:0]
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b = append(b, 0)
		case string:
			b = appendHashString(b, x)
		case *string: // as its value: the same row hashes the same either way
			b = appendHashString(b, *x)
		case bool:
			b = appendHashBool(b, x)
		case *bool:
			b = appendHashBool(b, *x)
		case time.Time:
			b = append(b, 4)
			b = binary.LittleEndian.AppendUint64(b, uint64(x.UnixMicro()))
		case int64:
			b = append(b, 2)
			b = binary.LittleEndian.AppendUint64(b, uint64(x))
		case *int64:
			b = append(b, 2)
			b = binary.LittleEndian.AppendUint64(b, uint64(*x))
		case []string: // never nil: pa returns nil for a nil slice
			b = append(b, 5)
			b = binary.LittleEndian.AppendUint64(b, uint64(len(x)))
			for _, s := range x {
				b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
				b = append(b, s...)
			}
		case []byte: // a JSON column's value, scrubbed
			b = appendHashBytes(b, x)
		case json.RawMessage:
			b = appendHashBytes(b, x)
		default:
			panic("db: unhashable value type")
		}
		if len(b) > 4096 {
			rh.h.Write(b)
			b = b[:0]
		}
	}
	b = append(b, 6)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(raw)))
	rh.h.Write(b)
	rh.h.Write(raw)
	rh.buf = b[:0]
	var out [32]byte
	rh.h.Sum(out[:0])
	return out
}

func appendHashString(b []byte, s string) []byte {
	b = append(b, 1)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

func appendHashBytes(b, x []byte) []byte {
	b = append(b, 7)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(x)))
	return append(b, x...)
}

func appendHashBool(b []byte, v bool) []byte {
	if v {
		return append(b, 3, 1)
	}
	return append(b, 3, 0)
}
