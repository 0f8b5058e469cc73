package engageclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
)

// Items is an integration reporting response being read: a bare JSON array (no paging) of up
// to tens of thousands of items, decoded one at a time as the caller ranges over All, so that
// the body is never held in memory whole. The caller must range over All or call Close. The
// attempt's Config.RequestTimeout runs until the body is closed: reading it slowly (writing
// each item somewhere as it comes) must end within it, or the range ends with a
// *TransportError.
type Items[T any] struct {
	resp     *Response
	body     io.ReadCloser
	readErr  *readErr // the body's failure to read, which is a transport error, not a decode error
	endpoint string   // for errors: "POST /voice/api/cx/integration/v1/…"
	wire     *wire
	r        *request
	ctx      context.Context // the caller's: its end is reported as it is

	mu      sync.Mutex
	ranged  bool
	closed  bool
	closeEr error
}

// readErr records the first error reading the body other than io.EOF, so that All can tell a
// dropped connection (a *TransportError) from JSON that does not parse (a *DecodeError).
type readErr struct {
	rd  io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.rd.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// newItems wraps the successful response resp to r, its body unread.
func newItems[T any](ctx context.Context, w *wire, r *request, resp *Response) *Items[T] {
	return &Items[T]{
		ctx:      ctx,
		resp:     resp,
		body:     resp.Body,
		readErr:  &readErr{rd: resp.Body},
		endpoint: w.endpoint(r),
		wire:     w,
		r:        r,
	}
}

// Response returns the HTTP response; its body is the one Items reads (do not read it).
func (it *Items[T]) Response() *Response { return it.resp }

// Close closes the body, ending the request; it is safe after All has ended, and twice.
func (it *Items[T]) Close() error {
	it.mu.Lock()
	defer it.mu.Unlock()
	if !it.closed {
		it.closed = true
		it.closeEr = it.body.Close()
	}
	return it.closeEr
}

// All yields the items in order and closes the body when the range ends, a break included. It
// may be ranged once (a second range yields an error). A null element is no item and is
// skipped. An item that cannot be decoded yields (nil, err) and ends the range: err is a
// *DecodeError wrapping an *ItemsError that names the item's index and field. A body that is not
// an array, or ends before the array does, yields a *DecodeError; one that cannot be read (the
// connection dropped, the attempt's RequestTimeout passed) a *TransportError.
func (it *Items[T]) All() iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		defer func() { _ = it.Close() }() // the items are read: a failure to close loses nothing
		it.mu.Lock()
		again, closed := it.ranged, it.closed
		it.ranged = true
		it.mu.Unlock()
		switch {
		case again:
			yield(nil, fmt.Errorf("reading %s response: the items were ranged over already", it.endpoint))
			return
		case closed:
			yield(nil, fmt.Errorf("reading %s response: closed before its items were read", it.endpoint))
			return
		}
		it.each(func(v *T, err error) bool { return yield(v, err) }, false)
	}
}

// each decodes the array and calls yield with each item until it returns false. With keepGoing
// an item that cannot be decoded is yielded as an *ItemError (its JSON was valid, so the array
// goes on) and the next items follow; otherwise it ends the array as All documents.
func (it *Items[T]) each(yield func(*T, error) bool, keepGoing bool) {
	dec := json.NewDecoder(it.readErr)
	fail := func(err error) { yield(nil, it.streamError(err)) }
	tok, err := dec.Token()
	switch {
	case err != nil:
		fail(fmt.Errorf("expected a JSON array: %w", err))
		return
	case tok == nil: // null: no items
		return
	case tok != json.Delim('['):
		fail(fmt.Errorf("expected a JSON array, got %s", tokenKind(tok)))
		return
	}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			fail(fmt.Errorf("item %d: %w", i, err))
			return
		}
		if len(raw) == 4 && string(raw) == "null" {
			continue
		}
		v := new(T)
		if err := unmarshalItem(raw, v); err != nil {
			ie := ItemError{Index: i, Err: it.wire.redactErr(err)}
			if keepGoing {
				if !yield(nil, &itemFailure{ie}) {
					return
				}
				continue
			}
			yield(nil, &DecodeError{Endpoint: it.endpoint, Err: &ItemsError{Items: []ItemError{ie}}})
			return
		}
		if !yield(v, nil) {
			return
		}
	}
	if _, err := dec.Token(); err != nil {
		fail(fmt.Errorf("end of the array: %w", err))
	}
}

// unmarshalItem decodes one item, valid JSON the decoder has checked, calling its
// UnmarshalJSON directly (json.Unmarshal would scan it once more first).
func unmarshalItem[T any](raw json.RawMessage, v *T) error {
	if u, ok := any(v).(json.Unmarshaler); ok {
		return u.UnmarshalJSON(raw)
	}
	return json.Unmarshal(raw, v)
}

// streamError types a failure reading the array: a *TransportError when the body could not be
// read (the end of the caller's context is its error as it is), else a *DecodeError.
func (it *Items[T]) streamError(err error) error {
	if rerr := it.readErr.err; rerr != nil {
		if ctxErr := it.ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if errors.Is(rerr, context.DeadlineExceeded) {
			rerr = fmt.Errorf("attempt timed out after %s", it.wire.cfg.RequestTimeout)
		}
		return &TransportError{Step: it.r.step, Method: it.r.method, URL: it.wire.redact(sanitizeURL(it.r.url)),
			Err: fmt.Errorf("reading body: %w", it.wire.redactErr(rerr))}
	}
	return &DecodeError{Endpoint: it.endpoint, Err: it.wire.redactErr(err)}
}

// tokenKind names a JSON token that is not an array's start.
func tokenKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		return "a delimiter"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	}
	return "a value"
}

// collect reads every item of it, closing it: the ones that decode, and an *ItemsError (wrapped
// in a *DecodeError) naming the ones that do not, which do not end the array. Any other error
// ends it and is returned with the items read before it.
func (it *Items[T]) collect() ([]*T, error) {
	defer func() { _ = it.Close() }()
	it.mu.Lock()
	it.ranged = true
	it.mu.Unlock()
	out := []*T{}
	var bad []ItemError
	var end error
	it.each(func(v *T, err error) bool {
		var ie *itemFailure
		switch {
		case errors.As(err, &ie):
			bad = append(bad, ie.ItemError)
		case err != nil:
			end = err
			return false
		default:
			out = append(out, v)
		}
		return true
	}, true)
	if end != nil {
		return out, end
	}
	if len(bad) > 0 {
		return out, &DecodeError{Endpoint: it.endpoint, Err: &ItemsError{Items: bad}}
	}
	return out, nil
}

// itemFailure carries an item's ItemError through each's yield as an error.
type itemFailure struct{ ItemError }

func (e *itemFailure) Error() string { return (&ItemsError{Items: []ItemError{e.ItemError}}).Error() }
