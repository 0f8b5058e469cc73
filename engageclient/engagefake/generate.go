package engagefake

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Name pools; deliberately mixed with non-ASCII names.
var (
	firstNames = []string{"Anna", "Ben", "Chloé", "David", "Émile", "Fatima", "George", "Hana", "Ivan", "José",
		"Kenji", "Léa", "Łukasz", "María", "Noah", "Olga", "Priya", "Quentin", "Renée", "Søren", "Zoë", "陽子", "Дмитрий", "Aoife"}
	lastNames = []string{"Smith", "Müller", "Nowak", "García", "渡辺", "O'Brien", "Dubois", "Kowalski", "Østergaard",
		"Nguyễn", "Иванова", "Schröder", "da Silva", "Johnson", "Brown", "Ng", "Papadopoulos", "Żółć", "Lee", "Patel"}
	teamNames  = []string{"Platform Team", "Dev Support", "Sales", "Billing", "Tier 2", "Nachtschicht", "Équipe Nord", "サポート", "Retention", "VIP"}
	cityNames  = []string{"Denver", "Kraków", "São Paulo", "Zürich", "Osaka", "Austin", "Dublin", "Montréal"}
	roleTypes  = []string{"SUPER_USER", "USER", "MANAGE_USERS", "MANAGE_RIGHTS", "ACCESS_SIBLINGS", "ACCESS_AUDIT_LOG", "ASSUME_USERS", "REPORT_ADMINISTRATIVE_USER"}
	agentTypes = []string{"AGENT", "AGENT", "AGENT", "SUPERVISOR", "MULTI_USER", "MULTI_SUPERVISOR"}
)

// genEpoch is the base of generated dates (fixed, never the clock, so output is deterministic).
var genEpoch = time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC)

// apiDate formats t the way Engage serializes dates: 2020-05-18T19:22:12.000+0000.
func apiDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// randDate returns a generated date in the ~5 years after genEpoch, whole seconds.
func randDate(r *rand.Rand) time.Time {
	return genEpoch.Add(time.Duration(r.IntN(5*365*24*3600)) * time.Second)
}

// secret returns a recognizable, unique secret value.
func secret(r *rand.Rand) string { return fmt.Sprintf("sEcReT-%016x", r.Uint64()) }

// pick returns a random element of s.
func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// chance reports true with probability 1/n.
func chance(r *rand.Rand, n int) bool { return r.IntN(n) == 0 }

// mainDoc generates the nested MainAccount object.
func (t *Tenant) mainDoc(m *MainAccount) doc { return t.mainDocGenerated(m).with(m.Set) }

// rcAccountID is the RingCentral account id of main account m: the generated rcAccountId,
// whatever a test's Set makes the listing say.
func (t *Tenant) rcAccountID(m *MainAccount) string {
	v, _ := t.mainDocGenerated(m).get("rcAccountId")
	s, _ := v.(string)
	return s
}

// mainDocGenerated is the MainAccount object as generated, without m.Set.
func (t *Tenant) mainDocGenerated(m *MainAccount) doc {
	id, _ := strconv.Atoi(m.ID)
	r := entityRand(t.Seed, kindMain, id)
	return doc{
		{"mainAccountId", m.ID},
		{"mainAccountName", fmt.Sprintf("%s %s Holdings", pick(r, lastNames), pick(r, cityNames))},
		{"engageAccountId", m.ID},
		{"rcAccountId", strconv.FormatInt(400000000+int64(r.IntN(99999999)), 10)},
		{"isActive", 1},
		{"dataRetentionDays", 365 * (1 + r.IntN(3))},
		{"enableAmdProfiles", r.IntN(2) == 0},
		{"enableConsultCall", r.IntN(2) == 0},
		{"enablePhoneNumbersI18n", chance(r, 3)},
	}
}

