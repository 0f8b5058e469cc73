package engagefake

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// The contact center's configuration: queue groups (the API's gate groups) with their queues
// (gates) and skills, dial groups with their campaigns, and the agents assigned to each queue
// and dial group (docs/api.md, the listings; the shapes follow the official spec's GateGroup,
// Gate, GateGroupSkill, DialGroup, Campaign and Agent schemas).

// QueueGroup is a queue group (gate group) of a sub-account.
type QueueGroup struct {
	ID        int            // gateGroupId, unique in the tenant
	AccountID string         // owning sub-account
	Queues    []*Queue       // its gates, in listing order
	Skills    []*Skill       // its skills, in listing order
	Set       map[string]any // field overrides of the GateGroup JSON object
}

// Queue is a queue (gate) of a queue group.
type Queue struct {
	ID       int            // gateId, unique in the tenant
	GroupID  int            // gateGroupId
	AgentIDs []int          // the agents assigned to it (agents of its sub-account), in listing order
	Set      map[string]any // field overrides of the Gate JSON object
}

// Skill is a skill of a queue group.
type Skill struct {
	ID      int            // skillId, unique in the tenant
	GroupID int            // gateGroupId
	Set     map[string]any // field overrides of the GateGroupSkill JSON object
}

// DialGroup is a dial group of a sub-account.
type DialGroup struct {
	ID        int            // dialGroupId, unique in the tenant
	AccountID string         // owning sub-account
	Campaigns []*Campaign    // its campaigns, in listing order
	AgentIDs  []int          // the agents assigned to it, in listing order
	Set       map[string]any // field overrides of the DialGroup JSON object
}

// Campaign is a campaign of a dial group.
type Campaign struct {
	ID          int            // campaignId, unique in the tenant
	DialGroupID int            // its dial group
	Set         map[string]any // field overrides of the Campaign JSON object
}

// ID bases of the configuration entities (above the agents' ids of any tenant the tests make).
const (
	queueGroupIDBase = 400001
	queueIDBase      = 500001
	skillIDBase      = 600001
	dialGroupIDBase  = 700001
	campaignIDBase   = 800001
)

// configIndex holds the configuration entities' lookup maps and next ids.
type configIndex struct {
	nextQueueGroup, nextQueue, nextSkill, nextDialGroup, nextCampaign int

	queueGroupByID map[int]*QueueGroup
	queueByID      map[int]*Queue
	skillByID      map[int]*Skill
	dialGroupByID  map[int]*DialGroup
	campaignByID   map[int]*Campaign
}

func (c *configIndex) startIDs() {
	c.nextQueueGroup, c.nextQueue, c.nextSkill = queueGroupIDBase, queueIDBase, skillIDBase
	c.nextDialGroup, c.nextCampaign = dialGroupIDBase, campaignIDBase
}

// reindexConfig rebuilds the configuration's lookup maps from the slices.
func (t *Tenant) reindexConfig() {
	t.queueGroupByID, t.queueByID, t.skillByID = map[int]*QueueGroup{}, map[int]*Queue{}, map[int]*Skill{}
	t.dialGroupByID, t.campaignByID = map[int]*DialGroup{}, map[int]*Campaign{}
	for _, sa := range t.SubAccounts {
		for _, g := range sa.QueueGroups {
			g.AccountID = sa.ID
			t.queueGroupByID[g.ID] = g
			for _, q := range g.Queues {
				q.GroupID = g.ID
				t.queueByID[q.ID] = q
			}
			for _, s := range g.Skills {
				s.GroupID = g.ID
				t.skillByID[s.ID] = s
			}
		}
		for _, d := range sa.DialGroups {
			d.AccountID = sa.ID
			t.dialGroupByID[d.ID] = d
			for _, c := range d.Campaigns {
				c.DialGroupID = d.ID
				t.campaignByID[c.ID] = c
			}
		}
	}
}

