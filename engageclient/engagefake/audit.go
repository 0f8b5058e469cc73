package engagefake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// The generated admin audit log: what the audit log search (PUT
// /voice/api/v1/admin/auditLogs/search) serves. Facts: the reporting facts §1.4 and
// audit-logs.md (the sample entries, the field table, the 5-minute propagation delay); the
// spec's AuditLog schema.
//
// The history is a function of (Seed, sub-account, hour): each hour of each sub-account has
// its own random stream, so any window is generated without the rest of the history, and the
// same options give the same entries in every process. The objects it names come from a
// snapshot of the tenant taken at New (ids only), so later mutations and churn do not rewrite
// the past.

// Java classes of the audited objects. Gate's package is the documented one (audit-logs.md,
// the sample entry: "com.connectfirst.api.model.intelliqueue_globalcatalog.acd.Gate"; the
// other sample has acd.GateDisposition and ivrStudio.VisualIvr). [I] The documents name no
// package for the others: they follow the Gate form with a package guessed from the API's
// areas (the spec's only other class name is ...intelliqueue_globalcatalog.auth.Role, whence
// auth for User).
var auditClasses = map[string]string{
	"Gate":       "com.connectfirst.api.model.intelliqueue_globalcatalog.acd.Gate",
	"Agent":      "com.connectfirst.api.model.intelliqueue_globalcatalog.agent.Agent",        // [I]
	"AgentGroup": "com.connectfirst.api.model.intelliqueue_globalcatalog.agent.AgentGroup",   // [I]
	"Campaign":   "com.connectfirst.api.model.intelliqueue_globalcatalog.outbound.Campaign",  // [I]
	"DialGroup":  "com.connectfirst.api.model.intelliqueue_globalcatalog.outbound.DialGroup", // [I]
	"User":       "com.connectfirst.api.model.intelliqueue_globalcatalog.auth.User",          // [I]
}

// auditDocClass is every entry's "_class" (both samples of audit-logs.md).
const auditDocClass = "com.connectfirst.api.model.documents.AuditLog"

// auditDeletedIDBase is where the ids of deleted objects start: a DELETE names an object the
// tenant no longer has (removed before the history's snapshot), never a live one.
const auditDeletedIDBase = 9_000_000

// AuditEntry is one entry of the generated audit log (Server.AuditLog).
type AuditEntry struct {
	ID         string    // id, a UUID
	AccountID  string    // accountId, the sub-account
	Action     string    // actionType: CREATE, UPDATE or DELETE
	Class      string    // the last segment of auditedClass: Gate, Agent, AgentGroup, Campaign, DialGroup, User
	EntityID   string    // auditedEntityId
	UserID     string    // authUser.userId, the admin user who made the change
	CreateTime time.Time // createTime (whole milliseconds, UTC)
	// VisibleAt is when the search starts returning the entry: CreateTime plus
	// Options.AuditPropagation, or plus Options.AuditLateDelay when Late.
	VisibleAt time.Time
	Late      bool // the entry propagates late (Options.AuditLateFraction of them)
	// PasswordChange marks the one UPDATE of an agent's "password" of each sub-account (never
	// late): its originalValue and newValue are secrets (both are in SecretValues).
	PasswordChange bool
	JSON           json.RawMessage // the entry exactly as the search serves it
}

// VisibleBy reports whether the search returns the entry at now.
func (e AuditEntry) VisibleBy(now time.Time) bool { return !now.Before(e.VisibleAt) }

// AuditLog returns every generated audit entry of a sub-account created in [start, end),
// ordered by createTime (then id), whether or not the search would return it yet (see
// AuditEntry.VisibleAt). It is nil for an unknown sub-account, one added after New, or when
// the options generate no audit log. The cost is proportional to the window's hours.
func (s *Server) AuditLog(subAccountID string, start, end time.Time) []AuditEntry {
	items := s.audit.window(subAccountID, start, end)
	if len(items) == 0 {
		return nil
	}
	out := make([]AuditEntry, 0, len(items))
	for i := range items {
		it := &items[i]
		out = append(out, AuditEntry{
			ID: it.id, AccountID: subAccountID, Action: it.action, Class: it.class, EntityID: strconv.Itoa(it.entityID),
			UserID: it.userID(), CreateTime: time.UnixMilli(it.createMs).UTC(), VisibleAt: s.audit.visibleAt(it),
			Late: it.late, PasswordChange: it.password, JSON: s.audit.render(subAccountID, it, make([]byte, 0, 1024)),
		})
	}
	return out
}