// subDoc generates the full Account object of a sub-account.
func (t *Tenant) subDoc(sa *SubAccount) doc {
	id, _ := strconv.Atoi(sa.ID)
	r := entityRand(t.Seed, kindSub, id)
	var main doc
	if m := t.mainByID[sa.MainAccountID]; m != nil {
		main = t.mainDoc(m)
	} else {
		main = doc{{"mainAccountId", sa.MainAccountID}}
	}
	mainName, _ := main.get("mainAccountName")
	start := randDate(r)
	var end any
	archived := (id-subIDBase)%4 == 1 // the 2nd, 6th, 10th ... sub-account
	if archived {
		end = apiDate(start.Add(time.Duration(30+r.IntN(700)) * 24 * time.Hour))
	}
	b := func() bool { return r.IntN(2) == 0 }
	var crmPwd any
	if !chance(r, 5) {
		crmPwd = secret(r)
	}
	return doc{
		{"accountId", sa.ID},
		{"accountName", fmt.Sprintf("%s %s", pick(r, cityNames), pick(r, teamNames))},
		{"mainAccountId", sa.MainAccountID},
		{"mainAccountName", mainName},
		{"archivedAccount", archived},
		{"startDate", apiDate(start)},
		{"endDate", end},
		{"amdDefaultProfile", r.IntN(5)},
		{"audioRetentionDays", 30 * (1 + r.IntN(12))},
		{"concurrentLogins", 1 + r.IntN(3)},
		{"crmHost", "crm.example.com"},
		{"crmInstance", fmt.Sprintf("inst-%d", r.IntN(100))},
		{"crmPwd", crmPwd},
		{"crmUid", fmt.Sprintf("crm-%s", sa.ID)},
		{"dataRetentionDays", 365},
		{"databaseShardId", fmt.Sprintf("shard%02d", r.IntN(20))},
		{"defaultCallerid", fmt.Sprintf("303555%04d", r.IntN(10000))},
		{"defaultHold", "DEFAULT"},
		{"defaultIntellidialServerId", r.IntN(10)},
		{"defaultOutdialServerGroupId", r.IntN(10)},
		{"dncOrgId", nil},
		{"dncOrgIdConfirmed", false},
		{"emailFromAddress", fmt.Sprintf("noreply+%s@example.com", sa.ID)},
		{"enable247Dialing", b()},
		{"enableAgentRankRouting", b()},
		{"enableAmdProfiles", b()},
		{"enableBlankCallerid", b()},
		{"enableCallEventTracking", b()},
		{"enableCellScrubbing", b()},
		{"enableCentralizedData", b()},
		{"enableChat", b()},
		{"enableCloudRouting", b()},
		{"enableCorporateDirectory", b()},
		{"enableCrmExport", b()},
		{"enableFifo", b()},
		{"enableFolderMode", b()},
		{"enableForceLegacy", false},
		{"enableGoodData", b()},
		{"enableHciDialer", b()},
		{"enableInbound", true},
		{"enableIntlOutbound", b()},
		{"enableListLoading", b()},
		{"enableMultiuser", b()},
		{"enableOutbound", true},
		{"enableOutboundPredictive", b()},
		{"enableScheduledTasks", b()},
		{"enableSoftphones", b()},
		{"enableTaskMode", b()},
		{"enableTcpaSafeMachineDetect", b()},
		{"enableTracking", b()},
		{"enableVisualIvr", b()},
		{"enableVoiceBroadcast", b()},
		{"ftpHost", "ftp.example.com"},
		{"ftpPwd", secret(r)},
		{"ftpUid", fmt.Sprintf("ftp%s", sa.ID)},
		{"ivrAppsEnabled", b()},
		{"mainAccount", main},
		{"maxBreakTime", 15 * (1 + r.IntN(4))},
		{"maxLunchTime", 30 * (1 + r.IntN(2))},
		{"maxOutPortsPerAgent", 1 + r.IntN(4)},
		{"minimumSec", r.IntN(60)},
		{"notificationEmail", fmt.Sprintf("ops+%s@example.com", sa.ID)},
		{"offHookHold", "DEFAULT"},
		{"offHookWhisper", nil},
		{"offHookWhisperGhost", nil},
		{"offhookCallerid", nil},
		{"outboundManualDefaultRingtime", 30},
		{"outboundPrepay", false},
		{"overrideDispositions", r.IntN(2)},
		{"pciCompliance", b()},
		{"pciComplianceRequest", false},
		{"phoneRecordingPin", 790000000 + r.IntN(9999999)}, // 79xxxxxxx: no other generated digits look like it
		{"primaryTimezone", r.IntN(30)},
		{"rcAccountAccess", pick(r, []string{"DISABLED", "ENABLED", "REQUIRED"})},
		{"recordingAccessMode", pick(r, []string{"ANONYMOUS", "ACCOUNT", "RIGHTS_DOC", "DISABLED"})},
		{"recordingFilenameFormat", "{date}_{ani}_{dnis}"},
		{"recordingsDelivery", "NONE"},
		{"rounding", 6},
		{"securityKey", secret(r)},
		{"softphoneHost", "softphone.example.com"},
		{"softphoneWsdl", nil},
		{"tcpaSafeMode", false},
		{"usePowerBy", b()},
		{"weekOffset", 0},
		{"wfmType", pick(r, []string{"GENERIC", "NONE", "NONE"})},
	}.with(sa.Set)
}