// generateConfig generates a sub-account's configuration: its queue groups, queues, skills,
// dial groups and campaigns, and the assignments of its agents (a deterministic run of the
// sub-account's agents, from a random start, per queue and dial group).
func (t *Tenant) generateConfig(sa *SubAccount, spec TenantSpec) {
	var agents []int
	for _, g := range sa.Groups {
		for _, a := range g.Agents {
			agents = append(agents, a.ID)
		}
	}
	assign := func(kind uint64, id, n int) []int {
		n = min(n, len(agents))
		if n == 0 {
			return nil
		}
		start := entityRand(t.Seed, kind, id).IntN(len(agents))
		out := make([]int, n)
		for i := range out {
			out[i] = agents[(start+i)%len(agents)]
		}
		return out
	}
	for range spec.QueueGroupsPerSubAccount {
		g, _ := t.AddQueueGroup(sa.ID)
		for range spec.QueuesPerGroup {
			q, _ := t.AddQueue(g.ID)
			q.AgentIDs = assign(kindQueueAssign, q.ID, spec.AgentsPerQueue)
		}
		for range spec.SkillsPerQueueGroup {
			_, _ = t.AddSkill(g.ID)
		}
	}
	for range spec.DialGroupsPerSubAccount {
		d, _ := t.AddDialGroup(sa.ID)
		d.AgentIDs = assign(kindDialAssign, d.ID, spec.AgentsPerDialGroup)
		for range spec.CampaignsPerDialGroup {
			_, _ = t.AddCampaign(d.ID)
		}
	}
}

// QueueGroup returns the queue group with id, or nil.
func (t *Tenant) QueueGroup(id int) *QueueGroup { return t.queueGroupByID[id] }

// Queue returns the queue with id, or nil.
func (t *Tenant) Queue(id int) *Queue { return t.queueByID[id] }

// Skill returns the skill with id, or nil.
func (t *Tenant) Skill(id int) *Skill { return t.skillByID[id] }

// DialGroup returns the dial group with id, or nil.
func (t *Tenant) DialGroup(id int) *DialGroup { return t.dialGroupByID[id] }

// Campaign returns the campaign with id, or nil.
func (t *Tenant) Campaign(id int) *Campaign { return t.campaignByID[id] }

// AddQueueGroup adds an empty queue group to a sub-account.
func (t *Tenant) AddQueueGroup(accountID string) (*QueueGroup, error) {
	sa := t.subByID[accountID]
	if sa == nil {
		return nil, fmt.Errorf("adding queue group to account %s: %w", accountID, ErrNotFound)
	}
	g := &QueueGroup{ID: t.nextQueueGroup, AccountID: accountID}
	t.nextQueueGroup++
	sa.QueueGroups = append(sa.QueueGroups, g)
	t.queueGroupByID[g.ID] = g
	return g, nil
}

// AddQueue adds a queue without assigned agents to a queue group.
func (t *Tenant) AddQueue(groupID int) (*Queue, error) {
	g := t.queueGroupByID[groupID]
	if g == nil {
		return nil, fmt.Errorf("adding queue to queue group %d: %w", groupID, ErrNotFound)
	}
	q := &Queue{ID: t.nextQueue, GroupID: groupID}
	t.nextQueue++
	g.Queues = append(g.Queues, q)
	t.queueByID[q.ID] = q
	return q, nil
}

// AddSkill adds a skill to a queue group.
func (t *Tenant) AddSkill(groupID int) (*Skill, error) {
	g := t.queueGroupByID[groupID]
	if g == nil {
		return nil, fmt.Errorf("adding skill to queue group %d: %w", groupID, ErrNotFound)
	}
	s := &Skill{ID: t.nextSkill, GroupID: groupID}
	t.nextSkill++
	g.Skills = append(g.Skills, s)
	t.skillByID[s.ID] = s
	return s, nil
}

