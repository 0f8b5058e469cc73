package secretjson

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pathList renders what p recorded as "path type" lines, in order.
func pathList(p *Paths) []string {
	var out []string
	for path, t := range p.All() {
		out = append(out, fmt.Sprintf("%s %s", path, t.Names()))
	}
	return out
}

func TestScrubPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"top-level keys and their types", `{"a":"x","b":1.5e3,"c":true,"d":false,"e":null,"f":{},"g":[]}`,
			[]string{"a [string]", "b [number]", "c [boolean]", "d [boolean]", "e [null]", "f [object]", "g [array]"}},
		// docs/schema.md's examples: a nested key, and the keys of an array's objects.
		{"nested and array paths", `{"isActive":true,"mainAccount":{"rcAccountId":"400"},"roles":[{"roleType":"ADMIN"}]}`,
			[]string{"isActive [boolean]", "mainAccount [object]", "mainAccount.rcAccountId [string]",
				"roles [array]", "roles[] [object]", "roles[].roleType [string]"}},
		{"secret keys by name, never their values", `{"password":"hunter2","sipPassword":null,"credentials":{"apiKey":"k"}}`,
			[]string{"password [string]", "sipPassword [null]", "credentials [object]", "credentials.apiKey [string]"}},
		{"three segments at most", `{"a":{"b":{"c":{"d":1}}},"l":[[[1]]]}`,
			[]string{"a [object]", "a.b [object]", "a.b.c [object]", "l [array]", "l[] [array]", "l[][] [array]"}},
		{"elements of one shape once", `{"ids":[1,2,3,4],"skills":[{"id":1,"n":"a"},{"id":2,"n":"b"},{"id":3,"n":null}]}`,
			[]string{"ids [array]", "ids[] [number]", "skills [array]",
				"skills[] [object]", "skills[].id [number]", "skills[].n [string]",
				"skills[] [object]", "skills[].id [number]", "skills[].n [null]"}},
		{"mixed element types", `{"m":[1,"a",1,null,"b"]}`,
			[]string{"m [array]", "m[] [number]", "m[] [string]", "m[] [null]"}},
		{"escaped key decoded", `{"caf\u00e9":1,"a\"b":2}`, []string{"café [number]", `a"b [number]`}},
		// Issue 21: a key holding ".", "[", "]" or the escape "\" is escaped, so that it reads as
		// one segment and cannot merge with a nested path.
		{"key with a dot vs a nested key", `{"a.b":1,"a":{"b":"x"}}`,
			[]string{`a\.b [number]`, "a [object]", "a.b [string]"}},
		{"key with brackets vs an array", `{"x[]":1,"x":[1],"x[].y":2,"x\\":3,"z":{"w[0]":{"v.":1}}}`,
			[]string{`x\[\] [number]`, "x [array]", "x[] [number]", `x\[\]\.y [number]`, `x\\ [number]`,
				"z [object]", `z.w\[0\] [object]`, `z.w\[0\].v\. [number]`}},
		{"whitespace ignored", " {\n \"a\" : [ { \"b\" : 1 } ] \n} ", []string{"a [array]", "a[] [object]", "a[].b [number]"}},
		{"empty", `{}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var p Paths
			out, err := ScrubPaths([]byte(tt.in), &p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, pathList(&p)); diff != "" {
				t.Errorf("paths (-want +got):\n%s", diff)
			}
			// The scrubbed output is Scrub's.
			want, _ := Scrub([]byte(tt.in))
			if string(out) != string(want) {
				t.Errorf("ScrubPaths output %s, Scrub %s", out, want)
			}
		})
	}
}

// Objects of one shape record the same bytes whatever their arrays' lengths, and a reused
// Paths starts empty.
func TestScrubPathsShape(t *testing.T) {
	t.Parallel()
	var p Paths
	if _, err := ScrubPaths([]byte(`{"a":1,"l":[{"x":1},{"x":2},{"x":3}]}`), &p); err != nil {
		t.Fatal(err)
	}
	first := slices.Clone(p.Bytes())
	if _, err := ScrubPaths([]byte(`{"a":7,"l":[{"x":9}]}`), &p); err != nil {
		t.Fatal(err)
	}
	if string(first) != string(p.Bytes()) {
		t.Errorf("same shape, different bytes:\n%q\n%q", first, p.Bytes())
	}
	if _, err := ScrubPaths([]byte(`{"a":"7"}`), &p); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a [string]"}, pathList(&p)); diff != "" {
		t.Errorf("reused Paths (-want +got):\n%s", diff)
	}
}

// Invalid JSON is ScrubPaths' error as it is Scrub's, and a key too long is not recorded.
func TestScrubPathsBad(t *testing.T) {
	t.Parallel()
	var p Paths
	if _, err := ScrubPaths([]byte(`{"a":[1,}`), &p); err == nil {
		t.Error("invalid JSON: no error")
	}
	long := make([]byte, maxPathLen+1)
	for i := range long {
		long[i] = 'k'
	}
	if _, err := ScrubPaths([]byte(`{"`+string(long)+`":{"x":1},"b":2}`), &p); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b [number]"}, pathList(&p)); diff != "" {
		t.Errorf("long key (-want +got):\n%s", diff)
	}
}

func TestTypeString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		t    Type
		want string
	}{
		{TypeBoolean, "boolean"},
		{TypeString | TypeNumber, "number|string"},
		{TypeString | TypeNull, "string"},
		{TypeNull, "null"},
		{0, ""},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("%v.String() = %q, want %q", tt.t.Names(), got, tt.want)
		}
	}
	for _, n := range typeNames {
		if ty, ok := ParseType(n); !ok || ty.Names()[0] != n {
			t.Errorf("ParseType(%q) = %v, %v", n, ty, ok)
		}
	}
}

// BenchmarkScrubPaths is BenchmarkScrub's object with its paths recorded (the sink's cost for
// an object of a new shape, on top of ScrubShape's).
func BenchmarkScrubPaths(b *testing.B) {
	in := []byte(benchObject)
	b.SetBytes(int64(len(in)))
	var p Paths
	for b.Loop() {
		if _, err := ScrubPaths(in, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// ScrubPaths and ScrubShape scrub exactly as Scrub does, each path ScrubPaths records is one
// type, and two inputs of one shape record the same paths.
func FuzzScrubPaths(f *testing.F) {
	f.Add([]byte(benchObject))
	f.Add([]byte(`{"a":[[{"b":{"c":[1,{"d":2}]}}]],"password":{"x":[1]}}`))
	f.Add([]byte(`{"k\u002ey":[null,true,"s",{"t":1}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		want, werr := Scrub(in)
		var p Paths
		got, err := ScrubPaths(in, &p)
		if (werr == nil) != (err == nil) || string(want) != string(got) {
			t.Fatalf("ScrubPaths = %q, %v; Scrub = %q, %v", got, err, want, werr)
		}
		for path, ty := range p.All() {
			if ty == 0 || ty&(ty-1) != 0 {
				t.Fatalf("path %q: type %08b is not one type", path, ty)
			}
		}
		var sp Paths
		if got, err := ScrubShape(in, &sp); (werr == nil) != (err == nil) || string(want) != string(got) {
			t.Fatalf("ScrubShape = %q, %v; Scrub = %q, %v", got, err, want, werr)
		}
		if err != nil {
			return
		}
		// The input with every number and string replaced has the input's shape.
		alt := altValues(in)
		var ap, aps Paths
		if _, err := ScrubPaths(alt, &ap); err != nil {
			return // the replacement broke the input (a key that looked like a value)
		}
		if _, err := ScrubShape(alt, &aps); err != nil {
			t.Fatal(err)
		}
		same := aps.Shape() == sp.Shape()
		if same != (string(ap.Bytes()) == string(p.Bytes())) {
			t.Fatalf("shapes equal %v, paths equal %v:\n%s\n%s", same, !same, in, alt)
		}
	})
}

// Objects of one shape hash the same whatever their values and array lengths; a key, a type,
// a nesting or an element shape more or less changes the hash.
func TestScrubShape(t *testing.T) {
	t.Parallel()
	shape := func(in string) uint64 {
		t.Helper()
		var p Paths
		out, err := ScrubShape([]byte(in), &p)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := Scrub([]byte(in)); string(out) != string(want) {
			t.Errorf("ScrubShape output %s, Scrub %s", out, want)
		}
		return p.Shape()
	}
	base := `{"a":1,"b":"x","n":{"c":true},"l":[{"d":1},{"d":2}],"password":"s"}`
	same := []string{
		`{"a":2,"b":"yy","n":{"c":false},"l":[{"d":7}],"password":"other"}`,
		` { "a" : 3 , "b":"z","n":{"c":true},"l":[{"d":1},{"d":2},{"d":3}],"password":"" } `,
	}
	differ := []string{
		`{"a":1,"b":"x","n":{"c":true},"l":[{"d":1},{"d":2}]}`,                       // a key less (a secret one)
		`{"a":"1","b":"x","n":{"c":true},"l":[{"d":1},{"d":2}],"password":"s"}`,      // a type
		`{"a":1,"b":"x","n":{"c":true},"l":[{"d":1},{"e":2}],"password":"s"}`,        // an element shape more
		`{"b":"x","a":1,"n":{"c":true},"l":[{"d":1},{"d":2}],"password":"s"}`,        // the order
		`{"a":1,"b":"x","n":{},"c":true,"l":[{"d":1},{"d":2}],"password":"s"}`,       // the nesting
		`{"a":1,"b":"x","n":{"c":true},"l":[],"password":"s"}`,                       // no elements
		`{"a":1,"bb":"x","n":{"c":true},"l":[{"d":1},{"d":2}],"password":"s"}`,       // a name
		`{"a":1,"b":"x","n":{"c":true},"l":[{"d":1},{"d":2}],"passwordAndMore":"s"}`, // a long name
	}
	want := shape(base)
	for _, in := range same {
		if got := shape(in); got != want {
			t.Errorf("%s: shape differs from %s", in, base)
		}
	}
	seen := map[uint64]string{want: base}
	for _, in := range differ {
		got := shape(in)
		if prev, ok := seen[got]; ok {
			t.Errorf("%s: same shape as %s", in, prev)
		}
		seen[got] = in
	}
	// Below MaxPathSegments nothing counts, as nothing is recorded there.
	if shape(`{"a":{"b":{"c":{"d":1}}}}`) != shape(`{"a":{"b":{"c":{"e":"x","f":[1]}}}}`) {
		t.Error("a difference below three segments changed the shape")
	}
	// Keys of every length reach the hash.
	long := map[uint64]bool{}
	for n := 1; n <= 40; n++ {
		k := strings.Repeat("k", n)
		long[shape(`{"`+k+`":1}`)] = true
		long[shape(`{"`+k[:n-1]+`j":1}`)] = true
	}
	if len(long) != 80 {
		t.Errorf("keys of 1 to 40 bytes: %d distinct shapes of 80", len(long))
	}
}

// altValues replaces the digits of in with other digits and the lower-case letters of its
// strings' values with others: the same shape, other values (keys keep their letters).
func altValues(in []byte) []byte {
	out := slices.Clone(in)
	inStr, isKey, escape := false, false, false
	for i, c := range out {
		switch {
		case escape:
			escape = false
		case inStr && c == '\\':
			escape = true
		case c == '"':
			if !inStr {
				// A string is a key when the next non-space byte after it is a colon.
				j := i + 1
				for j < len(in) && in[j] != '"' {
					if in[j] == '\\' {
						j++
					}
					j++
				}
				k := j + 1
				for k < len(in) && (in[k] == ' ' || in[k] == '\t' || in[k] == '\n' || in[k] == '\r') {
					k++
				}
				isKey = k < len(in) && in[k] == ':'
			}
			inStr = !inStr
		case inStr && !isKey && c >= 'a' && c <= 'y':
			out[i] = c + 1
		case !inStr && c >= '1' && c <= '8':
			out[i] = c + 1
		}
	}
	return out
}

// BenchmarkScrubShape is BenchmarkScrub's object with its shape hashed (the sink's cost per
// row with field tracking, for an object of a shape seen before).
func BenchmarkScrubShape(b *testing.B) {
	in := []byte(benchObject)
	b.SetBytes(int64(len(in)))
	var p Paths
	for b.Loop() {
		if _, err := ScrubShape(in, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// Keys that differ in one byte, in length or in the type of their value never share a shape
// (issue 21: the type and the length were XORed into the key's bytes, so that
// "phoneLoginEnabld": null and "phoneLoginEnablb": true, and keys whose length and last bytes
// offset each other, hashed the same and the second key never reached api_fields). For
// random keys of 0 to 40 bytes (a seeded loop): every byte at every position, every key one
// byte shorter or longer, each with every type, all hash apart.
func TestScrubShapeKeyVariantsDiffer(t *testing.T) {
	t.Parallel()
	values := []string{`[]`, `true`, `null`, `1`, `{}`, `"s"`} // one of each type
	shape := func(key []byte, v string) uint64 {
		var p Paths
		in := append(append(append([]byte(`{"`), key...), `":`...), v...)
		if _, err := ScrubShape(append(in, '}'), &p); err != nil {
			t.Fatalf("ScrubShape(%s}): %v", in, err)
		}
		return p.Shape()
	}
	// The reported collisions, each pair listed apart so that a failure names it.
	for _, pair := range [][2]string{
		{`{"phoneLoginEnabld":null}`, `{"phoneLoginEnablb":true}`},
		{`{"xxxxcbbbwxyz":1}`, `{"xxxxcbbbbwxyz":1}`}, // 12 and 13 bytes: the length offsets a byte
	} {
		var a, b Paths
		if _, err := ScrubShape([]byte(pair[0]), &a); err != nil {
			t.Fatal(err)
		}
		if _, err := ScrubShape([]byte(pair[1]), &b); err != nil {
			t.Fatal(err)
		}
		if a.Shape() == b.Shape() {
			t.Errorf("%s and %s share a shape", pair[0], pair[1])
		}
	}
	r := rand.New(rand.NewPCG(21, 5))
	alphabet := []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.$ ")
	for range 60 {
		key := make([]byte, r.IntN(41))
		for i := range key {
			key[i] = alphabet[r.IntN(len(alphabet))]
		}
		seen := map[uint64]string{}
		check := func(k []byte) {
			for _, v := range values {
				h := shape(k, v)
				if prev, ok := seen[h]; ok {
					t.Fatalf("%s and %q: %s share a shape", prev, k, v)
				}
				seen[h] = fmt.Sprintf("%q: %s", k, v)
			}
		}
		check(key)
		variant := slices.Clone(key)
		for i := range key {
			for _, c := range alphabet {
				if c != key[i] {
					variant[i] = c
					check(variant)
				}
			}
			variant[i] = key[i]
		}
		if len(key) > 0 {
			check(key[:len(key)-1])
		}
		for _, c := range alphabet {
			check(append(slices.Clone(key), c))
		}
	}
}