// The names of the generated objects come from the functions below (and queueStart and
// dialGroupStart), each the start of its object's generator: the doc builder calls it first,
// and draws the rest of the object from the generator it returns, if any; the audit log names
// the object with it (without generating all of it), so an audit entry always names an
// object as the listings do.

// agentUsername is agent id's username (and email address).
func agentUsername(id int) string { return fmt.Sprintf("agent%d@example.com", id) }

// userName is admin user id's userName.
func userName(id int) string { return fmt.Sprintf("admin%d@example.com", id) }

// agentStart starts agent id's generator: the agent's first and last names are its first
// draws; agentDoc draws the rest from r.
func agentStart(seed int64, id int) (first, last string, r *rand.Rand) {
	r = entityRand(seed, kindAgent, id)
	first, last = pick(r, firstNames), pick(r, lastNames)
	return first, last, r
}

// agentHead continues agentStart with the agent's email (null for about one in ten) and
// rcUserId draws; agentDoc draws the rest from r. The call history takes an agent's rcUserId
// from it, so a segment's segmentParticipantRcExtensionId is what the listing says.
func agentHead(seed int64, id int) (first, last string, email, rcUserID any, r *rand.Rand) {
	first, last, r = agentStart(seed, id)
	email = agentUsername(id)
	if chance(r, 10) {
		email = nil
	}
	// rcUserId is an int64 (EV-SPEC Agent.rcUserId), null for about one agent in ten (an agent
	// without a RingCentral user; the server writes unset values as null), and agentGroupId an
	// integer. Earlier versions drew string forms of both here; the draws stay (their results
	// unused, in agentDoc) so that every other generated value is unchanged. Tests of a
	// client's tolerance of string ids set them with UpdateAgent.
	rcUserID = int64(62000000000 + id)
	if r.IntN(10) == 1 {
		rcUserID = nil
	}
	return first, last, email, rcUserID, r
}

// userStart starts admin user id's generator: the user's first and last names are its first
// draws; userDoc draws the rest from r.
func userStart(seed int64, id int) (first, last string, r *rand.Rand) {
	r = entityRand(seed, kindUser, id)
	first, last = pick(r, firstNames), pick(r, lastNames)
	return first, last, r
}

// groupName is agent group id's groupName, the only draw of its generator ("Default Group"
// for the default group, though the draw is made).
func groupName(seed int64, id int, isDefault bool) string {
	name := fmt.Sprintf("%s %d", pick(entityRand(seed, kindGroup, id), teamNames), id)
	if isDefault {
		return "Default Group"
	}
	return name
}

// groupDoc generates an AgentGroup object.
func (t *Tenant) groupDoc(g *AgentGroup) doc {
	name := groupName(t.Seed, g.ID, g.isDefault)
	var id any = g.ID
	return doc{
		{"permissions", []string{}},
		{"agentGroupId", id},
		{"groupName", name},
		{"isDefault", g.isDefault},
	}.with(g.Set)
}