// AddDialGroup adds an empty dial group to a sub-account.
func (t *Tenant) AddDialGroup(accountID string) (*DialGroup, error) {
	sa := t.subByID[accountID]
	if sa == nil {
		return nil, fmt.Errorf("adding dial group to account %s: %w", accountID, ErrNotFound)
	}
	d := &DialGroup{ID: t.nextDialGroup, AccountID: accountID}
	t.nextDialGroup++
	sa.DialGroups = append(sa.DialGroups, d)
	t.dialGroupByID[d.ID] = d
	return d, nil
}

// AddCampaign adds a campaign to a dial group.
func (t *Tenant) AddCampaign(dialGroupID int) (*Campaign, error) {
	d := t.dialGroupByID[dialGroupID]
	if d == nil {
		return nil, fmt.Errorf("adding campaign to dial group %d: %w", dialGroupID, ErrNotFound)
	}
	c := &Campaign{ID: t.nextCampaign, DialGroupID: dialGroupID}
	t.nextCampaign++
	d.Campaigns = append(d.Campaigns, c)
	t.campaignByID[c.ID] = c
	return c, nil
}

// RemoveQueueGroup removes a queue group with its queues (and their assignments) and skills.
func (t *Tenant) RemoveQueueGroup(id int) error {
	g := t.queueGroupByID[id]
	if g == nil {
		return fmt.Errorf("removing queue group %d: %w", id, ErrNotFound)
	}
	sa := t.subByID[g.AccountID]
	sa.QueueGroups = slices.DeleteFunc(sa.QueueGroups, func(x *QueueGroup) bool { return x == g })
	delete(t.queueGroupByID, id)
	for _, q := range g.Queues {
		delete(t.queueByID, q.ID)
	}
	for _, s := range g.Skills {
		delete(t.skillByID, s.ID)
	}
	return nil
}

// RemoveQueue removes a queue with its assignments.
func (t *Tenant) RemoveQueue(id int) error {
	q := t.queueByID[id]
	if q == nil {
		return fmt.Errorf("removing queue %d: %w", id, ErrNotFound)
	}
	g := t.queueGroupByID[q.GroupID]
	g.Queues = slices.DeleteFunc(g.Queues, func(x *Queue) bool { return x == q })
	delete(t.queueByID, id)
	return nil
}

// RemoveSkill removes a skill.
func (t *Tenant) RemoveSkill(id int) error {
	s := t.skillByID[id]
	if s == nil {
		return fmt.Errorf("removing skill %d: %w", id, ErrNotFound)
	}
	g := t.queueGroupByID[s.GroupID]
	g.Skills = slices.DeleteFunc(g.Skills, func(x *Skill) bool { return x == s })
	delete(t.skillByID, id)
	return nil
}

// RemoveDialGroup removes a dial group with its campaigns and assignments.
func (t *Tenant) RemoveDialGroup(id int) error {
	d := t.dialGroupByID[id]
	if d == nil {
		return fmt.Errorf("removing dial group %d: %w", id, ErrNotFound)
	}
	sa := t.subByID[d.AccountID]
	sa.DialGroups = slices.DeleteFunc(sa.DialGroups, func(x *DialGroup) bool { return x == d })
	delete(t.dialGroupByID, id)
	for _, c := range d.Campaigns {
		delete(t.campaignByID, c.ID)
	}
	return nil
}

// RemoveCampaign removes a campaign.
func (t *Tenant) RemoveCampaign(id int) error {
	c := t.campaignByID[id]
	if c == nil {
		return fmt.Errorf("removing campaign %d: %w", id, ErrNotFound)
	}
	d := t.dialGroupByID[c.DialGroupID]
	d.Campaigns = slices.DeleteFunc(d.Campaigns, func(x *Campaign) bool { return x == c })
	delete(t.campaignByID, id)
	return nil
}