// auditHistory is the generated audit log's parameters and its snapshot of the tenant.
type auditHistory struct {
	seed         int64
	perHour      int           // entries per hour on average; 0 = no audit log
	propagation  time.Duration // the usual delay
	lateFraction float64
	lateDelay    time.Duration
	fromHour     int64 // the history's first hour (hours since the Unix epoch)
	users        []int // the admin users who make the changes
	subs         map[string]*auditSub
}

// auditSub is the snapshot of one sub-account's objects.
type auditSub struct {
	key        uint64     // its random streams' key
	agents     []auditRef // id, agent group
	groups     []int      // agent groups, the default one first
	gates      []auditRef // id, gate group
	dialGroups []int
	campaigns  []auditRef // id, dial group
	kinds      []string   // the classes it has objects of, in a fixed order
	// The password change: its hour, agent and values (0 agent: none).
	pwHour       int64
	pwAgent      int
	pwOld, pwNew string
}

// auditRef is an object's id and its parent's.
type auditRef struct{ id, parent int }

// auditItem is one generated entry, before rendering.
type auditItem struct {
	id       string
	createMs int64
	late     bool
	password bool
	action   string
	class    string
	entityID int
	desc     string
	user     int   // admin user id; 0: none (a tenant without users)
	changes  []doc // auditLogResultList items (UPDATE)
	entity   doc   // affectedEntityJson (CREATE, DELETE)
}

// userID is authUser.userId ("" without a user).
func (it *auditItem) userID() string {
	if it.user == 0 {
		return ""
	}
	return strconv.Itoa(it.user)
}

// Random stream kinds of the audit log (after the tenant's kinds).
const (
	kindAuditHour uint64 = 0x40 + iota
	kindAuditPassword
)

// newAuditHistory snapshots t for the audit log of opts (defaults applied), its history
// starting opts.AuditDays days before the hour of opts.Now().
func newAuditHistory(t *Tenant, opts Options) *auditHistory {
	h := &auditHistory{seed: t.Seed, propagation: max(0, opts.AuditPropagation), lateFraction: max(0, opts.AuditLateFraction),
		lateDelay: max(0, opts.AuditLateDelay), subs: map[string]*auditSub{}}
	if opts.AuditDays < 0 || opts.AuditPerHour < 0 {
		return h
	}
	h.perHour = opts.AuditPerHour
	hours := int64(opts.AuditDays) * 24
	h.fromHour = floorHour(opts.Now().UnixMilli()) - hours
	for _, u := range t.Users {
		h.users = append(h.users, u.ID)
	}
	for _, sa := range t.SubAccounts {
		hash := fnv.New64a()
		_, _ = hash.Write([]byte(sa.ID))
		as := &auditSub{key: hash.Sum64()}
		for _, g := range sa.Groups {
			as.groups = append(as.groups, g.ID)
			for _, a := range g.Agents {
				as.agents = append(as.agents, auditRef{a.ID, g.ID})
			}
		}
		for _, g := range sa.QueueGroups {
			for _, q := range g.Queues {
				as.gates = append(as.gates, auditRef{q.ID, g.ID})
			}
		}
		for _, d := range sa.DialGroups {
			as.dialGroups = append(as.dialGroups, d.ID)
			for _, c := range d.Campaigns {
				as.campaigns = append(as.campaigns, auditRef{c.ID, d.ID})
			}
		}
		for _, k := range []struct {
			class string
			n     int
		}{{"Agent", len(as.agents)}, {"Gate", len(as.gates)}, {"AgentGroup", len(as.groups)},
			{"Campaign", len(as.campaigns)}, {"DialGroup", len(as.dialGroups)}, {"User", len(h.users)}} {
			if k.n > 0 {
				as.kinds = append(as.kinds, k.class)
			}
		}
		if len(as.agents) > 0 && hours > 0 {
			r := h.rand(as, kindAuditPassword, 0)
			as.pwHour = h.fromHour + r.Int64N(hours)
			as.pwAgent = pick(r, as.agents).id
			as.pwOld, as.pwNew = secret(r), secret(r)
		}
		h.subs[sa.ID] = as
	}
	return h
}

