package db

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// spool is a local copy of everything a Stage wrote to its temporary tables, in order: the
// rows of each COPY and each staged row it deleted. The tables die with their session; after
// a reconnection, replaying the spool rebuilds them exactly, so a run never fetches again what
// it fetched once. It lives in a temporary file (memory stays bounded by a buffer), created on
// the first write and unlinked at once where the system allows it (Unix): a process that dies
// leaves none of the rows behind; close removes it otherwise. A spool that cannot be written
// (a full disk) does not fail the run: it stops, and only a reconnection, which needs it,
// fails then (err).
type spool struct {
	dir string // where the file is created ("" for the system's temporary directory)
	f   *os.File
	w   *bufio.Writer
	n   int64 // records written
	buf []byte
	err error // the write that failed: the spool is incomplete
}

// Spool record kinds.
const (
	spoolRows   byte = 'c' // a COPY: entity index, row count, then each row's values
	spoolDelete byte = 'd' // a DELETE of one staged row: entity index, then the key values
)

// Spooled value tags.
const (
	tagNil byte = iota
	tagString
	tagInt
	tagTrue
	tagFalse
	tagTime
	tagStrings
	tagBytes
)

// spoolRecord is one record read back.
type spoolRecord struct {
	kind byte
	ent  int
	rows [][]any // spoolRows: the rows; spoolDelete: one row, the key values
}

func (sp *spool) open() error {
	if sp.f != nil {
		return nil
	}
	f, err := os.CreateTemp(sp.dir, "evsync-stage-*.spool")
	if err != nil {
		return fmt.Errorf("creating the staging spool: %w", err)
	}
	_ = os.Remove(f.Name()) // the open file lives on, nameless; close tries again where it could not
	sp.f, sp.w = f, bufio.NewWriterSize(f, 256<<10)
	return nil
}

// write appends one record; after an error it writes nothing more (sp.err).
func (sp *spool) write(kind byte, ent int, rows [][]any) {
	if sp.err != nil {
		return
	}
	sp.err = sp.append(kind, ent, rows)
}

func (sp *spool) append(kind byte, ent int, rows [][]any) error {
	if err := sp.open(); err != nil {
		return err
	}
	b := append(sp.buf[:0], kind)
	b = binary.AppendUvarint(b, uint64(ent))
	b = binary.AppendUvarint(b, uint64(len(rows)))
	for _, row := range rows {
		b = binary.AppendUvarint(b, uint64(len(row)))
		for _, v := range row {
			var err error
			if b, err = appendValue(b, v); err != nil {
				return fmt.Errorf("writing the staging spool: %w", err)
			}
		}
	}
	sp.buf = b
	if _, err := sp.w.Write(b); err != nil {
		return fmt.Errorf("writing the staging spool: %w", err)
	}
	sp.n++
	return nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case string:
		return appendString(append(b, tagString), x), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), x), nil
	case bool:
		if x {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case time.Time:
		// Seconds and nanoseconds: microseconds since 1970 overflow an int64 before the
		// latest time Postgres holds.
		b = binary.AppendVarint(append(b, tagTime), x.Unix())
		return binary.AppendUvarint(b, uint64(x.Nanosecond())), nil
	case []string:
		if x == nil {
			return append(b, tagNil), nil
		}
		b = binary.AppendUvarint(append(b, tagStrings), uint64(len(x)))
		for _, s := range x {
			b = appendString(b, s)
		}
		return b, nil
	case []byte:
		if x == nil {
			return append(b, tagNil), nil
		}
		b = binary.AppendUvarint(append(b, tagBytes), uint64(len(x)))
		return append(b, x...), nil
	}
	return nil, fmt.Errorf("a %T value cannot be spooled", v)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// replay calls fn with each record, in the order written.
func (sp *spool) replay(fn func(r *spoolRecord) error) error {
	if sp.err != nil {
		return fmt.Errorf("the staging spool is incomplete: %w", sp.err)
	}
	if sp.f == nil {
		return nil
	}
	if err := sp.w.Flush(); err != nil {
		return fmt.Errorf("writing the staging spool: %w", err)
	}
	rd := &spoolReader{r: bufio.NewReaderSize(io.NewSectionReader(sp.f, 0, 1<<62), 256<<10)}
	for range sp.n {
		rec, err := rd.record()
		if err != nil {
			return fmt.Errorf("reading the staging spool: %w", err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// close closes the spool's file and removes it, if it still has a name.
func (sp *spool) close() {
	if sp.f == nil {
		return
	}
	_ = sp.f.Close()
	_ = os.Remove(sp.f.Name())
	sp.f, sp.w = nil, nil
}

// spoolReader reads records back.
type spoolReader struct {
	r *bufio.Reader
}

var errSpoolCorrupt = errors.New("corrupt record")

func (rd *spoolReader) record() (*spoolRecord, error) {
	kind, err := rd.r.ReadByte()
	if err != nil {
		return nil, err
	}
	ent, err := binary.ReadUvarint(rd.r)
	if err != nil {
		return nil, err
	}
	n, err := binary.ReadUvarint(rd.r)
	if err != nil {
		return nil, err
	}
	rec := &spoolRecord{kind: kind, ent: int(ent), rows: make([][]any, n)}
	for i := range rec.rows {
		cols, err := binary.ReadUvarint(rd.r)
		if err != nil {
			return nil, err
		}
		row := make([]any, cols)
		for j := range row {
			if row[j], err = rd.value(); err != nil {
				return nil, err
			}
		}
		rec.rows[i] = row
	}
	return rec, nil
}

func (rd *spoolReader) value() (any, error) {
	tag, err := rd.r.ReadByte()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagNil:
		return nil, nil
	case tagString:
		return rd.string()
	case tagInt:
		return binary.ReadVarint(rd.r)
	case tagTrue:
		return true, nil
	case tagFalse:
		return false, nil
	case tagTime:
		sec, err := binary.ReadVarint(rd.r)
		if err != nil {
			return nil, err
		}
		ns, err := binary.ReadUvarint(rd.r)
		if err != nil || ns >= 1e9 {
			return nil, cmp.Or(err, errSpoolCorrupt)
		}
		return time.Unix(sec, int64(ns)).UTC(), nil
	case tagStrings:
		n, err := binary.ReadUvarint(rd.r)
		if err != nil {
			return nil, err
		}
		out := make([]string, n)
		for i := range out {
			if out[i], err = rd.string(); err != nil {
				return nil, err
			}
		}
		return out, nil
	case tagBytes:
		return rd.bytes()
	}
	return nil, errSpoolCorrupt
}

func (rd *spoolReader) bytes() ([]byte, error) {
	n, err := binary.ReadUvarint(rd.r)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err = io.ReadFull(rd.r, b)
	return b, err
}

func (rd *spoolReader) string() (string, error) {
	b, err := rd.bytes()
	return string(b), err
}