// assignable checks that agent belongs to the sub-account accountID.
func (t *Tenant) assignable(agentID int, accountID string) error {
	if a := t.agentByID[agentID]; a == nil || a.AccountID != accountID {
		return fmt.Errorf("agent %d in account %s: %w", agentID, accountID, ErrNotFound)
	}
	return nil
}

// AssignAgentToQueue assigns an agent of the queue's sub-account to it (at the end of its list).
func (t *Tenant) AssignAgentToQueue(queueID, agentID int) error {
	q := t.queueByID[queueID]
	if q == nil {
		return fmt.Errorf("assigning to queue %d: %w", queueID, ErrNotFound)
	}
	if err := t.assignable(agentID, t.queueGroupByID[q.GroupID].AccountID); err != nil {
		return fmt.Errorf("assigning to queue %d: %w", queueID, err)
	}
	if !slices.Contains(q.AgentIDs, agentID) {
		q.AgentIDs = append(q.AgentIDs, agentID)
	}
	return nil
}

// UnassignAgentFromQueue removes an agent from a queue's assigned agents.
func (t *Tenant) UnassignAgentFromQueue(queueID, agentID int) error {
	q := t.queueByID[queueID]
	if q == nil || !slices.Contains(q.AgentIDs, agentID) {
		return fmt.Errorf("unassigning agent %d from queue %d: %w", agentID, queueID, ErrNotFound)
	}
	q.AgentIDs = slices.DeleteFunc(q.AgentIDs, func(id int) bool { return id == agentID })
	return nil
}

// AssignAgentToDialGroup assigns an agent of the dial group's sub-account to it.
func (t *Tenant) AssignAgentToDialGroup(dialGroupID, agentID int) error {
	d := t.dialGroupByID[dialGroupID]
	if d == nil {
		return fmt.Errorf("assigning to dial group %d: %w", dialGroupID, ErrNotFound)
	}
	if err := t.assignable(agentID, d.AccountID); err != nil {
		return fmt.Errorf("assigning to dial group %d: %w", dialGroupID, err)
	}
	if !slices.Contains(d.AgentIDs, agentID) {
		d.AgentIDs = append(d.AgentIDs, agentID)
	}
	return nil
}

// UnassignAgentFromDialGroup removes an agent from a dial group's assigned agents.
func (t *Tenant) UnassignAgentFromDialGroup(dialGroupID, agentID int) error {
	d := t.dialGroupByID[dialGroupID]
	if d == nil || !slices.Contains(d.AgentIDs, agentID) {
		return fmt.Errorf("unassigning agent %d from dial group %d: %w", agentID, dialGroupID, ErrNotFound)
	}
	d.AgentIDs = slices.DeleteFunc(d.AgentIDs, func(id int) bool { return id == agentID })
	return nil
}

// unassignEverywhere drops agent id from every queue and dial group (it was removed or moved
// to another sub-account).
func (t *Tenant) unassignEverywhere(id int) {
	drop := func(ids []int) []int { return slices.DeleteFunc(ids, func(x int) bool { return x == id }) }
	for _, q := range t.queueByID {
		q.AgentIDs = drop(q.AgentIDs)
	}
	for _, d := range t.dialGroupByID {
		d.AgentIDs = drop(d.AgentIDs)
	}
}

// update records one field override of a configuration entity found by get.
func update[T any](what string, id int, get func(int) *T, set func(*T) *map[string]any, field string, value any) error {
	e := get(id)
	if e == nil {
		return fmt.Errorf("updating %s %d: %w", what, id, ErrNotFound)
	}
	setField(set(e), field, value)
	return nil
}

// UpdateQueueGroup overrides one JSON field of a queue group (Omit removes it, nil sends null).
func (t *Tenant) UpdateQueueGroup(id int, field string, value any) error {
	return update("queue group", id, t.QueueGroup, func(g *QueueGroup) *map[string]any { return &g.Set }, field, value)
}