// secrets returns the password change's values of every sub-account.
func (h *auditHistory) secrets() []string {
	var out []string
	for _, as := range h.subs {
		if as.pwAgent != 0 {
			out = append(out, as.pwOld, as.pwNew)
		}
	}
	slices.Sort(out)
	return out
}

// rand returns the random stream of (sub-account, kind, hour).
func (h *auditHistory) rand(as *auditSub, kind uint64, hour int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(h.seed)^as.key, kind<<56|uint64(hour)&(1<<56-1)))
}

// floorHour is the hour (since the Unix epoch) of a time in milliseconds.
func floorHour(ms int64) int64 {
	const hourMs = int64(time.Hour / time.Millisecond)
	if ms < 0 {
		return (ms - hourMs + 1) / hourMs
	}
	return ms / hourMs
}

// visibleAt is when the search starts returning it.
func (h *auditHistory) visibleAt(it *auditItem) time.Time {
	d := h.propagation
	if it.late {
		d = h.lateDelay
	}
	return time.UnixMilli(it.createMs).UTC().Add(d)
}

// window returns the entries of a sub-account created in [start, end), ordered by createTime
// then id.
func (h *auditHistory) window(sub string, start, end time.Time) []auditItem {
	as := h.subs[sub]
	if as == nil || h.perHour == 0 || !start.Before(end) {
		return nil
	}
	lo, hi := start.UnixMilli(), end.UnixMilli()
	first, last := max(floorHour(lo), h.fromHour), floorHour(hi-1)
	if last < first {
		return nil
	}
	out := make([]auditItem, 0, min(1<<16, (last-first+1)*int64(h.perHour+1)))
	for hour := first; hour <= last; hour++ {
		for _, it := range h.hour(as, hour) {
			if it.createMs >= lo && it.createMs < hi {
				out = append(out, it)
			}
		}
	}
	slices.SortFunc(out, func(a, b auditItem) int { return cmp.Or(cmp.Compare(a.createMs, b.createMs), cmp.Compare(a.id, b.id)) })
	return out
}

// hour generates the entries of one hour of a sub-account (hour >= fromHour), unordered.
func (h *auditHistory) hour(as *auditSub, hour int64) []auditItem {
	if len(as.kinds) == 0 {
		return nil
	}
	r := h.rand(as, kindAuditHour, hour)
	n := r.IntN(2*h.perHour + 1) // on average perHour
	out := make([]auditItem, 0, n+1)
	for range n {
		out = append(out, h.entry(r, as, hour))
	}
	if as.pwAgent != 0 && hour == as.pwHour {
		out = append(out, h.passwordEntry(as, hour))
	}
	return out
}

// base draws what every entry has: id, time, lateness, author.
func (h *auditHistory) base(r *rand.Rand, hour int64) auditItem {
	it := auditItem{id: uuid(r), createMs: hour*int64(time.Hour/time.Millisecond) + r.Int64N(int64(time.Hour/time.Millisecond))}
	it.late = r.Float64() < h.lateFraction
	if len(h.users) > 0 {
		it.user = pick(r, h.users)
	}
	return it
}

// uuid draws a random (version 4) UUID.
func uuid(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0x0fff|0x4000, b>>48&0x3fff|0x8000, b&0xffffffffffff)
}

