// Package engagefake is a faithful in-process fake of the RingCentral token endpoints and the
// Engage Voice auth and admin endpoints, written from the API facts (not from engageclient), with
// a deterministic tenant generator, mutations and fault injection. Used by tests, benchmarks,
// `syncer demo` and `syncer fake-engage`.
//
// # Serving
//
// A *Server is an http.Handler (safe for concurrent use). Start serves it on a loopback
// httptest.Server and returns the base URL; both APIs live under that one URL, so it is the
// RingCentral server URL and the Engage server URL at once:
//
//	s := engagefake.New(engagefake.Options{Seed: 1})
//	base := s.Start()
//	defer s.Close()
//
// StartAt serves on a chosen address instead (the standalone `syncer fake-engage`); the
// Server can also be mounted as a plain http.Handler. Credentials accepted by default:
// ClientIDDefault, ClientSecretDefault, JWTDefault (Options.ClientID, ClientSecret, JWT
// override them); Options.WithDefaults shows every effective value.
//
// # Endpoints
//
//	POST /restapi/oauth/token
//	    Basic auth client id/secret; form grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
//	    and assertion=<JWT>, or grant_type=refresh_token and refresh_token=<RC refresh token>
//	    (rotating: the old refresh token and its access token are revoked).
//	    200 {access_token, token_type:"bearer", expires_in, refresh_token,
//	    refresh_token_expires_in, scope, owner_id, endpoint_id}. Errors are OAuth bodies
//	    {"error","error_description","errors":[{"errorCode","message"}]}: missing Basic auth 401
//	    invalid_client OAU-123; wrong client credentials 401 invalid_client OAU-146; wrong
//	    assertion 400 invalid_grant OAU-213; bad refresh token 400 invalid_grant OAU-211;
//	    missing parameter 400 invalid_request OAU-101; other grant types 400
//	    unsupported_grant_type OAU-250.
//	POST /restapi/oauth/revoke
//	    Basic auth; form token=<access or refresh token>: revokes the token and its pair.
//	    200 with an empty body (also for unknown tokens).
//	GET /restapi/v1.0/account/~
//	    Bearer <RC access token> (live: else 401 with a RingCentral error body). 200
//	    {uri, id, status}: id is the first main account's generated rcAccountId, as a number.
//	POST /api/auth/login/rc/accesstoken?includeRefresh=true
//	    form (or query) rcAccessToken=<RC access token>, rcTokenType=Bearer. The RC token must
//	    have been issued by this server and be neither expired nor revoked (else 401 with a JSON
//	    Errors body, generalMessage "Unauthorized"). At most Options.ExchangePerMinute calls per
//	    sliding minute (default 5), else 429 JSON Errors. 200 = AccessTokenUserDetails:
//	    refreshToken (only with includeRefresh=true), accessToken, tokenType "Bearer",
//	    mainAccountId, agentDetails[], adminId, adminUrl, agentUrl, analyticsUrl, iqUrl,
//	    redirectUrl, adminPasswordReset, isAdminPasswordReset, loginHashcode, platformId, port,
//	    rcUser{...}, ssoLogin.
//	POST /api/auth/token/refresh
//	    form (or query) refresh_token=<refreshToken> [, rcTokenType=Bearer]. Rotates: answers a
//	    new accessToken AND a new refreshToken; the presented refresh token is used up. A used,
//	    unknown or expired (Options.RefreshTokenTTL) refresh token gets 401 with a JSON Errors
//	    body whose generalMessage is "Invalid refresh token" (deliberately without the word
//	    "expired", so a client never mistakes it for an expired access token).
//	DELETE /api/auth/logout/{refreshToken}
//	    uses up the refresh token (an unknown one gets the same answer); 200, Content-Type
//	    text/plain, as EV-SPEC-ALL documents, with an empty body ([I] assumption: no source
//	    shows one). Content negotiation as Spring does it: an Accept header that admits neither
//	    text/plain nor text/* nor */* gets 406 Not Acceptable with an empty body (the real
//	    server answers "Accept: application/json" so), and the token stays live.
//	GET /voice/api/v1/admin/accounts
//	    bare array of Account objects, one per sub-account (main accounts appear only through
//	    mainAccountId, mainAccountName and the nested "mainAccount" object).
//	GET /voice/api/v1/admin/users?flatten=true|false[&activeOnly=true]
//	    flatten=true: every user, in id order, each with "parentPath" and "children": [].
//	    Otherwise: only the root users at top level, descendants nested in "children" arrays.
//	    activeOnly=true leaves out users with "enabled": false (their listed descendants move up
//	    to the nearest listed ancestor in the nested form).
//	GET /voice/api/v1/admin/accounts/{accountId}/agentGroups[?page=&maxRows=&includePermissions=]
//	    bare array of AgentGroup objects {permissions, agentGroupId, groupName, isDefault};
//	    permissions is [] unless includePermissions=true (then all five permissions).
//	    page is 0-based and only applies with maxRows; without maxRows the full list; a page
//	    past the end is []. Unknown account: 404 JSON Errors.
//	GET /voice/api/v1/admin/accounts/{accountId}/agentGroups/{agentGroupId}/agents
//	    bare array of Agent objects (no paging). Unknown account or group: 404 JSON Errors.
//	GET /voice/api/v1/admin/accounts/{accountId}/gateGroups/withChildren[?page=&maxRows=&includePermissions=]
//	    bare array of GateGroup objects (queue groups), each with its Gate objects (queues) in
//	    "gates"; paged like agentGroups.
//	GET /voice/api/v1/admin/accounts/{accountId}/gateGroups/{gateGroupId}/skills
//	    bare array of GateGroupSkill objects (no paging).
//	GET /voice/api/v1/admin/accounts/{accountId}/gateGroups/{gateGroupId}/gates/{gateId}/assignedAgents[?page=&maxRows=]
//	    the queue's assigned agents, Agent objects as the agents listing renders them; paged.
//	GET /voice/api/v1/admin/accounts/{accountId}/dialGroups/withChildren[?page=&maxRows=&includePermissions=]
//	    bare array of DialGroup objects, each with its Campaign objects in "campaigns"
//	    (isActive 0/1, as the spec types it); paged.
//	GET /voice/api/v1/admin/accounts/{accountId}/dialGroups/{dialGroupId}/assignedAgents[?page=&maxRows=]
//	    the dial group's assigned agents; paged. An unknown account, group or gate, or one
//	    that belongs to another account or group: 404 JSON Errors.
//	PUT /voice/api/v1/admin/auditLogs/search
//	    JSON body (AuditLogSearchCriteria): accountId (required, a string or a number),
//	    startDateTime and endDateTime (ISO-8601 with an explicit offset,
//	    "2025-11-20T00:00:00.000-08:00" or "-0800"; a "Z" suffix is refused, as the API does) or
//	    startDateTimeAsUnix/endDateTimeAsUnix (milliseconds), optional auditActions (CREATE,
//	    UPDATE, DELETE) and ascOrDesc (ASCENDING, DESCENDING); optional searchEntities (class
//	    names: Agent, Gate, ...), auditedEntityId and createUserId narrow the answer. A missing
//	    or malformed field: 400 JSON Errors naming it; an unknown account: 404. 200: a bare
//	    array of the generated audit log entries (see "Audit log") created in [start, end) that
//	    have propagated by Options.Now, ordered by createTime as ascOrDesc says (ascending
//	    without it). Options.NoAuditLogAccess: 403 (the user lacks "Audit log access"). The
//	    admin rate limiter applies, as to the listings.
//	POST /voice/api/cx/integration/v1/accounts/{rcAccountId}/sub-accounts/{subAccountId}/interaction-metadata
//	    JSON body (InteractionMetadataRequest): segmentEndTime ("YYYY-MM-DD HH:mm:ss" in
//	    timeZone), timeInterval (seconds, 1 to 10800), timeZone (an IANA name), all required;
//	    segmentEndTime + timeInterval at least 5 minutes before now: else 400 JSON Errors
//	    naming the field. 200: a bare array (no paging) of the generated segments (see "Call
//	    history") whose segmentEndTimeMs is in [segmentEndTime, segmentEndTime + timeInterval)
//	    ([I] the facts read the window by segment end), as served at Options.Now, ordered by
//	    segment end; written item by item, never whole in memory.
//	POST .../sub-accounts/{subAccountId}/agg-queue-stats, agg-agent-stats, agg-agent-extended-stats
//	    JSON body (AggregatedIntegrationParams): startDate and endDate ("YYYY-MM-DD HH:mm:ss" in
//	    timeZone), timeInterval (seconds, a positive integer), timeZone (an IANA name), optional
//	    outputFormat (CSV, XML), all required but the last; the end after the start, at most
//	    3 hours (10800 s) later, and at least 5 minutes before now: else 400 JSON Errors. 200:
//	    a bare array of one row per queue (AggregatedQueueStats), agent (AggregatedAgentStats),
//	    or agent and queue (ExtendedAggregatedQueueStats) per interval of timeInterval seconds
//	    from startDate that had activity; "interval" is its length in minutes (60 for 3600, as
//	    the spec's examples show [I]) and dateTimeFrom its start in timeZone,
//	    "MM-DD-YYYYTHH:mm:ss" (Options.DateTimeFromOrder DateTimeFromDMY: day first).
//	    outputFormat CSV or XML is accepted but the answer is JSON all the same ([I] the spec
//	    documents only a JSON 200; what the API does with outputFormat is not shown).
//	    The four reporting endpoints: rcAccountId must be the rcAccountId of the sub-account's
//	    main account, as the accounts listing gives it, and the sub-account must exist: else
//	    404 ([I] the documents do not say). A sub-account in Options.NoWEMAccess: 403. Their
//	    400, 403 and 404 bodies are the spec's examples for these operations: {details,
//	    developerMessage, cause, generalMessage, requestUri, timestamp} with cause "",
//	    developerMessage "Bad request", "Access is denied." or "Not found", generalMessage
//	    "The supplied data is not valid", "You do not have permission to access this
//	    resource" or "The resource you have requested does not exist", requestUri
//	    "/voice/api/cx/.../interaction-metadata - POST" (leading slash) and no validationErrors;
//	    the examples' details are "", the fake's explanation goes there (a 403's names "WEM
//	    Access is not enabled ..."). An expired token gets 401 text/plain "JWT is expired."
//	    (their example; the admin paths' is "Jwt is expired"). The reporting limits, per
//	    sub-account (Options.ReportingLimits, default ReportingLimitsDefault: 3 requests in
//	    any 60 s and 9 in any 15 minutes, a sliding log; Options.ReportingUnlimited turns them
//	    off): beyond any of them, 429. [I] The sources give the limits per operation and say
//	    "throttled per RingCX sub-account"; that the four share one log, the 429's body (the
//	    admin API's JSON Errors form: the spec shows no 429 for them), its Retry-After (whole
//	    seconds, rounded up, at least 1, saying when the oldest request of the violated limit
//	    leaves its interval) and that a refused request does not count are the fake's
//	    choices. The admin rate limiter (Options.RateLimit) does not apply to them;
//	    Options.Latency does. 405 keeps the admin form [I]. Order of checks: method, path,
//	    WEM Access, limits, body.
//
// Entitlements: Options.NoManageUsers makes the users listing answer 403 (the user has neither
// MANAGE_USERS nor SUPER_USER); NoAuditLogAccess and NoWEMAccess as above. They apply after
// authentication.
//
// Paths are split on their escaped form (URL.EscapedPath) and each segment is unescaped once,
// so an account id or a refresh token holding "/", "%" or a space is one segment and
// round-trips, "." and ".." are ordinary segments, and an id escaped twice is another id.
//
// Every /voice/api/ request needs "Authorization: Bearer <accessToken>". Engage access tokens
// are HS256-signed JWTs with iss, sub (adminId), mainAccountId, iat, exp (whole seconds) and
// jti claims, valid for Options.TokenTTL (default 5 minutes). An expired token (or any token
// issued before a call to ExpireTokens) gets 401, Content-Type text/plain, body
// "Jwt is expired"; a missing or invalid token gets 401 text/plain
// "Full authentication is required to access this resource" (on the reporting paths the
// expired text is theirs, "JWT is expired."). Other Engage errors are JSON Errors objects
// {cause, details, developerMessage, generalMessage, requestUri, timestamp, validationErrors}
// with status 400, 404, 405, 429 or 500/503 (the reporting endpoints' 400, 403 and 404:
// their own examples' form, above).
//
// Order of checks for /voice/api/ requests: injected fault, Options.Latency, the rate limiter,
// then authentication. With Options.RateLimit > 0 a token bucket (RateLimit per minute, size
// RateBurst, clock Options.Now) guards /voice/api/ but the four integration reporting
// endpoints (they have their own limits, above); when empty it answers 429 with
// generalMessage "Too Many Requests" and, if Options.RateLimitRetryAfter, a Retry-After header
// (whole seconds until a token is free). X-Rate-Limit-Limit, X-Rate-Limit-Remaining and
// X-Rate-Limit-Window ("60") accompany limited responses.
//
// # Generated data
//
// New generates the tenant from Options.Seed and Options.Tenant: the same seed and spec give
// byte-identical JSON. Ids: main accounts "10001", "10002", ...; sub-accounts "20001", ...;
// agent groups 30001, ...; agents 100001, ...; users 1000, ...; queue groups 400001, queues
// 500001, skills 600001, dial groups 700001, campaigns 800001, .... Each queue and dial group
// is assigned a run of its sub-account's agents (TenantSpec.AgentsPerQueue,
// AgentsPerDialGroup) from a seeded start. The first agent group of each
// sub-account is its default group ("isDefault": true). Objects carry the documented field
// sets, including the secret-bearing fields password, sipPassword, phoneLoginPin (agents),
// crmPwd, ftpPwd, securityKey (strings "sEcReT-<16 hex>") and phoneRecordingPin (an
// integer 79xxxxxxx) on accounts, httpPassword nested in some queues' agentConnSoapService and
// ftpPwd in every campaign's campaignResultDest; dates in the "2020-05-18T19:22:12.000+0000" form (some agent
// lastLoginDate values use "-0000", some are null); endDate null unless archivedAccount
// (true for the 2nd, 6th, 10th ... sub-account); non-ASCII names ("Zoë", "Łukasz", "渡辺").
//
// What is generated matches the official spec (EV-SPEC's Account, AgentGroup, Agent, User,
// AccessTokenUserDetails) as evsync reads it (internal/testing/apispec: dates are strings, any
// property may be null; docs/api.md wins where it differs): every declared property has its
// declared JSON type and enum values, ids included (rcUserId an integer, agentGroupId and
// groupId integers, accountId and mainAccountId numeric-looking strings). Unset values are
// null, as the server writes them: some agents' rcUserId, email and lastLoginDate,
// regionalSettings, a root user's parentPath, and so on. Agents also carry agentGroupId (an
// integer; the spec's Agent schema lacks it, the integration API's example has it). Off-spec
// forms the client must tolerate (ids as numeric strings, RFC 3339 dates, unknown enum
// values) are never generated: a test that needs one sets it with Update* or Set. The
// engagefake and engageclient spec tests hold every answer to the documents. SecretValues
// returns every secret value (plus client secret, JWT and every token issued) so tests can
// grep a database dump for them.
//
// Only the skeleton (ids and links) is stored; objects are generated on demand and the
// marshaled list responses are cached (bounded) until the next mutation, so a 100,000-agent
// tenant costs a few megabytes.
//
// # Audit log
//
// The audit search serves a generated history, deterministic per Options.Seed (the reporting
// facts §1.4 and audit-logs.md's samples give the form). Each (sub-account, hour) has its own
// random stream, so a window costs only its hours: 20 sub-accounts x 90 days generate in a
// fraction of a second. The history starts Options.AuditDays (default 3) days before the hour
// of Options.Now at New and goes on as the clock advances; each hour holds on average
// Options.AuditPerHour (default 2) entries per sub-account (uniform 0..2xAuditPerHour).
// Negative AuditDays or AuditPerHour: no audit log.
//
// An entry is an UPDATE (7 in 10: one attribute, e.g. a gate's gatePriority "3" -> "4", an
// agent's isActive "true" -> "false", a name, values as strings), a CREATE (auditLogResultList
// null, affectedEntityJson the object as a JSON string) or a DELETE (auditLogResultList [],
// affectedEntityJson set) of the sub-account's agents, agent groups, queues (Gate), campaigns,
// dial groups, or an admin user (User). CREATEs and UPDATEs name the objects the tenant had at
// New (ids and generated names as the listings give them; later mutations do not rewrite the
// history); a DELETE names an object already gone, an id from 9000000 up that no listing has.
// authUser is one of the tenant's admin users (userId a string, userName, firstName,
// lastName, sourceId an address in 203.0.113.0/24, fullJson and the simulatedBy* fields
// null). Fields and their order follow the samples: id (a UUID), authUser, createTime (epoch
// ms), auditLogResultList, auditedClass (a Java class name,
// "com.connectfirst.api.model.intelliqueue_globalcatalog.acd.Gate" as documented; the other
// classes' packages are [I] guesses in the same form), auditedEntityId (a string, as the
// sample sends it; the spec says object), auditedEntityDescription, actionType,
// affectedEntityJson, accountId, createTimeAsDateTime ("2026-01-13T00:00:00.000+0000"),
// _class ("com.connectfirst.api.model.documents.AuditLog").
//
// Exactly one entry per sub-account with agents, in the history's first AuditDays days, is an
// agent password change: an UPDATE of an Agent whose attributeName is "password" and whose
// originalValue and newValue are secrets ("sEcReT-<16 hex>", in SecretValues); it is never
// late. No other entry mentions a password, and affectedEntityJson holds no secret.
//
// Propagation: the search returns an entry only once Options.Now >= createTime + delay. The
// delay is Options.AuditPropagation (default 5 minutes, the documented propagation delay)
// for most entries; a deterministic Options.AuditLateFraction (default 0.05) of them are late,
// with Options.AuditLateDelay (default 3 hours): a read at a window's end + 20 minutes misses
// them, a settle read a day later finds them. [I] The documents speak of 5 minutes only; the
// late entries model what a sync's settle read is for. The window is [start, end) ([I] the
// bounds' inclusiveness is undocumented).
//
// Server.AuditLog(subAccountID, start, end) lists the generated entries of a window whatever
// their propagation, each with its VisibleAt, Late and PasswordChange and the JSON the search
// serves, so a test can check that every entry of a covered window lands exactly once.
//
// # Call history
//
// The reporting endpoints serve a generated call history, deterministic per Options.Seed, in
// the audit log's way: each (sub-account, hour) has its own random stream, so a window costs
// only its hours (and the one before: a dialog lasts less than an hour). The history starts
// Options.CallDays (default 3) days before the hour of Options.Now at New and goes on as the
// clock advances; each hour holds Options.CallsPerHour (default 12) dialogs per sub-account,
// within 10% (Options.CallsPerHourBy overrides it per sub-account: a busy one at 12,000 has
// more than 50,000 segments in a 3-hour window, served in a fraction of a second with a few
// megabytes). Negative CallDays or CallsPerHour: no calls. A sub-account without agents has
// none.
//
// A dialog is a call (channelType and channelClass VOICE; 1 in 4 OUTBOUND) or, 1 in 10, a
// digital interaction (channelClass DIGITAL, channelType SMS, EMAIL or ENGAGE_MESSAGING,
// INBOUND). An inbound call may start with an IVR segment, a digital one with a BOT segment
// (no participant: segmentParticipantId, segmentParticipantRcExtensionId and
// segmentAgentGroupId null [I]); then 1 to 3 AGENT segments (transfers), each participant an
// agent of the sub-account at New (segmentParticipantId its agentId as a string,
// segmentParticipantRcExtensionId its rcUserId or null, segmentAgentGroupId its agent group);
// or the dialog is abandoned in the queue. Each dialog, outbound calls and digital
// interactions too, has a queue of the sub-account, used by the stats only (the segments
// carry no queue id; [I] the documents do not say which dialogs the queue stats count).
// Fields and their order are the spec's WEMDialogSegmentMetaData example's: dialogId
// "s-v-<32 hex>-<start ms>" (digital "d-<24 hex>-<start ms>"), segmentId "p-v-<32 hex>-<start ms>-<13 hex>", interactionId a
// 30-digit UII whose first 14 digits are the dialog's start (yyyyMMddHHmmss) in US/Eastern,
// as in the spec's examples (dialog id ms 1721690897808 = 23:28:17Z, UII 20240722192817...;
// [I] whether the zone is the account's or the platform's is not documented, the fake uses
// US/Eastern for every account), dates "2024-07-22T11:24:40.000Z", durations in ms,
// systemDisposition ANSWER (an IVR segment's too [I]; an outbound call's first segment is
// answered two times in three, else NO_ANSWER, BUSY or MACHINE [I], and then it is a short
// unrecorded segment that the stats do not count as answered; null for digital),
// agentDisposition from a short list, agentNotes sometimes. [I] The spec types
// agentDisposition and agentNotes as non-nullable strings; the fake serves null where there
// is none (IVR and BOT segments, no notes, a pending disposition), as the server writes unset
// values elsewhere; no example shows an unset one. Then hasRecording, hasTranscript,
// segmentEvents REC_START and REC_STOP for a recorded segment, [] for another call segment,
// null for a digital one.
//
// Settling: a segment is served from its end + Options.CallPropagation (default 2 minutes).
// A deterministic Options.CallLateFraction (default 0.05) of them are late (served from end +
// Options.CallLateDelay, default 3 hours); Options.CallChangeFraction (default 0.05) of the
// agent segments change: until end + Options.CallChangeDelay (default 2 hours) they are served
// with agentDisposition null and hasRecording false, then with their final values; and
// Options.CallVanishFraction (default 0.01) are served until end + CallChangeDelay and not
// after (a settle read finds them missing). Zero values mean the defaults, negative none.
// [I] This model and its numbers are the fake's: the sources say only "allow a 15-minute
// window" and that results for recent interactions "can change".
//
// The stats are computed from the dialogs (whatever the segments' settling; callstats.go
// says which event counts in which interval) so that they add up: per queue and interval the
// agent×queue rows' answIxnCnt, talkingIxnDur and wrapUpDur sum to the queue row's, per agent
// the agent×queue rows' talkingIxnDur to directInIxnDur + directOutIxnDur. Names are the
// listings': queueName the gate's gateName; agentName "lastName, firstName" in agg-agent-stats
// and "firstName lastName" in agg-agent-extended-stats, the order of each one's spec examples
// ("kaduk, alena", "Neringa Norkute") [I].
//
// Server.Segments(subAccountID, start, end) lists what interaction-metadata serves for the
// window at Options.Now (SegmentsAt at another time), each with its settling (Late, Changes,
// Vanishes, VisibleAt) and the JSON served; Server.StatsRows(endpoint, subAccountID, start,
// end, interval) the rows a stats endpoint serves.
//
// # Users and parentPath
//
// "parentPath" lists a user's ancestor userIds, root first, joined with ".", the user's own id
// not included: "1000.1003" for a user whose parent is 1003, whose parent is the root 1000 (the
// form of the spec's only example, "2181.2979.2983.3064"; docs/api.md, parentPath). A root user has
// "parentPath": null and "rootUser": true. [I] Assumption: no source shows a root user's
// parentPath (null, absent or "", docs/api.md, parentPath); null is what the server writes for an
// unset value. A test of "" or of an absent key sets it with Tenant.UpdateUser inside Mutate
// (Omit removes it).
//
// # Mutations
//
// Mutate(func(t *Tenant) error) error is the one way to change the tenant: fn runs under the
// server's lock and its error is returned; inside, use the Tenant's helpers (AddMainAccount,
// AddSubAccount, AddAgentGroup, AddAgent, AddUser, Update*, Remove*, MoveAgent) or edit the
// slices directly (indexes are rebuilt and the response cache dropped afterwards), for example
//
//	err := srv.Mutate(func(t *engagefake.Tenant) error {
//		return t.UpdateAgent(id, "firstName", "Zoë")
//	})
//
// Each entity has a Set map of JSON field overrides applied over the generated object: a new
// value replaces the field, nil sends null, Omit removes the field, an unknown key is appended.
// Removals cascade: a sub-account takes its groups, agents and configuration, a group its
// agents, a queue group its queues and skills, a dial group its campaigns; a removed agent
// (or one moved to another sub-account) leaves every queue and dial group it was assigned
// to; a removed user's children move up to its parent. Assign*/Unassign* change assignments. Counts reports the live rows; SubAccountIDs,
// AgentGroupIDs, AgentIDs and UserIDs list ids (call them outside fn: they take the lock).
//
// # Churn
//
// Tenant.Churn(round, n) changes the tenant as an admin's day would, deterministically from
// the seed and the round: n agents renamed, added and moved to another group, about n/3
// removed, one agent group, queue and admin user renamed, one admin user removed, and
// ChurnField set on the first sub-account, its JSON type flipping each round (a string, then
// a number: the field is added, then its type changes). Server.Churn runs a round with
// Options.Churn changes of each kind; with Options.Churn set, every RingCentral JWT grant
// after the first (each run's login) runs the next round first, and Churns reports them
// (`syncer fake-engage --churn N`), so that a second sync shows history rows, soft deletes and
// api_field_changes.
//
// # Faults
//
// SetFault(endpoint, Fault) injects a fault on one endpoint; the names are "rc.token",
// "rc.revoke", "rc.account", "engage.exchange", "engage.refresh", "engage.logout", "accounts", "users",
// "agentGroups", "agents", "gateGroups", "gateGroupSkills", "gateAgents", "dialGroups",
// "dialGroupAgents", "auditLogs", "interactionMetadata", "aggQueueStats", "aggAgentStats",
// "aggAgentExtendedStats" (the Endpoint* constants). A Fault may add Latency, answer a Status
// (429/5xx JSON error bodies, with RetryAfter as the Retry-After header when set; a 401 on an
// /voice/api/ endpoint answers text/plain "Jwt is expired"; with NoBody, any Status comes with
// no body and no Content-Type, as the spec documents 401 and the other error answers of the
// admin endpoints; with Echo, a text/plain body echoing the request line, its Authorization
// header and its form body, credentials included, as a debugging proxy might), Drop the
// connection without an answer, or answer 200 with a Malformed (truncated) JSON body.
// PathContains narrows it to matching URL paths; Times limits it to the
// next N matching requests (0 = forever). Faults apply before authentication and rate
// limiting. ClearFaults removes all. ParseFault reads a fault from a command-line string such
// as "agents:status=503,times=3" or "users:status=401,no-body".
//
// Note on Drop: Go's http.Transport replays an idempotent request (GET) once, silently, when a
// reused keep-alive connection closes without an answer. A Drop with Times: 1 can therefore be
// invisible to a GET caller (the replay gets the real answer, and Stats.Requests counts both);
// use Times: 2 or more, or a client without keep-alives, to see the transport error.
//
// # Counters
//
// Stats reports requests per endpoint name (every request, faulted or not), 429s served
// (limiter, exchange limit, reporting limits and injected), per sub-account the reporting
// requests admitted and refused (ReportingRequests, ReportingRateLimited), RingCentral grants, exchanges, refreshes, revokes,
// Engage access tokens issued and 401s served; LiveRCTokens, the RingCentral tokens issued and
// neither revoked nor expired (0 once every client revoked its own).
package engagefake