// UpdateQueue overrides one JSON field of a queue.
func (t *Tenant) UpdateQueue(id int, field string, value any) error {
	return update("queue", id, t.Queue, func(q *Queue) *map[string]any { return &q.Set }, field, value)
}

// UpdateSkill overrides one JSON field of a skill.
func (t *Tenant) UpdateSkill(id int, field string, value any) error {
	return update("skill", id, t.Skill, func(s *Skill) *map[string]any { return &s.Set }, field, value)
}

// UpdateDialGroup overrides one JSON field of a dial group.
func (t *Tenant) UpdateDialGroup(id int, field string, value any) error {
	return update("dial group", id, t.DialGroup, func(d *DialGroup) *map[string]any { return &d.Set }, field, value)
}

// UpdateCampaign overrides one JSON field of a campaign.
func (t *Tenant) UpdateCampaign(id int, field string, value any) error {
	return update("campaign", id, t.Campaign, func(c *Campaign) *map[string]any { return &c.Set }, field, value)
}

// Generated documents.

var (
	dialModes   = []string{"PREVIEW", "CLICK_TO_TALK", "PREDICTIVE", "POWER", "TCPA_SAFE_MODE"}
	queueTopics = []string{"Billing", "Support", "Sales", "Retention", "Onboarding", "Escalations", "Facturation", "Kundendienst"}
	skillNames  = []string{"English", "Spanish", "French", "German", "Japanese", "Billing disputes", "Hardware", "VIP"}
)

// queueGroupDoc generates the GateGroup object, its gates nested (gateGroups/withChildren).
func (t *Tenant) queueGroupDoc(g *QueueGroup, perms bool) doc {
	r := entityRand(t.Seed, kindQueueGroup, g.ID)
	gates := make([]doc, 0, len(g.Queues))
	for _, q := range g.Queues {
		gates = append(gates, t.queueDoc(q, perms))
	}
	return doc{
		{"permissions", permissionsOf(perms)},
		{"gateGroupId", g.ID},
		{"groupName", fmt.Sprintf("%s %s", pick(r, cityNames), pick(r, queueTopics))},
		{"billingKey", fmt.Sprintf("BK-%d", g.ID)},
		{"createdOn", apiDate(randDate(r))},
		{"startDate", nil},
		{"endDate", nil},
		{"groupSkills", nil},
		{"gates", gates},
	}.with(g.Set)
}

// queueStart starts queue (gate) id's generator: its topic is its first draw, and its
// gateName the topic and id; queueDoc draws the rest from r. The audit log names a gate
// with it (see agentUsername).
func queueStart(seed int64, id int) (name, topic string, r *rand.Rand) {
	r = entityRand(seed, kindQueue, id)
	topic = pick(r, queueTopics)
	return fmt.Sprintf("%s %d", topic, id%1000), topic, r
}

// dialGroupStart starts dial group id's generator: its dialGroupName is its first draw;
// dialGroupDoc draws the rest from r. The audit log names a dial group with it (see
// agentUsername).
func dialGroupStart(seed int64, id int) (name string, r *rand.Rand) {
	r = entityRand(seed, kindDialGroup, id)
	return fmt.Sprintf("%s Outbound %d", pick(r, cityNames), id%1000), r
}