// passwordEntry is the sub-account's one agent password change.
func (h *auditHistory) passwordEntry(as *auditSub, hour int64) auditItem {
	it := h.base(h.rand(as, kindAuditPassword, 1), hour)
	it.late, it.password = false, true
	it.action, it.class, it.entityID = "UPDATE", "Agent", as.pwAgent
	it.desc = agentUsername(as.pwAgent)
	it.changes = []doc{change("password", as.pwOld, as.pwNew, "Agent")}
	return it
}

// entry draws one ordinary entry: an UPDATE (7 in 10), a CREATE or a DELETE of one of the
// sub-account's objects. An UPDATE changes one attribute; a CREATE or DELETE carries the
// object (affectedEntityJson).
func (h *auditHistory) entry(r *rand.Rand, as *auditSub, hour int64) auditItem {
	it := h.base(r, hour)
	it.class = pick(r, as.kinds)
	switch v := r.IntN(20); {
	case v < 14:
		it.action = "UPDATE"
	case v < 17:
		it.action = "CREATE"
	default:
		it.action = "DELETE"
	}
	upd := it.action == "UPDATE"
	ref := func(refs []auditRef) auditRef {
		if it.action == "DELETE" {
			return auditRef{auditDeletedIDBase + r.IntN(1_000_000), pick(r, refs).parent}
		}
		return pick(r, refs)
	}
	id := func(ids []int) int { return ref([]auditRef{{id: pick(r, ids)}}).id }
	set := func(attr, from, to string) { it.changes = []doc{change(attr, from, to, it.class)} }
	seed := h.seed
	switch it.class {
	case "Agent":
		a := ref(as.agents)
		first, last, _ := agentStart(seed, a.id)
		it.entityID, it.desc = a.id, agentUsername(a.id)
		switch {
		case !upd:
			it.entity = doc{{"agentId", a.id}, {"agentGroupId", a.parent}, {"firstName", first}, {"lastName", last},
				{"username", agentUsername(a.id)}, {"isActive", true}}
		default:
			switch r.IntN(5) {
			case 0:
				set("isActive", "true", "false") // the agent disabled
			case 1:
				set("firstName", pickOther(r, firstNames, first), first)
			case 2:
				set("lastName", pickOther(r, lastNames, last), last)
			case 3:
				set("agentRank", strconv.Itoa(r.IntN(5)), strconv.Itoa(5+r.IntN(5)))
			default:
				set("allowOutbound", "false", "true")
			}
		}
	case "Gate":
		q := ref(as.gates)
		name, _, _ := queueStart(seed, q.id)
		it.entityID, it.desc = q.id, name
		switch p := r.IntN(10); {
		case !upd:
			it.entity = doc{{"gateId", q.id}, {"gateGroupId", q.parent}, {"gateName", name}, {"isActive", true}}
		case p < 4:
			set("gatePriority", strconv.Itoa(p), strconv.Itoa(p+1))
		case p < 6:
			set("gateName", pick(r, queueTopics)+" (old)", name)
		case p < 8:
			set("gateOpen", "true", "false")
		default:
			set("slaTime", strconv.Itoa(10*(1+r.IntN(3))), strconv.Itoa(10*(4+r.IntN(3))))
		}
	case "AgentGroup":
		g := id(as.groups)
		name := groupName(seed, g, g == as.groups[0])
		it.entityID, it.desc = g, name
		if !upd {
			it.entity = doc{{"agentGroupId", g}, {"groupName", name}, {"isDefault", false}}
		} else {
			set("groupName", pickOther(r, teamNames, name), name)
		}
	case "Campaign":
		c := ref(as.campaigns)
		name := campaignName(seed, c.id)
		it.entityID, it.desc = c.id, name
		switch r.IntN(3) {
		case 0:
			set("campaignName", "Draft "+name, name)
		case 1:
			set("isActive", "1", "0")
		default:
			set("campaignPriority", strconv.Itoa(1+r.IntN(5)), strconv.Itoa(6+r.IntN(5)))
		}
		if !upd {
			it.entity = doc{{"campaignId", c.id}, {"dialGroupId", c.parent}, {"campaignName", name}, {"isActive", 1}}
		}
	case "DialGroup":
		d := id(as.dialGroups)
		name, _ := dialGroupStart(seed, d)
		it.entityID, it.desc = d, name
		m := r.IntN(len(dialModes))
		switch {
		case !upd:
			it.entity = doc{{"dialGroupId", d}, {"dialGroupName", name}, {"dialMode", dialModes[m]}, {"isActive", true}}
		case r.IntN(2) == 0:
			set("dialMode", dialModes[m], dialModes[(m+1)%len(dialModes)])
		default:
			set("maxPorts", strconv.Itoa(10*(1+r.IntN(5))), strconv.Itoa(10*(6+r.IntN(5))))
		}
	case "User":
		u := id(h.users)
		first, last, _ := userStart(seed, u)
		it.entityID, it.desc = u, userName(u)
		switch {
		case !upd:
			it.entity = doc{{"userId", u}, {"userName", userName(u)}, {"firstName", first}, {"lastName", last}, {"enabled", true}}
		case r.IntN(2) == 0:
			set("enabled", "true", "false")
		default:
			set("firstName", pickOther(r, firstNames, first), first)
		}
	}
	if !upd {
		it.changes = nil
	}
	return it
}