// agentDoc generates the full Agent object.
func (t *Tenant) agentDoc(a *Agent) doc {
	first, last, email, rcUserID, r := agentHead(t.Seed, a.ID)
	username := agentUsername(a.ID)
	_ = chance(r, 10)
	created := randDate(r)
	var lastLogin any
	switch r.IntN(4) {
	case 0:
		lastLogin = nil
	case 1:
		lastLogin = strings.Replace(apiDate(created.Add(time.Duration(r.IntN(900*24))*time.Hour)), "+0000", "-0000", 1)
	default:
		lastLogin = apiDate(created.Add(time.Duration(r.IntN(900*24)) * time.Hour))
	}
	active := !chance(r, 7)
	b := func() bool { return r.IntN(2) == 0 }
	var gates, dials []int
	for range r.IntN(3) {
		gates = append(gates, 5000+r.IntN(500))
	}
	for range r.IntN(2) {
		dials = append(dials, 7000+r.IntN(300))
	}
	if gates == nil {
		gates = []int{}
	}
	if dials == nil {
		dials = []int{}
	}
	return doc{
		{"agentId", a.ID},
		{"agentGroupId", a.GroupID},
		{"groupId", a.GroupID},
		{"firstName", first},
		{"lastName", last},
		{"username", username},
		{"email", email},
		{"password", secret(r)},
		{"sipPassword", secret(r)},
		{"sipSafeUsername", fmt.Sprintf("sip%d", a.ID)},
		{"phoneLoginPin", secret(r)},
		{"agentType", pick(r, agentTypes)},
		{"rcUserId", rcUserID},
		{"isActive", active},
		{"active", active},
		{"createdOn", apiDate(created)},
		{"lastLoginDate", lastLogin},
		{"agentRank", r.IntN(10)},
		{"allowAgentReports", b()},
		{"allowAgentStats", b()},
		{"allowAutoAnswer", b()},
		{"allowBlended", b()},
		{"allowCallControl", b()},
		{"allowCampStats", b()},
		{"allowChat", b()},
		{"allowChatStats", b()},
		{"allowChatVoiceConcurrent", b()},
		{"allowCrossGateRequeue", b()},
		{"allowDirectAgentTransfer", pick(r, []string{"DIRECT_TRANSFER_DISABLED", "ALLOW_DIRECT_TRANSFER_TO_SAME_GROUP", "ALLOW_DIRECT_TRANSFER_TO_ANY_GROUP"})},
		{"allowEndcallforeveryone", b()},
		{"allowExternalChat", b()},
		{"allowFromIpAddresses", nil},
		{"allowGateStats", b()},
		{"allowHangup", true},
		{"allowHistoricalDialing", b()},
		{"allowHold", true},
		{"allowInbound", true},
		{"allowInboundIntlTransfer", b()},
		{"allowLeadInserts", b()},
		{"allowLoginControl", b()},
		{"allowLoginUpdates", b()},
		{"allowManualCalls", b()},
		{"allowManualIntlCalls", b()},
		{"allowManualIntlTransfer", b()},
		{"allowManualOutboundGates", b()},
		{"allowManualPass", b()},
		{"allowOffHook", b()},
		{"allowOutbound", b()},
		{"allowRequeue", b()},
		{"allowSelfAgentStats", b()},
		{"allowTransfer", b()},
		{"altDefaultLoginDest", nil},
		{"agentAccountAccess", []any{}},
		{"agentChatGroupAccess", []any{}},
		{"agentGateGroupAccess", []any{}},
		{"chatQueueAssignments", []int{}},
		{"defaultAutoAnswerOn", b()},
		{"defaultLoginDest", fmt.Sprintf("sip:%d@softphone.example.com", a.ID)},
		{"dialGroupAssignments", dials},
		{"directAgentExtension", strconv.Itoa(1000 + a.ID%9000)},
		{"disableSupervisorMonitoring", false},
		{"enableSoftphone", b()},
		{"externalAgentId", fmt.Sprintf("ext-%d", a.ID)},
		{"gateAssignments", gates},
		{"gatesControlAgentVisibility", b()},
		{"ghostRnaAction", pick(r, []string{"AVAILABLE", "PENDING_DISP"})},
		{"initLoginBaseState", "AVAILABLE"},
		{"initLoginBaseStateId", r.IntN(5)},
		{"loadBalanceEnabled", false},
		{"location", pick(r, cityNames)},
		{"manualOutboundDefaultCallerId", fmt.Sprintf("720555%04d", r.IntN(10000))},
		{"manualOutboundDefaultCallerIdE164", fmt.Sprintf("+1720555%04d", r.IntN(10000))},
		{"manualOutboundDefaultGate", nil},
		{"maxChats", r.IntN(5)},
		{"multiAccountAgent", chance(r, 20)},
		{"parentAgentId", nil},
		{"permissions", []string{}},
		{"phoneLoginDialGroup", nil},
		{"regionalSettings", regionalSettings(r)},
		{"showLeadHistory", b()},
		{"softphoneId", r.IntN(100000)},
		{"team", pick(r, teamNames)},
		{"transientAgent", false},
		{"transientDelete", false},
		{"transientDeleteDate", nil},
		{"userManagedByRC", b()},
		{"whereSupervisee", []any{}},
	}.with(a.Set)
}

