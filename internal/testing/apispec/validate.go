package apispec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/evsync/evsync/internal/httpaccept"
)

// Violation is one way a request or a response strays from the document: one problem at one
// place, with how often it was seen.
type Violation struct {
	Operation string // "GET /voice/api/v1/admin/users (listAllUsers)", or "METHOD /path" when no operation matched
	Where     string // "request", or "response 200" (with the status)
	Pointer   string // a JSON pointer into the body ("/3/rcUserId") or a parameter ("query maxRows"); "" when none
	Message   string
	Count     int // how many times (array indexes in Pointer count as one place: "/3/x" and "/4/x")
}

// String formats v as "GET ... (op): response 200 at /3/rcUserId: value must be an integer (5 times)".
func (v Violation) String() string {
	s := v.Operation + ": " + v.Where
	if v.Pointer != "" {
		s += " at " + v.Pointer
	}
	s += ": " + v.Message
	if v.Count > 1 {
		s += fmt.Sprintf(" (%d times)", v.Count)
	}
	return s
}

// Transport is an http.RoundTripper that holds every exchange to a document from Load: it
// validates each request (path, query, body, the Bearer header where the operation requires
// BearerAuth, and that its Accept header admits a media type the operation answers with) and
// each response (status, Content-Type, body against the operation's schema), records what
// strays as Violations, and passes the exchange on unchanged (the response body is read and
// restored). Requests to PlatformPaths pass unvalidated (no document describes them). Safe for
// concurrent use.
type Transport struct {
	next   http.RoundTripper
	router routers.Router

	mu         sync.Mutex
	violations []*Violation
	index      map[string]*Violation
	statuses   map[string]map[int]int
}

// NewTransport returns a Transport over next (http.DefaultTransport when nil) for doc, whose
// servers must name the URL the requests go to.
func NewTransport(doc *openapi3.T, next http.RoundTripper) (*Transport, error) {
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("apispec: building the router: %w", err)
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &Transport{next: next, router: r, index: map[string]*Violation{}, statuses: map[string]map[int]int{}}, nil
}

// Violations returns what strayed so far, in the order first seen.
func (t *Transport) Violations() []Violation {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Violation, len(t.violations))
	for i, v := range t.violations {
		out[i] = *v
	}
	return out
}

// Statuses returns, per operation (Operation.String(), or "platform METHOD /path"), how many
// responses of each status it got.
func (t *Transport) Statuses() map[string]map[int]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]map[int]int, len(t.statuses))
	for k, m := range t.statuses {
		out[k] = make(map[int]int, len(m))
		for s, n := range m {
			out[k][s] = n
		}
	}
	return out
}

var indexRE = regexp.MustCompile(`/\d+(/|$)`)

// add records one violation.
func (t *Transport) add(v Violation) {
	key := v.Operation + "\x00" + v.Where + "\x00" + indexRE.ReplaceAllString(indexRE.ReplaceAllString(v.Pointer, "/*$1"), "/*$1") + "\x00" + v.Message
	t.mu.Lock()
	defer t.mu.Unlock()
	if have := t.index[key]; have != nil {
		have.Count++
		return
	}
	v.Count = 1
	t.index[key] = &v
	t.violations = append(t.violations, &v)
}

func (t *Transport) count(op string, status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.statuses[op] == nil {
		t.statuses[op] = map[int]int{}
	}
	t.statuses[op][status]++
}

// RoundTrip validates req, sends it, validates the response and returns it.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	reqBody, err := readRequestBody(req)
	if err != nil {
		return nil, err
	}
	if slices.Contains(PlatformPaths, req.URL.Path) {
		resp, err := t.next.RoundTrip(cloneRequest(req, reqBody))
		if err == nil {
			t.count("platform "+req.Method+" "+req.URL.Path, resp.StatusCode)
		}
		return resp, err
	}
	name, in := t.checkRequest(req, cloneRequest(req, reqBody))
	resp, err := t.next.RoundTrip(cloneRequest(req, reqBody))
	if err != nil {
		return nil, err
	}
	body, err := bufferResponseBody(resp)
	if err != nil {
		return resp, nil // the client sees the same truncated body and its own read error
	}
	t.count(name, resp.StatusCode)
	if in != nil {
		t.checkResponse(req.Context(), name, in, resp, body)
	}
	return resp, nil
}

// readRequestBody reads and closes req's body (nil when it has none).
func readRequestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("apispec: reading the request body: %w", err)
	}
	return b, nil
}

// cloneRequest returns a copy of req with its own reader over body, read from req by
// readRequestBody (a RoundTripper must not change the request it was given).
func cloneRequest(req *http.Request, body []byte) *http.Request {
	c := req.Clone(req.Context())
	if body != nil {
		c.Body = io.NopCloser(bytes.NewReader(body))
		c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		c.ContentLength = int64(len(body))
	}
	return c
}

