package engagefake_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/apispec"
)

// reportingOperations are the integration reporting operations by their last path segment.
var reportingOperations = map[string]string{
	"interaction-metadata":     "getInteractionMetadata",
	"agg-queue-stats":          "buildAggQueueStats",
	"agg-agent-stats":          "buildAggAgentStats",
	"agg-agent-extended-stats": "buildExtendedAggAgentStats",
}

// errorExample returns the spec's example of an operation's error response with status: its
// media type and body.
func errorExample(t *testing.T, operation string, status int) (string, json.RawMessage) {
	t.Helper()
	raw, err := apispec.Raw(apispec.Admin)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Responses   map[string]struct {
				Content map[string]struct {
					Example json.RawMessage `json:"example"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, ops := range doc.Paths {
		for _, op := range ops {
			if op.OperationID != operation {
				continue
			}
			for mt, c := range op.Responses[strconv.Itoa(status)].Content {
				return mt, c.Example
			}
		}
	}
	t.Fatalf("%s has no %d example", operation, status)
	return "", nil
}

// uriForm turns an example's requestUri into a pattern: its digit runs (the example's ids)
// match any digits.
func uriForm(example string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.MustCompile(`[0-9]+`).ReplaceAllString(regexp.QuoteMeta(example), `[0-9]+`) + "$")
}

// The spec's 400, 403 and 404 examples of the four reporting operations are test cases: the
// fake's answer has exactly the example's keys, the example's cause, developerMessage and
// generalMessage, a requestUri of the example's form (leading slash, " - POST"), an integer
// timestamp, and its own explanation in details. The 401 example (text/plain) is served as
// written for an expired token.
func TestReportingErrorsMatchSpecExamples(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s0 := engagefake.New(engagefake.Options{Seed: 53})
	denied := s0.SubAccountIDs()[1]
	_, base, tok, sub, rc := reportingSetup(t, engagefake.Options{Seed: 53, Now: clock.Now, ReportingUnlimited: true,
		NoWEMAccess: []string{denied}})
	for name, operation := range reportingOperations {
		for _, tt := range []struct {
			status      int
			path, body  string
			wantDetails string
		}{
			{http.StatusBadRequest, reportingPath(rc, sub, name), `[]`, "expected a JSON object"},
			{http.StatusForbidden, reportingPath(rc, denied, name), `{}`, "WEM Access is not enabled for sub-account " + denied},
			{http.StatusNotFound, reportingPath("10001", sub, name), `{}`, "has no sub-account"},
		} {
			t.Run(name+" "+strconv.Itoa(tt.status), func(t *testing.T) {
				t.Parallel()
				mt, ex := errorExample(t, operation, tt.status)
				var want map[string]any
				if err := json.Unmarshal(ex, &want); err != nil || mt != "application/json" {
					t.Fatalf("the %d example of %s: %s %v", tt.status, operation, mt, err)
				}
				r := sendJSON(t, http.MethodPost, base+tt.path, tok, tt.body)
				got := decode[map[string]any](t, r)
				if r.status != tt.status || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
					t.Fatalf("status %d %q, want %d JSON", r.status, r.header.Get("Content-Type"), tt.status)
				}
				if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
					t.Fatalf("keys %v, the example has %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
				}
				for _, k := range []string{"cause", "developerMessage", "generalMessage"} {
					if got[k] != want[k] {
						t.Errorf("%s %q, the example has %q", k, got[k], want[k])
					}
				}
				if uri, _ := got["requestUri"].(string); !uriForm(want["requestUri"].(string)).MatchString(uri) || uri != tt.path+" - POST" {
					t.Errorf("requestUri %q, want %q in the form of %q", uri, tt.path+" - POST", want["requestUri"])
				}
				if ts, ok := got["timestamp"].(float64); !ok || ts != float64(clock.Now().UnixMilli()) {
					t.Errorf("timestamp %v, want the clock's milliseconds %d", got["timestamp"], clock.Now().UnixMilli())
				}
				if d, _ := got["details"].(string); !strings.Contains(d, tt.wantDetails) {
					t.Errorf("details %q, want %q in it", d, tt.wantDetails)
				}
			})
		}
	}
}

// An expired token on a reporting path gets the spec's 401 example of those operations as
// written ("JWT is expired.", text/plain); the admin paths keep theirs ("Jwt is expired").
func TestReportingExpiredTokenMatchesSpecExample(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s, base, tok, sub, rc := reportingSetup(t, engagefake.Options{Seed: 54, Now: clock.Now, ReportingUnlimited: true})
	s.ExpireTokens()
	for name, operation := range reportingOperations {
		mt, ex := errorExample(t, operation, http.StatusUnauthorized)
		var want string
		if err := json.Unmarshal(ex, &want); err != nil || mt != "text/plain" {
			t.Fatalf("the 401 example of %s: %s %v", operation, mt, err)
		}
		r := sendJSON(t, http.MethodPost, base+reportingPath(rc, sub, name), tok, `{}`)
		if r.status != http.StatusUnauthorized || string(r.body) != want || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s: %d %q %q, want 401 text/plain %q", name, r.status, r.header.Get("Content-Type"), r.body, want)
		}
	}
	if r := get(t, base+accountsPath, tok); r.status != http.StatusUnauthorized || string(r.body) != "Jwt is expired" {
		t.Errorf("admin listing: %d %q, want 401 \"Jwt is expired\"", r.status, r.body)
	}
}