// queueDoc generates a Gate object, with a nested RemoteHttpService (its httpPassword is a
// secret-bearing key at depth).
func (t *Tenant) queueDoc(q *Queue, perms bool) doc {
	name, topic, r := queueStart(t.Seed, q.ID)
	var soap any
	if chance(r, 2) {
		soap = doc{{"serviceId", 900000 + q.ID}, {"serviceDescription", "CRM lookup"}, {"serviceType", "HTTP_POST"},
			{"httpUsername", fmt.Sprintf("svc%d", q.ID)}, {"httpPassword", secret(r)}, {"isEnabled", true}}
	}
	return doc{
		{"permissions", permissionsOf(perms)},
		{"gateId", q.ID},
		{"gateName", name},
		{"gateDesc", fmt.Sprintf("%s calls", topic)},
		{"gateOpen", !chance(r, 10)},
		{"isActive", !chance(r, 8)},
		{"gatePriority", 1 + r.IntN(10)},
		{"createdOn", apiDate(randDate(r))},
		{"billingCode", fmt.Sprintf("Q%d", q.ID)},
		{"slaTime", 10 * (1 + r.IntN(6))},
		{"wrapTime", 15 * r.IntN(5)},
		{"maxQueueLimit", 50 * (1 + r.IntN(4))},
		{"recordCall", r.IntN(2)},
		{"outboundCallerId", fmt.Sprintf("303555%04d", r.IntN(10000))},
		{"afterCallBaseState", "AVAILABLE"},
		{"agentConnSoapService", soap},
	}.with(q.Set)
}

// skillDoc generates a GateGroupSkill object.
func (t *Tenant) skillDoc(s *Skill) doc {
	r := entityRand(t.Seed, kindSkill, s.ID)
	name := pick(r, skillNames)
	return doc{
		{"skillId", s.ID},
		{"skillName", name},
		{"skillDesc", name + " speakers"},
		{"active", !chance(r, 6)},
		{"createdOn", apiDate(randDate(r))},
		{"whisperAudio", nil},
	}.with(s.Set)
}

// dialGroupDoc generates the DialGroup object, its campaigns nested (dialGroups/withChildren).
func (t *Tenant) dialGroupDoc(d *DialGroup, perms bool) doc {
	name, r := dialGroupStart(t.Seed, d.ID)
	campaigns := make([]doc, 0, len(d.Campaigns))
	for _, c := range d.Campaigns {
		campaigns = append(campaigns, t.campaignDoc(c, perms))
	}
	return doc{
		{"permissions", permissionsOf(perms)},
		{"dialGroupId", d.ID},
		{"dialGroupName", name},
		{"dialGroupDesc", "Outbound dialing"},
		{"dialMode", pick(r, dialModes)},
		{"isActive", !chance(r, 6)},
		{"billingKey", fmt.Sprintf("DG-%d", d.ID)},
		{"maxPorts", 10 * (1 + r.IntN(10))},
		{"minPredictiveAgents", 1 + r.IntN(5)},
		{"progressiveEnabled", r.IntN(2) == 0},
		{"enableAgentFilter", r.IntN(2) == 0},
		{"hciEnabled", "DISABLED"},
		{"campaigns", campaigns},
	}.with(d.Set)
}

// campaignDoc generates a Campaign object: isActive is 0/1 as the spec types it, and the
// nested ResultFileDestination carries an ftpPwd (secret-bearing, at depth).
func (t *Tenant) campaignDoc(c *Campaign, perms bool) doc {
	r := entityRand(t.Seed, kindCampaign, c.ID)
	start := randDate(r)
	var end any
	if chance(r, 3) {
		end = apiDate(start.Add(time.Duration(30+r.IntN(365)) * 24 * time.Hour))
	}
	active := 1
	if chance(r, 4) {
		active = 0
	}
	return doc{
		{"permissions", permissionsOf(perms)},
		{"campaignId", c.ID},
		{"campaignName", fmt.Sprintf("%s %d", pick(r, []string{"Renewals", "Win-back", "Survey", "Upsell", "Reminders"}), c.ID%1000)},
		{"campaignDesc", "Outbound campaign"},
		{"campaignPriority", 1 + r.IntN(10)},
		{"isActive", active},
		{"startDate", apiDate(start)},
		{"endDate", end},
		{"maxPasses", 1 + r.IntN(5)},
		{"maxRingTime", 20 + r.IntN(20)},
		{"machineDetect", r.IntN(2) == 0},
		{"campaignResultDest", doc{{"destinationId", 800000 + c.ID}, {"destType", "FTP"}, {"ftpServer", "ftp.example.com"},
			{"ftpUid", fmt.Sprintf("camp%d", c.ID)}, {"ftpPwd", secret(r)}}},
	}.with(c.Set)
}

