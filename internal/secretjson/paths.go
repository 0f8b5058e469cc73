package secretjson

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"iter"
	"math/bits"
	"slices"
	"strings"
)

// Type is a set of JSON types, one bit each.
type Type uint8

// The JSON types.
const (
	TypeArray Type = 1 << iota
	TypeBoolean
	TypeNull
	TypeNumber
	TypeObject
	TypeString
)

// typeNames are the types' names, in the order of their bits (sorted by name).
var typeNames = [...]string{"array", "boolean", "null", "number", "object", "string"}

// Names returns the names of the types in t, sorted.
func (t Type) Names() []string {
	var out []string
	for i, n := range typeNames {
		if t&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// NonNull returns t without null.
func (t Type) NonNull() Type { return t &^ TypeNull }

// String returns the non-null types of t, sorted and joined with "|" ("boolean",
// "number|string"), as api_field_changes records them; a set of null alone is "null".
func (t Type) String() string {
	if nn := t.NonNull(); nn != 0 {
		return strings.Join(nn.Names(), "|")
	}
	if t == TypeNull {
		return "null"
	}
	return ""
}

// ParseType reads a type name ("string"); ok is false for a name that is none.
func ParseType(name string) (t Type, ok bool) {
	for i, n := range typeNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

// typeOf is the type of the JSON value whose first byte is c.
func typeOf(c byte) Type {
	switch c {
	case '{':
		return TypeObject
	case '[':
		return TypeArray
	case '"':
		return TypeString
	case 't', 'f':
		return TypeBoolean
	case 'n':
		return TypeNull
	}
	return TypeNumber
}

// MaxPathSegments is how deep Paths looks into an object: a path is at most three segments,
// each a key or an array's elements ([]): "isActive", "mainAccount.rcAccountId",
// "roles[].roleType". A value deeper than that is not recorded (its parent's type, object or
// array, is).
const MaxPathSegments = 3

// maxPathLen bounds one recorded path in bytes; a longer one (a hostile key) is not recorded,
// nor anything below it.
const maxPathLen = 1024

// Paths collects the JSON paths of the value ScrubPaths scans and the type of each value at
// them, names only, never values: an object's members are "key" (nested: "parent.key"), an
// array's elements "parent[]". Secret-bearing members are recorded too, by name, though Scrub
// removes them. Elements of one array that have the same paths and types are recorded once, so
// what Paths holds for objects of the same shape is the same bytes whatever their arrays'
// lengths (Bytes), and ScrubShape hashes it the same (Shape). A key is one segment whatever it
// holds: a ".", "[", "]" or backslash in it is escaped with a backslash (escapeSeg), so the
// key "a.b" is the path `a\.b`, apart from the key b of an object a ("a.b"), and the key "x[]"
// is `x\[\]`, apart from the elements of an array x ("x[]").
type Paths struct {
	tok   []byte // tokens: a type byte, the path's length (uint16), the path
	path  []byte // the scanner's current path, kept for the next scan
	shape uint64 // ScrubShape's hash
}

// Reset empties p, keeping its memory.
func (p *Paths) Reset() { p.tok, p.shape = p.tok[:0], 0 }

// Shape returns the hash ScrubShape computed of the object's shape: its paths and their
// types, in order, array elements of one shape once, exactly what ScrubPaths would record.
// Objects whose shapes hash the same record the same paths (short of a 64-bit collision: no
// key, type or length aliases another), so a caller that has seen a shape need not record its
// paths again. The hash is seeded per process: compare shapes only within one.
func (p *Paths) Shape() uint64 { return p.shape }

// Bytes returns p's encoding: equal for equal paths and types in the same order.
func (p *Paths) Bytes() []byte { return p.tok }

// All yields every recorded path (valid only until the next call) with the type of the value
// there; a path appears once per type it was seen with and may appear more than once.
func (p *Paths) All() iter.Seq2[[]byte, Type] {
	return func(yield func([]byte, Type) bool) {
		for b := p.tok; len(b) >= 3; {
			t, n := Type(b[0]), int(binary.LittleEndian.Uint16(b[1:3]))
			if !yield(b[3:3+n], t) {
				return
			}
			b = b[3+n:]
		}
	}
}

// add records path with type t and reports whether it did (not for a path too long).
func (p *Paths) add(path []byte, t Type) bool {
	if len(path) > maxPathLen {
		return false
	}
	p.tok = append(p.tok, byte(t), byte(len(path)), byte(len(path)>>8))
	p.tok = append(p.tok, path...)
	return true
}

// addLeaf records the path prefix + seg (joined with a dot unless seg is an array's
// elements) with type t, without extending the scanner's path: nothing is below a leaf.
func (p *Paths) addLeaf(prefix, seg []byte, elems bool, t Type) {
	n := len(prefix) + len(seg)
	dot := !elems && len(prefix) > 0
	if dot {
		n++
	}
	if n > maxPathLen {
		return
	}
	// One growth check and plain copies: this runs for every key of every row.
	i := len(p.tok)
	if cap(p.tok)-i < 3+n {
		p.tok = slices.Grow(p.tok, 3+n)
	}
	tok := p.tok[:i+3+n]
	tok[i], tok[i+1], tok[i+2] = byte(t), byte(n), byte(n>>8)
	i += 3
	if len(prefix) > 0 {
		i += copy(tok[i:], prefix)
		if dot {
			tok[i] = '.'
			i++
		}
	}
	copy(tok[i:], seg)
	p.tok = tok
}

// ScrubPaths is Scrub that also records in p (reset first) the paths and types of raw, in the
// same pass.
func ScrubPaths(raw []byte, p *Paths) ([]byte, error) {
	p.Reset()
	sc := scrubber{in: raw, paths: p, path: p.path[:0]}
	out, err := sc.scrub()
	p.path = sc.path
	return sc.finish(out, err)
}

// ScrubShape is Scrub that also computes, in the same pass, the hash of raw's shape
// (Paths.Shape) into p, recording no path: cheaper than ScrubPaths when most objects have a
// shape seen before. Run ScrubPaths on an object whose shape is new.
func ScrubShape(raw []byte, p *Paths) ([]byte, error) {
	p.Reset()
	sc := scrubber{in: raw, paths: p, shape: true, h: shapeSeed}
	out, err := sc.scrub()
	p.shape = mix(sc.h, shapeLeave)
	return sc.finish(out, err)
}

// The shape hash: each key is hashed with the type of its value (keyHash), and the running
// hash chains those, markers for the end of an object or array, and an array's elements,
// which are hashed apart and mixed in once per distinct element shape (as ScrubPaths records
// them once). wyhash's multiply-fold mixing (mum) combines the words.
const (
	shapeSeed  = 0xa0761d6478bd642f
	shapeK1    = 0xe7037ed1a0b428db
	shapeK2    = 0x8ebc6af09c88c6e3
	shapeLeave = 0x589965cc75374cc3
	shapeElems = 0x1d8e4e27c47d124f
)

func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func mix(h, v uint64) uint64 { return mum(h^shapeK1, v^shapeK2) }

// chain appends v, itself a strong hash (keyHash, a finished element), to the running hash h:
// FNV's xor-multiply over 64-bit words, one multiplication per key. Order matters.
func chain(h, v uint64) uint64 { return (h ^ v) * 0x100000001b3 }

// keySeed seeds the keys' hash: a shape is compared only within the process that hashed it.
var keySeed = maphash.MakeSeed()

// keyHash hashes one key with the type t of its value. The key's bytes (their number
// included) are hashed whole, by maphash, and the type is mixed in apart, so that no key, type
// or length offsets another: an earlier version XORed the type and the length into the key's
// last bytes, and "phoneLoginEnabld": null hashed as "phoneLoginEnablb": true.
func keyHash(k []byte, t Type) uint64 {
	return mix(maphash.Bytes(keySeed, k), uint64(t))
}

// elementShape hashes one array element apart and mixes it into the array's hash when no
// earlier element of the array had its shape.
func (s *scrubber) elementShape(depth int, shapes *arrayShapes) error {
	c := s.in[s.pos]
	parent := s.h
	s.h = chain(shapeElems, uint64(typeOf(c)))
	var err error
	if c == '{' || c == '[' {
		s.segs++
		err = s.value(depth)
		s.segs--
	} else {
		err = s.value(depth)
	}
	eh := s.h
	s.h = parent
	for i := range shapes.n {
		if shapes.hashes[i] == eh {
			return err
		}
	}
	if shapes.n < maxElemShapes {
		shapes.hashes[shapes.n] = eh
		shapes.n++
	}
	s.h = chain(s.h, mix(eh, shapeLeave)) // the element's chain, finished
	return err
}

// enter extends the current path with seg (a key; "[]" for an array's elements, joined
// without a dot) and records it with the type of the value at pos. It returns what leave
// restores. Past MaxPathSegments, or for a path too long, nothing is recorded at this depth or
// below.
func (s *scrubber) enter(seg []byte, elems bool) (plen, psegs int) {
	plen, psegs = len(s.path), s.segs
	if s.segs >= MaxPathSegments {
		return plen, psegs
	}
	if !elems && plen > 0 {
		s.path = append(s.path, '.')
	}
	s.path = append(s.path, seg...)
	s.segs++
	if s.pos >= len(s.in) || !s.paths.add(s.path, typeOf(s.in[s.pos])) {
		s.segs = MaxPathSegments
	}
	return plen, psegs
}

// leave restores the path enter extended.
func (s *scrubber) leave(plen, psegs int) {
	s.path, s.segs = s.path[:plen], psegs
}

// arrayShapes remembers, for one array, where in Paths the distinct element shapes recorded
// so far lie, so that an element shaped like an earlier one is recorded once.
type arrayShapes struct {
	spans  [maxElemShapes][2]int // ScrubPaths
	hashes [maxElemShapes]uint64 // ScrubShape
	n      int
}

// maxElemShapes bounds the distinct element shapes one array compares against; elements past
// that many shapes are recorded as they come (more bytes, the same paths).
const maxElemShapes = 8

// dedupe drops the tokens of the element recorded from start on when an earlier element of
// the array recorded the same ones.
func (s *scrubber) dedupe(a *arrayShapes, start int) {
	tok := s.paths.tok
	elem := tok[start:]
	for i := range a.n {
		sp := a.spans[i]
		if bytes.Equal(tok[sp[0]:sp[1]], elem) {
			s.paths.tok = tok[:start]
			return
		}
	}
	if a.n < maxElemShapes {
		a.spans[a.n] = [2]int{start, len(tok)}
		a.n++
	}
}

// pathSpecial are the bytes escapeSeg escapes: what joins segments ("." and "[]") and the
// escape itself.
const pathSpecial = `.[]\`

// escapeSeg appends key to buf as one path segment: each byte of pathSpecial in it is preceded
// by a backslash, so that no key reads as more segments than one, nor as another key.
func escapeSeg(buf, key []byte) []byte {
	for _, c := range key {
		if strings.IndexByte(pathSpecial, c) >= 0 {
			buf = append(buf, '\\')
		}
		buf = append(buf, c)
	}
	return buf
}

// elemsSeg is the segment of an array's elements.
var elemsSeg = []byte("[]")