// regionalSettings generates a RegionalSettingRequestResponse object.
func regionalSettings(r *rand.Rand) any {
	switch r.IntN(3) {
	case 0:
		return doc{{"formattingLocale", "de-DE"}, {"greetingLanguage", "de-DE"}, {"homeCountry", 49}, {"homeCountryCode", "DE"},
			{"language", "de-DE"}, {"timeFormat", "24h"}, {"timezone", 60}}
	case 1:
		return doc{{"formattingLocale", "en-US"}, {"greetingLanguage", "en-US"}, {"homeCountry", 1}, {"homeCountryCode", "US"},
			{"language", "en-US"}, {"timeFormat", "12h"}, {"timezone", -420}}
	default:
		return nil
	}
}

// parentPath returns u's "parentPath": its ancestors' userIds, root first, joined with "."
// ("1000.1003" for a user whose parent is 1003, whose parent is the root 1000), the user's own
// id not included: the form of the spec's only example ("2181.2979.2983.3064", getUserList;
// docs/api.md, parentPath). A root user's is null.
//
// [I] Assumption: no source shows a root user's parentPath; docs/api.md (parentPath) allows null,
// absent or "". Null is chosen because the server writes unset values as null (the official
// login sample's "agentGroupId": null, docs/api.md's "lastLoginDate": null), and a root
// user has no path to set. Tests of the other two forms set them with UpdateUser.
func (t *Tenant) parentPath(u *User) any {
	var ids []int
	seen := map[int]bool{u.ID: true}
	for p := t.userByID[u.ParentID]; p != nil && !seen[p.ID]; p = t.userByID[p.ParentID] {
		seen[p.ID] = true
		ids = append(ids, p.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	b := make([]byte, 0, 8*len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, int64(ids[i]), 10)
	}
	return string(b)
}

// userDoc generates a User object without "children" (the caller adds it).
func (t *Tenant) userDoc(u *User) doc {
	first, last, r := userStart(t.Seed, u.ID)
	root := t.userByID[u.ParentID] == nil
	// rcUserId is an int64 (EV-SPEC User.rcUserId). The draw that once picked a string form
	// stays, so that the other generated values are unchanged.
	rcUserID := int64(63000000000 + u.ID)
	_ = r.IntN(3)
	roles := []doc{{{"roleType", "USER"}, {"description", "User"}}}
	if root {
		roles = append(roles, doc{{"roleType", "SUPER_USER"}, {"description", "Super user"}})
	}
	for range r.IntN(3) {
		rt := pick(r, roleTypes[2:])
		roles = append(roles, doc{{"roleType", rt}, {"description", strings.ReplaceAll(strings.ToLower(rt), "_", " ")}})
	}
	var rcAccount any
	if len(t.MainAccounts) > 0 {
		rcAccount, _ = t.mainDoc(t.MainAccounts[0]).get("rcAccountId")
	}
	return doc{
		{"userId", u.ID},
		{"userName", userName(u.ID)},
		{"firstName", first},
		{"lastName", last},
		{"fullName", first + " " + last},
		{"enabled", !chance(r, 6)},
		{"rootUser", root},
		{"parentPath", t.parentPath(u)},
		{"creationDate", apiDate(randDate(r))},
		{"phoneNumber", fmt.Sprintf("(303) 555-%04d", r.IntN(10000))},
		{"phoneNumberE164", fmt.Sprintf("+1303555%04d", r.IntN(10000))},
		{"phoneNumbersI18nEnabled", chance(r, 3)},
		{"rcAccountId", rcAccount},
		{"rcUserId", rcUserID},
		{"regionalSettings", regionalSettings(r)},
		{"roles", roles},
		{"userManagedByRC", r.IntN(2) == 0},
	}.with(u.Set)
}

// secretKeys are the secret-bearing fields of generated objects.
var secretKeys = map[string]bool{"password": true, "sipPassword": true, "phoneLoginPin": true,
	"crmPwd": true, "ftpPwd": true, "securityKey": true, "phoneRecordingPin": true, "httpPassword": true}

// collectSecrets appends the values of secret-bearing fields in d (at any depth).
func collectSecrets(out []string, d doc) []string {
	for _, f := range d {
		if secretKeys[f.k] {
			switch v := f.v.(type) {
			case string:
				if v != "" {
					out = append(out, v)
				}
			case int:
				out = append(out, strconv.Itoa(v))
			}
		}
		switch sub := f.v.(type) {
		case doc:
			out = collectSecrets(out, sub)
		case []doc:
			for _, d := range sub {
				out = collectSecrets(out, d)
			}
		}
	}
	return out
}