func permissionsOf(perms bool) []string {
	if perms {
		return allPermissions
	}
	return []string{}
}

// Rendering.

// pageQuery reads the optional page and maxRows of a paged listing (docs/api.md, Paging): page is
// 0-based; without a positive maxRows the whole list is one answer (page -1).
func pageQuery(q url.Values) (page, maxRows int, err error) {
	page, maxRows = -1, -1
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 0 {
			return 0, 0, fmt.Errorf("page must be a non-negative integer")
		}
	}
	if v := q.Get("maxRows"); v != "" {
		if maxRows, err = strconv.Atoi(v); err != nil || maxRows < 1 {
			return 0, 0, fmt.Errorf("maxRows must be a positive integer")
		}
	}
	if maxRows > 0 {
		return max(page, 0), maxRows, nil
	}
	return -1, -1, nil
}

// pageOf returns page (0-based) of n items of maxRows each as a range; everything when
// maxRows <= 0. A page past the end is empty (without computing page*maxRows, which a huge
// page would overflow).
func pageOf(n, page, maxRows int) (lo, hi int) {
	if maxRows <= 0 {
		return 0, n
	}
	if page > n/maxRows {
		return n, n
	}
	lo = page * maxRows
	return lo, min(n, lo+maxRows)
}

// configCacheKey is cacheKey for the configuration endpoints.
func configCacheKey(rt route, q url.Values) (string, error) {
	page, maxRows, err := pageQuery(q)
	if err != nil {
		return "", err
	}
	perms, err := parseBool(q.Get("includePermissions"))
	if err != nil {
		return "", fmt.Errorf("includePermissions must be true or false")
	}
	key := rt.endpoint + "/" + strconv.Quote(rt.accountID) + "/" + strconv.Quote(rt.groupID) + "/" + strconv.Quote(rt.arg)
	switch rt.endpoint {
	case EndpointGateSkills:
		return key, nil // no query parameters
	case EndpointGateAgents, EndpointDialGroupAgents:
		return key + "?page=" + strconv.Itoa(page) + "&maxRows=" + strconv.Itoa(maxRows), nil
	}
	return key + "?page=" + strconv.Itoa(page) + "&maxRows=" + strconv.Itoa(maxRows) + "&includePermissions=" + strconv.FormatBool(perms), nil
}

// renderConfig renders a configuration listing (tenant read-locked).
func (t *Tenant) renderConfig(rt route, q url.Values) (int, []byte) {
	sa := t.SubAccount(rt.accountID)
	if sa == nil {
		return http.StatusNotFound, []byte("account " + rt.accountID + " not found")
	}
	page, maxRows, _ := pageQuery(q)
	perms, _ := parseBool(q.Get("includePermissions"))
	switch rt.endpoint {
	case EndpointGateGroups:
		lo, hi := pageOf(len(sa.QueueGroups), page, maxRows)
		return http.StatusOK, renderDocs(sa.QueueGroups[lo:hi], func(g *QueueGroup) doc { return t.queueGroupDoc(g, perms) })
	case EndpointDialGroups:
		lo, hi := pageOf(len(sa.DialGroups), page, maxRows)
		return http.StatusOK, renderDocs(sa.DialGroups[lo:hi], func(d *DialGroup) doc { return t.dialGroupDoc(d, perms) })
	case EndpointGateSkills:
		g, status, body := t.queueGroupIn(sa, rt.groupID)
		if g == nil {
			return status, body
		}
		return http.StatusOK, renderDocs(g.Skills, t.skillDoc)
	case EndpointGateAgents:
		g, status, body := t.queueGroupIn(sa, rt.groupID)
		if g == nil {
			return status, body
		}
		gid, err := strconv.Atoi(rt.arg)
		qu := t.Queue(gid)
		if err != nil || qu == nil || qu.GroupID != g.ID {
			return http.StatusNotFound, []byte("gate " + rt.arg + " not found in gate group " + rt.groupID)
		}
		return http.StatusOK, t.renderAssigned(qu.AgentIDs, page, maxRows)
	case EndpointDialGroupAgents:
		id, err := strconv.Atoi(rt.groupID)
		d := t.DialGroup(id)
		if err != nil || d == nil || d.AccountID != sa.ID {
			return http.StatusNotFound, []byte("dial group " + rt.groupID + " not found in account " + rt.accountID)
		}
		return http.StatusOK, t.renderAssigned(d.AgentIDs, page, maxRows)
	}
	return http.StatusNotFound, []byte("no such endpoint")
}