// checkRequest validates vreq, a copy of req for the validator to read, records what strays,
// and returns the exchange's name for Violations and Statuses ("GET /path (operationId)", or
// "METHOD /escaped/path" when no operation matched) and the validation input its response is
// checked with (nil when no operation matched).
func (t *Transport) checkRequest(req, vreq *http.Request) (string, *openapi3filter.RequestValidationInput) {
	route, params, err := t.router.FindRoute(vreq)
	if err != nil {
		name := req.Method + " " + req.URL.EscapedPath()
		t.add(Violation{Operation: name, Where: "request", Message: "no operation of the documents: " + err.Error()})
		return name, nil
	}
	name := req.Method + " " + route.Path + " (" + route.Operation.OperationID + ")"
	in := &openapi3filter.RequestValidationInput{
		Request:    vreq,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			MultiError:                        true,
			RejectWhenRequestBodyNotSpecified: true,
			AuthenticationFunc:                bearerAuth,
			SchemaValidationOptions:           []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
		},
	}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		t.addErr(name, "request", err)
	}
	if msg := checkAccept(route.Operation, req.Header.Values("Accept")); msg != "" {
		t.add(Violation{Operation: name, Where: "request", Pointer: "header Accept", Message: msg})
	}
	return name, in
}

// bufferResponseBody reads and closes resp's body and puts back a reader over what was read,
// which it returns with the read's error.
func bufferResponseBody(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return body, err
}

// checkResponse validates resp, whose body is body, against the operation of in (the request's
// validation input) and records what strays.
func (t *Transport) checkResponse(ctx context.Context, name string, in *openapi3filter.RequestValidationInput, resp *http.Response, body []byte) {
	opts := &openapi3filter.Options{
		IncludeResponseStatus:   true,
		MultiError:              true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}
	if len(body) == 0 && resp.Header.Get("Content-Type") == "" {
		if r := in.Route.Operation.Responses.Status(resp.StatusCode); r != nil && r.Value != nil && r.Value.Extensions[NoContentExtension] == true {
			opts.ExcludeResponseBody = true // the official document's own form: no content
		}
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                opts,
	}
	rin.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		t.addErr(name, "response "+strconv.Itoa(resp.StatusCode), err)
	}
}

// addErr records the leaves of a validation error, each with its place.
func (t *Transport) addErr(op, where string, err error) {
	var walk func(err error, place string)
	walk = func(err error, place string) {
		var me openapi3.MultiError
		var se *openapi3.SchemaError
		var reqErr *openapi3filter.RequestError
		var respErr *openapi3filter.ResponseError
		var secErr *openapi3filter.SecurityRequirementsError
		switch {
		case errors.As(err, &me):
			for _, e := range me {
				walk(e, place)
			}
		case errors.As(err, &secErr):
			for _, e := range secErr.Errors {
				walk(e, "security")
			}
		case errors.As(err, &reqErr) && reqErr.Err != nil && !isLeaf(reqErr.Err):
			p := place
			switch {
			case reqErr.Parameter != nil:
				p = reqErr.Parameter.In + " " + reqErr.Parameter.Name
			case reqErr.RequestBody != nil:
				p = "body"
			}
			walk(reqErr.Err, p)
		case errors.As(err, &respErr) && respErr.Err != nil && !isLeaf(respErr.Err):
			walk(respErr.Err, place)
		case errors.As(err, &se):
			p := "/" + strings.Join(se.JSONPointer(), "/")
			if place != "" && place != "body" {
				p = place + " " + p
			}
			msg := se.Reason
			if msg == "" && se.Origin != nil {
				msg = se.Origin.Error()
			}
			if msg == "" {
				msg = "does not match schema field " + se.SchemaField
			}
			t.add(Violation{Operation: op, Where: where, Pointer: p, Message: msg + " (got " + jsonType(se.Value) + ")"})
		default:
			t.add(Violation{Operation: op, Where: where, Pointer: place, Message: leafMessage(err)})
		}
	}
	walk(err, "")
}

// isLeaf reports whether err holds nothing addErr would descend into.
func isLeaf(err error) bool {
	var me openapi3.MultiError
	var se *openapi3.SchemaError
	var sec *openapi3filter.SecurityRequirementsError
	return !errors.As(err, &me) && !errors.As(err, &se) && !errors.As(err, &sec)
}

// leafMessage is the text of a validation error that is not a schema error.
func leafMessage(err error) string {
	var reqErr *openapi3filter.RequestError
	var respErr *openapi3filter.ResponseError
	switch {
	case errors.As(err, &respErr):
		return respErr.Error()
	case errors.As(err, &reqErr):
		return reqErr.Error()
	}
	return err.Error()
}

// jsonType names the JSON type of a decoded value (never the value: it may be a secret).
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int, int64, int32:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// bearerAuth checks the one security scheme the operations require: BearerAuth, an
// "Authorization: Bearer <token>" header.
func bearerAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
		return fmt.Errorf("security scheme %s (%s %s) is not checked by apispec", in.SecuritySchemeName, s.Type, s.Scheme)
	}
	scheme, tok, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return fmt.Errorf("%s requires an Authorization: Bearer header", in.SecuritySchemeName)
	}
	return nil
}

// checkAccept returns why an Accept header admits none of the media types of op's successful
// answers ("" when it admits one, when there is no Accept header, or when no 2xx answer
// declares content). A server that negotiates (Spring does) answers such a request 406.
func checkAccept(op *openapi3.Operation, accept []string) string {
	var produced []string
	for code, r := range op.Responses.Map() {
		if len(code) == 3 && code[0] == '2' && r.Value != nil {
			for mt := range r.Value.Content {
				produced = append(produced, mt)
			}
		}
	}
	if len(produced) == 0 {
		return ""
	}
	slices.Sort(produced)
	for _, p := range produced {
		if httpaccept.Admits(accept, p) {
			return ""
		}
	}
	return fmt.Sprintf("Accept %q admits none of the operation's answers (%s): a negotiating server answers 406",
		strings.Join(accept, ", "), strings.Join(produced, ", "))
}