// pickOther picks an element of s other than cur (s has two distinct elements or more).
func pickOther(r *rand.Rand, s []string, cur string) string {
	i := r.IntN(len(s))
	if s[i] == cur {
		i = (i + 1) % len(s)
	}
	return s[i]
}

// change is an auditLogResultList item; values as strings, as both samples send them.
func change(attr, from, to, class string) doc {
	return doc{{"attributeName", attr}, {"originalValue", from}, {"newValue", to}, {"classType", auditClasses[class]}}
}

// render appends the entry as the search serves it (field order of audit-logs.md's samples).
func (h *auditHistory) render(sub string, it *auditItem, b []byte) []byte {
	var user any
	if it.user != 0 {
		first, last, _ := userStart(h.seed, it.user)
		user = doc{{"sourceId", userIP(it.user)}, {"firstName", first}, {"lastName", last}, {"userName", userName(it.user)},
			{"userId", strconv.Itoa(it.user)}, {"fullJson", nil}, {"simulatedByUserId", nil}, {"simulatedByUserName", nil},
			{"simulatedFromIP", nil}}
	}
	// auditLogResultList: the changes of an UPDATE, null for a CREATE (audit-logs.md's CREATE
	// sample), [] for a DELETE ([I] audit-logs.md: "If an entity is deleted, the changes array
	// will be empty"). affectedEntityJson: the object as a JSON string (the CREATE sample;
	// the spec types it a string), null for an UPDATE. [I] Which fields it holds is not
	// documented beyond the sample; a few identifying ones, no secrets.
	var changes, entity any
	switch it.action {
	case "UPDATE":
		changes = it.changes
	case "DELETE":
		changes = []doc{}
	}
	if it.entity != nil {
		entity = string(appendJSON(nil, it.entity))
	}
	created := time.UnixMilli(it.createMs)
	return appendJSON(b, doc{
		{"id", it.id},
		{"authUser", user},
		{"createTime", it.createMs},
		{"auditLogResultList", changes},
		{"auditedClass", auditClasses[it.class]},
		{"auditedEntityId", strconv.Itoa(it.entityID)}, // a string, as the sample sends it (the spec says object)
		{"auditedEntityDescription", it.desc},
		{"actionType", it.action},
		{"affectedEntityJson", entity},
		{"accountId", sub},
		{"createTimeAsDateTime", apiDate(created)},
		{"_class", auditDocClass},
	})
}

// userIP is the address an admin user works from (TEST-NET-3, RFC 5737).
func userIP(id int) string { return "203.0.113." + strconv.Itoa(1+id%254) }

// campaignName is campaign id's campaignName, as its listing has it. It is not the first draw
// of the campaign's generator: the whole campaign is generated for it.
func campaignName(seed int64, id int) string {
	v, _ := (&Tenant{Seed: seed}).campaignDoc(&Campaign{ID: id}, false).get("campaignName")
	s, _ := v.(string)
	return s
}
