package engagefake_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/apispec"
)

// Tests of the generated audit log and of the search that serves it.

// auditBody is a search body for [start, end) in the form engageclient sends.
func auditBody(sub string, start, end time.Time, extra string) string {
	const layout = "2006-01-02T15:04:05.000-07:00"
	return `{"accountId":"` + sub + `","startDateTime":"` + start.Format(layout) + `","endDateTime":"` + end.Format(layout) + `"` + extra + `}`
}

// search sends an audit search and decodes the answer (failing on anything but 200).
func search(t *testing.T, base, tok, body string) []map[string]any {
	t.Helper()
	r := sendJSON(t, http.MethodPut, base+auditPath, tok, body)
	if r.status != http.StatusOK {
		t.Fatalf("audit search %s: %d %s", body, r.status, r.body)
	}
	return decode[[]map[string]any](t, r)
}

// itemIDs returns the "id" of each entry.
func itemIDs(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it["id"].(string)
	}
	return out
}

// entryIDs returns the ID of each entry.
func entryIDs(es []engagefake.AuditEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// The same seed and clock give the same history, byte for byte; another seed another one.
// Mutations after New do not rewrite it.
func TestAuditLogDeterministic(t *testing.T) {
	t.Parallel()
	clock := newClock()
	now := clock.Now()
	a := engagefake.New(engagefake.Options{Seed: 31, Now: clock.Now})
	b := engagefake.New(engagefake.Options{Seed: 31, Now: clock.Now})
	c := engagefake.New(engagefake.Options{Seed: 32, Now: clock.Now})
	sub := a.SubAccountIDs()[0]
	from := now.Add(-4 * 24 * time.Hour)
	ea, eb, ec := a.AuditLog(sub, from, now), b.AuditLog(sub, from, now), c.AuditLog(sub, from, now)
	if len(ea) < 50 {
		t.Fatalf("%d entries in 3 days, want about 144", len(ea))
	}
	for i := range ea {
		if i >= len(eb) || string(ea[i].JSON) != string(eb[i].JSON) {
			t.Fatalf("entry %d differs between two servers of one seed", i)
		}
	}
	if len(ea) != len(eb) {
		t.Fatalf("%d and %d entries for one seed", len(ea), len(eb))
	}
	if slices.Equal(entryIDs(ea), entryIDs(ec)) {
		t.Error("another seed gives the same entries")
	}
	if err := a.Mutate(func(tn *engagefake.Tenant) error {
		for ag := range tn.Agents() {
			return tn.RemoveAgent(ag.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if again := a.AuditLog(sub, from, now); !slices.EqualFunc(again, ea, func(x, y engagefake.AuditEntry) bool { return string(x.JSON) == string(y.JSON) }) {
		t.Error("a mutation changed the history")
	}
}

// listingNames reads, through the listings, what each object of a sub-account is called
// (class -> id -> description as the audit log gives it), and the admin users' names.
func listingNames(t *testing.T, s *engagefake.Server, base, tok, sub string) (map[string]map[string]string, map[string][2]string) {
	t.Helper()
	names := map[string]map[string]string{"Agent": {}, "AgentGroup": {}, "Gate": {}, "Campaign": {}, "DialGroup": {}, "User": {}}
	id := func(v any) string { return strconv.FormatFloat(v.(float64), 'f', -1, 64) }
	for _, g := range decode[[]map[string]any](t, get(t, base+groupsPath(sub), tok)) {
		names["AgentGroup"][id(g["agentGroupId"])] = g["groupName"].(string)
	}
	for _, gid := range s.AgentGroupIDs(sub) {
		for _, a := range decode[[]map[string]any](t, get(t, base+agentsPath(sub, gid), tok)) {
			names["Agent"][id(a["agentId"])] = a["username"].(string)
		}
	}
	acc := "/voice/api/v1/admin/accounts/" + sub
	for _, g := range decode[[]map[string]any](t, get(t, base+acc+"/gateGroups/withChildren", tok)) {
		for _, q := range g["gates"].([]any) {
			q := q.(map[string]any)
			names["Gate"][id(q["gateId"])] = q["gateName"].(string)
		}
	}
	for _, d := range decode[[]map[string]any](t, get(t, base+acc+"/dialGroups/withChildren", tok)) {
		names["DialGroup"][id(d["dialGroupId"])] = d["dialGroupName"].(string)
		for _, c := range d["campaigns"].([]any) {
			c := c.(map[string]any)
			names["Campaign"][id(c["campaignId"])] = c["campaignName"].(string)
		}
	}
	users := map[string][2]string{}
	for _, u := range decode[[]map[string]any](t, get(t, base+usersPath+"?flatten=true", tok)) {
		names["User"][id(u["userId"])] = u["userName"].(string)
		users[id(u["userId"])] = [2]string{u["firstName"].(string), u["lastName"].(string)}
	}
	return names, users
}

var (
	uuidRE     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	classRE    = regexp.MustCompile(`^com\.connectfirst\.api\.model\.intelliqueue_globalcatalog\.[a-z]+\.([A-Za-z]+)$`)
	auditOrder = []string{"id", "authUser", "createTime", "auditLogResultList", "auditedClass", "auditedEntityId",
		"auditedEntityDescription", "actionType", "affectedEntityJson", "accountId", "createTimeAsDateTime", "_class"}
)

// keysInOrder returns the keys of a JSON object in their order.
func keysInOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// Every entry has the sample's fields in the sample's order and names the sub-account's real
// objects and users as the listings name them; a DELETE names an object no listing has. All
// classes and actions occur, and a few entries are late.
func TestAuditLogEntries(t *testing.T) {
	t.Parallel()
	clock := newClock()
	now := clock.Now()
	s, base := start(t, engagefake.Options{Seed: 33, Now: clock.Now})
	tok, _ := login(t, base)
	classes, actions := map[string]int{}, map[string]int{}
	late, total := 0, 0
	for _, sub := range s.SubAccountIDs() {
		names, users := listingNames(t, s, base, tok, sub)
		for _, e := range s.AuditLog(sub, now.Add(-3*24*time.Hour), now) {
			total++
			classes[e.Class]++
			actions[e.Action]++
			if e.Late {
				late++
			}
			checkEntry(t, e, sub, names, users)
		}
	}
	for _, c := range []string{"Agent", "AgentGroup", "Gate", "Campaign", "DialGroup", "User"} {
		if classes[c] == 0 {
			t.Errorf("no %s entry in %d", c, total)
		}
	}
	for _, a := range []string{"CREATE", "UPDATE", "DELETE"} {
		if actions[a] == 0 {
			t.Errorf("no %s entry in %d", a, total)
		}
	}
	if late == 0 || late > total/5 {
		t.Errorf("%d late entries of %d, want about 5%%", late, total)
	}
}

// checkEntry checks one entry against the listings' names.
func checkEntry(t *testing.T, e engagefake.AuditEntry, sub string, names map[string]map[string]string, users map[string][2]string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.JSON, &m); err != nil {
		t.Fatalf("entry %s: %v", e.JSON, err)
	}
	errorf := func(format string, args ...any) { t.Errorf("entry %s: %s", e.JSON, fmt.Sprintf(format, args...)) }
	if got := keysInOrder(t, e.JSON); !slices.Equal(got, auditOrder) {
		errorf("keys %v, want %v", got, auditOrder)
	}
	if id, _ := m["id"].(string); id != e.ID || !uuidRE.MatchString(id) {
		errorf("id %q: want a UUID, %q", id, e.ID)
	}
	if m["accountId"] != sub || e.AccountID != sub || m["actionType"] != e.Action || m["auditedEntityId"] != e.EntityID {
		errorf("accountId/actionType/auditedEntityId do not match %+v", e)
	}
	if ms, _ := m["createTime"].(float64); int64(ms) != e.CreateTime.UnixMilli() ||
		m["createTimeAsDateTime"] != e.CreateTime.Format("2006-01-02T15:04:05.000-0700") {
		errorf("createTime %v / %v, want %v", m["createTime"], m["createTimeAsDateTime"], e.CreateTime)
	}
	if m["_class"] != "com.connectfirst.api.model.documents.AuditLog" {
		errorf("_class %v", m["_class"])
	}
	class, _ := m["auditedClass"].(string)
	if sm := classRE.FindStringSubmatch(class); sm == nil || sm[1] != e.Class {
		errorf("auditedClass %q, Class %q", class, e.Class)
	}
	if e.Class == "Gate" && class != "com.connectfirst.api.model.intelliqueue_globalcatalog.acd.Gate" {
		errorf("Gate's class %q is not the documented one", class)
	}
	u, _ := m["authUser"].(map[string]any)
	uid, _ := u["userId"].(string)
	if n, ok := users[uid]; !ok || u["firstName"] != n[0] || u["lastName"] != n[1] || u["userName"] != names["User"][uid] ||
		uid != e.UserID || !strings.HasPrefix(fmt.Sprint(u["sourceId"]), "203.0.113.") {
		errorf("authUser %v is not an admin user of the listing", u)
	}
	want := e.CreateTime.Add(5 * time.Minute)
	if e.Late {
		want = e.CreateTime.Add(3 * time.Hour)
	}
	if !e.VisibleAt.Equal(want) {
		errorf("VisibleAt %v, want %v", e.VisibleAt, want)
	}
	desc, live := names[e.Class][e.EntityID]
	switch e.Action {
	case "DELETE":
		if id, _ := strconv.Atoi(e.EntityID); live || id < 9000000 {
			errorf("a DELETE of a live object or a low id")
		}
	default:
		if !live || m["auditedEntityDescription"] != desc {
			errorf("names %s %s (%v), the listing %q (live %v)", e.Class, e.EntityID, m["auditedEntityDescription"], desc, live)
		}
	}
	list, hasList := m["auditLogResultList"].([]any)
	entity, hasEntity := m["affectedEntityJson"].(string)
	switch e.Action {
	case "UPDATE":
		if len(list) == 0 || hasEntity {
			errorf("an UPDATE without changes or with an affectedEntityJson")
		}
		for _, c := range list {
			c := c.(map[string]any)
			if c["classType"] != class || c["attributeName"] == "" || c["originalValue"] == c["newValue"] {
				errorf("change %v", c)
			}
			if _, ok := c["newValue"].(string); !ok {
				errorf("change %v: values are strings", c)
			}
			if c["attributeName"] == "password" && !e.PasswordChange {
				errorf("a password change not marked")
			}
		}
	default:
		var obj map[string]any
		if !hasEntity || json.Unmarshal([]byte(entity), &obj) != nil || len(obj) == 0 {
			errorf("affectedEntityJson %v is not a JSON object in a string", m["affectedEntityJson"])
		}
		if e.Action == "CREATE" && m["auditLogResultList"] != nil || e.Action == "DELETE" && (!hasList || len(list) != 0) {
			errorf("auditLogResultList %v", m["auditLogResultList"])
		}
	}
}

// Each sub-account's history has exactly one agent password change, whose two values are
// secrets SecretValues lists; no other entry mentions a password.
func TestAuditLogPasswordChange(t *testing.T) {
	t.Parallel()
	clock := newClock()
	now := clock.Now()
	s := engagefake.New(engagefake.Options{Seed: 34, Now: clock.Now, Tenant: engagefake.TenantSpec{SubAccountsPerMain: 4}, AuditDays: 10})
	secrets := s.SecretValues()
	for _, sub := range s.SubAccountIDs() {
		var found []engagefake.AuditEntry
		// The whole history, and a day of what comes after New.
		for _, e := range s.AuditLog(sub, now.Add(-11*24*time.Hour), now.Add(24*time.Hour)) {
			if e.PasswordChange {
				found = append(found, e)
			} else if strings.Contains(string(e.JSON), "password") {
				t.Errorf("%s: an entry mentions a password: %s", sub, e.JSON)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%s: %d password changes, want 1", sub, len(found))
		}
		e := found[0]
		var m struct {
			ActionType string `json:"actionType"`
			Results    []struct {
				AttributeName, OriginalValue, NewValue string
			} `json:"auditLogResultList"`
		}
		if err := json.Unmarshal(e.JSON, &m); err != nil {
			t.Fatal(err)
		}
		if m.ActionType != "UPDATE" || e.Class != "Agent" || len(m.Results) != 1 || m.Results[0].AttributeName != "password" {
			t.Fatalf("%s: password change %s", sub, e.JSON)
		}
		old, nw := m.Results[0].OriginalValue, m.Results[0].NewValue
		if old == "" || nw == "" || old == nw || !slices.Contains(secrets, old) || !slices.Contains(secrets, nw) {
			t.Errorf("%s: password values %q, %q: want two different secrets of SecretValues", sub, old, nw)
		}
		if e.CreateTime.After(now) || e.CreateTime.Before(now.Add(-10*24*time.Hour-time.Hour)) {
			t.Errorf("%s: the password change at %v is outside the 10 days of history", sub, e.CreateTime)
		}
	}
}

// The search answers the entries of [start, end) that have propagated, ordered by
// createTime as ascOrDesc says; the filters narrow it.
func TestAuditSearchWindowAndOrder(t *testing.T) {
	t.Parallel()
	clock := newClock()
	now := clock.Now()
	s, base := start(t, engagefake.Options{Seed: 35, Now: clock.Now, AuditLateFraction: 0.5})
	tok, _ := login(t, base)
	sub := s.SubAccountIDs()[1]
	from, to := now.Add(-2*24*time.Hour), now
	all := s.AuditLog(sub, from, to)
	var visible []engagefake.AuditEntry
	for _, e := range all {
		if e.VisibleBy(now) {
			visible = append(visible, e)
		}
	}
	if len(visible) == len(all) || len(visible) == 0 {
		t.Fatalf("%d of %d entries visible: want some late ones hidden", len(visible), len(all))
	}
	asc := search(t, base, tok, auditBody(sub, from, to, `,"ascOrDesc":"ASCENDING"`))
	if got, want := itemIDs(asc), entryIDs(visible); !slices.Equal(got, want) {
		t.Fatalf("ascending: %d ids, want the %d visible entries in order", len(got), len(want))
	}
	for i, it := range asc {
		if b, _ := json.Marshal(it); i < len(visible) && !jsonEqual(t, b, visible[i].JSON) {
			t.Errorf("served %s, AuditLog says %s", b, visible[i].JSON)
		}
	}
	desc := search(t, base, tok, auditBody(sub, from.In(time.FixedZone("PST", -8*3600)), to, `,"ascOrDesc":"DESCENDING"`))
	rev := itemIDs(desc)
	slices.Reverse(rev)
	if !slices.Equal(rev, itemIDs(asc)) {
		t.Error("descending is not ascending reversed")
	}
	if none := search(t, base, tok, auditBody(sub, from, to, "")); !slices.Equal(itemIDs(none), itemIDs(asc)) {
		t.Error("without ascOrDesc: not ascending")
	}
	// [start, end): an entry is in the window that starts at its createTime, not in the one
	// that ends there.
	e := visible[len(visible)/2]
	ms := e.CreateTime.UnixMilli()
	unix := func(lo, hi int64) string {
		return fmt.Sprintf(`{"accountId":%s,"startDateTimeAsUnix":%d,"endDateTimeAsUnix":%d}`, sub, lo, hi)
	}
	if got := itemIDs(search(t, base, tok, unix(ms, ms+1))); !slices.Contains(got, e.ID) {
		t.Errorf("[createTime, +1ms) misses the entry: %v", got)
	}
	if got := itemIDs(search(t, base, tok, unix(ms-3600_000, ms))); slices.Contains(got, e.ID) {
		t.Error("[createTime-1h, createTime) has the entry")
	}
	// Filters.
	filters := []struct {
		extra string
		keep  func(engagefake.AuditEntry) bool
	}{
		{`,"auditActions":["UPDATE","DELETE"]`, func(x engagefake.AuditEntry) bool { return x.Action != "CREATE" }},
		{`,"searchEntities":["Gate","Agent"]`, func(x engagefake.AuditEntry) bool { return x.Class == "Gate" || x.Class == "Agent" }},
		{`,"auditedEntityId":"` + e.EntityID + `"`, func(x engagefake.AuditEntry) bool { return x.EntityID == e.EntityID }},
		{`,"createUserId":` + e.UserID, func(x engagefake.AuditEntry) bool { return x.UserID == e.UserID }},
	}
	for _, f := range filters {
		want := entryIDs(slices.DeleteFunc(slices.Clone(visible), func(x engagefake.AuditEntry) bool { return !f.keep(x) }))
		if got := itemIDs(search(t, base, tok, auditBody(sub, from, to, f.extra))); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("filter %s: %d entries, want %d (>0)", f.extra, len(got), len(want))
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		t.Fatalf("not JSON: %s / %s", a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// An entry is served once now >= createTime + 5 minutes; a late one only 3 hours after its
// createTime: a first read at the window's end + 20 minutes misses it, a settle read a day
// later has it.
func TestAuditPropagation(t *testing.T) {
	t.Parallel()
	clock := newClock()
	now := clock.Now()
	s, base := start(t, engagefake.Options{Seed: 36, Now: clock.Now, RefreshTokenTTL: 72 * time.Hour, TokenTTL: 72 * time.Hour})
	tok, _ := login(t, base)
	sub := s.SubAccountIDs()[0]
	var onTime, late *engagefake.AuditEntry
	all := s.AuditLog(sub, now, now.Add(24*time.Hour)) // what comes after New: the clock can reach it
	for i := range all {
		switch e := &all[i]; {
		case e.Late && late == nil:
			late = e
		case !e.Late && onTime == nil:
			onTime = e
		}
	}
	if onTime == nil || late == nil {
		t.Fatalf("no on-time and late entry among %d", len(all))
	}
	set := func(at time.Time) { clock.Advance(at.Sub(clock.Now())) }
	has := func(e *engagefake.AuditEntry, lo, hi time.Time) bool {
		return slices.Contains(itemIDs(search(t, base, tok, auditBody(sub, lo, hi, ""))), e.ID)
	}
	// Clocks are advanced in order: the on-time entry first if it comes first.
	steps := []struct {
		e      *engagefake.AuditEntry
		at     time.Time
		expect bool
	}{
		{onTime, onTime.CreateTime.Add(5*time.Minute - time.Millisecond), false},
		{onTime, onTime.CreateTime.Add(5 * time.Minute), true},
		{late, late.CreateTime.Add(20 * time.Minute), false},
		{late, late.CreateTime.Add(3*time.Hour - time.Millisecond), false},
		{late, late.CreateTime.Add(3 * time.Hour), true},
		{late, late.CreateTime.Add(24 * time.Hour), true},
	}
	slices.SortStableFunc(steps, func(a, b struct {
		e      *engagefake.AuditEntry
		at     time.Time
		expect bool
	}) int {
		return a.at.Compare(b.at)
	})
	for _, st := range steps {
		set(st.at)
		lo := st.e.CreateTime.Truncate(15 * time.Minute)
		if got := has(st.e, lo, lo.Add(15*time.Minute)); got != st.expect {
			t.Errorf("entry (late %v) created %v, read at %v: served %v, want %v", st.e.Late, st.e.CreateTime, st.at, got, st.expect)
		}
	}
}

// Negative AuditDays or AuditPerHour: no audit log; an unknown sub-account has none either.
func TestAuditLogNone(t *testing.T) {
	t.Parallel()
	clock := newClock()
	now := clock.Now()
	for _, o := range []engagefake.Options{{AuditDays: -1}, {AuditPerHour: -1}} {
		o.Now = clock.Now
		s, base := start(t, o)
		tok, _ := login(t, base)
		sub := s.SubAccountIDs()[0]
		if es := s.AuditLog(sub, now.Add(-10*24*time.Hour), now); len(es) != 0 {
			t.Errorf("%+v: %d entries", o, len(es))
		}
		if items := search(t, base, tok, auditBody(sub, now.Add(-24*time.Hour), now, "")); len(items) != 0 {
			t.Errorf("%+v: search found %d", o, len(items))
		}
	}
	s := engagefake.New(engagefake.Options{Now: clock.Now})
	if es := s.AuditLog("nope", now.Add(-24*time.Hour), now); es != nil {
		t.Errorf("unknown sub-account: %d entries", len(es))
	}
}

// Injected faults and the admin rate limiter apply to the audit search as to the listings.
func TestAuditSearchFaultsAndRateLimit(t *testing.T) {
	t.Parallel()
	clock := newClock()
	now := clock.Now()
	s, base := start(t, engagefake.Options{Seed: 37, Now: clock.Now, RateLimit: 60, RateBurst: 3, RateLimitRetryAfter: true})
	tok, _ := login(t, base)
	body := auditBody(s.SubAccountIDs()[0], now.Add(-time.Hour), now, "")
	for _, status := range []int{403, 429, 500} {
		s.SetFault(engagefake.EndpointAuditSearch, engagefake.Fault{Status: status, Times: 1})
		if r := sendJSON(t, http.MethodPut, base+auditPath, tok, body); r.status != status {
			t.Errorf("fault %d: got %d %s", status, r.status, r.body)
		}
	}
	limited := false
	for range 10 {
		if r := sendJSON(t, http.MethodPut, base+auditPath, tok, body); r.status == http.StatusTooManyRequests {
			limited = r.header.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Error("the admin rate limiter never answered the audit search 429 with Retry-After")
	}
	clock.Advance(time.Minute)
	if r := sendJSON(t, http.MethodPut, base+auditPath, tok, body); r.status != http.StatusOK {
		t.Errorf("after a minute: %d %s", r.status, r.body)
	}
}

// The served entries hold to the spec's AuditLog schema where the documents agree: every
// property the schema declares a string, an integer or an array has that JSON type (or is
// null), authUser's properties are strings, createTimeAsDateTime is a date of the API's form.
// Where the sample and the spec disagree the sample wins: auditedEntityId and
// auditedEntityDescription (spec: object) and the change values (spec: object) are strings.
func TestAuditEntriesMatchTheSpec(t *testing.T) {
	t.Parallel()
	raw, err := apispec.Raw(apispec.Admin)
	if err != nil {
		t.Fatal(err)
	}
	type schema struct {
		Type       string            `json:"type"`
		Ref        string            `json:"$ref"`
		Properties map[string]schema `json:"properties"`
		Items      *schema           `json:"items"`
	}
	var spec struct {
		Components struct {
			Schemas map[string]schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	schemas := spec.Components.Schemas
	sampleWins := map[string]bool{"AuditLog.auditedEntityId": true, "AuditLog.auditedEntityDescription": true,
		"AuditLogResult.originalValue": true, "AuditLogResult.newValue": true}
	dateRE := regexp.MustCompile(apispec.DateTimePattern)
	var check func(name string, obj map[string]any)
	check = func(name string, obj map[string]any) {
		sc, ok := schemas[name]
		if !ok {
			t.Fatalf("the spec has no %s", name)
		}
		for k, v := range obj {
			p, declared := sc.Properties[k]
			if !declared || v == nil {
				continue // auditedClass and _class: the sample's, not the spec's
			}
			where := name + "." + k
			switch {
			case sampleWins[where]:
				if _, ok := v.(string); !ok {
					t.Errorf("%s = %v, want a string (the sample's type)", where, v)
				}
			case p.Ref == "#/components/schemas/DateTime":
				if s, _ := v.(string); !dateRE.MatchString(s) {
					t.Errorf("%s = %v, want a date like 2026-01-13T00:00:00.000+0000", where, v)
				}
			case p.Ref != "":
				check(strings.TrimPrefix(p.Ref, "#/components/schemas/"), v.(map[string]any))
			case p.Type == "string":
				if _, ok := v.(string); !ok {
					t.Errorf("%s = %v, want a string", where, v)
				}
			case p.Type == "integer":
				if f, ok := v.(float64); !ok || f != float64(int64(f)) {
					t.Errorf("%s = %v, want an integer", where, v)
				}
			case p.Type == "array":
				list, ok := v.([]any)
				if !ok {
					t.Errorf("%s = %v, want an array", where, v)
				}
				for _, it := range list {
					check(strings.TrimPrefix(p.Items.Ref, "#/components/schemas/"), it.(map[string]any))
				}
			default:
				t.Errorf("%s: the test does not know type %q", where, p.Type)
			}
		}
	}
	clock := newClock()
	s, base := start(t, engagefake.Options{Seed: 38, Now: clock.Now})
	tok, _ := login(t, base)
	now := clock.Now()
	items := search(t, base, tok, auditBody(s.SubAccountIDs()[0], now.Add(-3*24*time.Hour), now, ""))
	if len(items) == 0 {
		t.Fatal("no entries")
	}
	for _, it := range items {
		check("AuditLog", it)
	}
}

// A large history is cheap and has the options' volume: 20 sub-accounts x 90 days, about
// AuditPerHour entries per sub-account and hour, one password change each.
func TestAuditLogVolume(t *testing.T) {
	t.Parallel()
	clock := newClock()
	now := clock.Now()
	s := engagefake.New(engagefake.Options{Seed: 39, Now: clock.Now, AuditDays: 90, AuditPerHour: 3,
		Tenant: engagefake.TenantSpec{MainAccounts: 2, SubAccountsPerMain: 10, AgentsPerGroup: 2, Users: 3}})
	subs := s.SubAccountIDs()
	began := time.Now()
	total := 0
	for _, sub := range subs {
		pw := 0
		for _, e := range s.AuditLog(sub, now.Add(-90*24*time.Hour-time.Hour), now) {
			total++
			if e.PasswordChange {
				pw++
			}
		}
		if pw != 1 {
			t.Errorf("%s: %d password changes, want 1", sub, pw)
		}
	}
	t.Logf("%d entries of %d sub-accounts x 90 days generated and rendered in %v", total, len(subs), time.Since(began))
	if want := len(subs) * 90 * 24 * 3; total < want*9/10 || total > want*11/10 {
		t.Errorf("%d entries, want about %d", total, want)
	}
}