// queueGroupIn finds the queue group id of sa, or the 404 to answer.
func (t *Tenant) queueGroupIn(sa *SubAccount, id string) (*QueueGroup, int, []byte) {
	gid, err := strconv.Atoi(id)
	g := t.QueueGroup(gid)
	if err != nil || g == nil || g.AccountID != sa.ID {
		return nil, http.StatusNotFound, []byte("gate group " + id + " not found in account " + sa.ID)
	}
	return g, 0, nil
}

// renderAssigned renders one page (or all) of assigned agents as the agents listing renders
// agents; an id whose agent is gone is skipped.
func (t *Tenant) renderAssigned(ids []int, page, maxRows int) []byte {
	lo, hi := pageOf(len(ids), page, maxRows)
	var agents []*Agent
	for _, id := range ids[lo:hi] {
		if a := t.Agent(id); a != nil {
			agents = append(agents, a)
		}
	}
	return renderDocs(agents, t.agentDoc)
}

// renderDocs renders items as a JSON array of their docs.
func renderDocs[T any](items []T, docOf func(T) doc) []byte {
	b := []byte{'['}
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSON(b, docOf(it))
	}
	return append(b, ']')
}

// configCounts adds the configuration's live counts to c.
func (t *Tenant) configCounts(c *Counts) {
	for _, sa := range t.SubAccounts {
		c.QueueGroups += len(sa.QueueGroups)
		c.DialGroups += len(sa.DialGroups)
		for _, g := range sa.QueueGroups {
			c.Queues += len(g.Queues)
			c.Skills += len(g.Skills)
			for _, q := range g.Queues {
				c.QueueAssignments += len(q.AgentIDs)
			}
		}
		for _, d := range sa.DialGroups {
			c.Campaigns += len(d.Campaigns)
			c.DialGroupAssignments += len(d.AgentIDs)
		}
	}
}

// ConfigPaths returns the admin API path of every configuration listing of the tenant, in
// order (each sub-account's queue groups and dial groups; each queue group's skills; each
// queue's and dial group's assigned agents), without query parameters.
func (s *Server) ConfigPaths() []string {
	s.tmu.RLock()
	defer s.tmu.RUnlock()
	var out []string
	for _, sa := range s.tenant.SubAccounts {
		acc := "/voice/api/v1/admin/accounts/" + url.PathEscape(sa.ID)
		out = append(out, acc+"/gateGroups/withChildren", acc+"/dialGroups/withChildren")
		for _, g := range sa.QueueGroups {
			out = append(out, fmt.Sprintf("%s/gateGroups/%d/skills", acc, g.ID))
			for _, q := range g.Queues {
				out = append(out, fmt.Sprintf("%s/gateGroups/%d/gates/%d/assignedAgents", acc, g.ID, q.ID))
			}
		}
		for _, d := range sa.DialGroups {
			out = append(out, fmt.Sprintf("%s/dialGroups/%d/assignedAgents", acc, d.ID))
		}
	}
	return out
}
