package engagefake

import (
	"cmp"
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
	_ "time/tzdata" // the UII's zone and the requests' timeZone names, on any machine
)

// The generated call history: what the integration reporting endpoints (interaction-metadata
// and the three aggregate statistics) serve. Facts: the reporting facts §1.2, §1.3, §3; the
// spec's WEMDialogSegmentMetaData and aggregate stats schemas and their examples.
//
// As the audit log, the history is a function of (Seed, sub-account, hour): each hour of each
// sub-account has its own random stream, and the dialogs that start in it are generated
// only when a window needs them. A dialog lasts less than an hour, so the segments that end
// in an hour come from the dialogs of that hour and the one before. The agents and queues
// come from a snapshot of the tenant taken at New (ids, names, rcUserId).

// uiiZone is the zone of a UII's first 14 digits (the spec's example: US/Eastern).
var uiiZone = mustZone("US/Eastern")

// mustZone loads a time zone of the embedded tzdata.
func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("engagefake: time zone " + name + ": " + err.Error())
	}
	return loc
}

// hourMs is an hour in milliseconds.
const hourMs = int64(time.Hour / time.Millisecond)

// Random stream kinds of the call history (after the audit log's).
const (
	kindCallHour uint64 = 0x50 + iota
	kindCallAgentInterval
)

// Segment types, channels and dispositions.
const (
	segIVR uint8 = iota
	segBot
	segAgent
)

var (
	segTypes       = []string{"IVR", "BOT", "AGENT"}
	digitalTypes   = []string{"SMS", "EMAIL", "ENGAGE_MESSAGING"}
	agentDisps     = []string{"Success", "Callback Requested", "Not Interested", "Left Voicemail", "Sale", "Escalated"}
	agentNoteTexts = []string{"requeue to others", "customer will call back", "sent follow-up email", "billing question resolved", "Rückruf morgen früh"}
	// systemDisps are the segments' systemDisposition values: "ANSWER" (the spec's example)
	// first; the others are the fake's names for an outbound call nobody answered [I].
	systemDisps = []string{"ANSWER", "NO_ANSWER", "BUSY", "MACHINE"}
)

// sysAnswer is systemDisps' index of "ANSWER".
const sysAnswer int8 = 0

// Settling classes of a segment.
const (
	settleNormal uint8 = iota
	settleLate
	settleChange
	settleVanish
)

// callHistory is the call history's parameters and its snapshot of the tenant.
type callHistory struct {
	seed         int64
	fromHour     int64 // the history's first hour (hours since the Unix epoch)
	propagation  time.Duration
	lateDelay    time.Duration
	changeDelay  time.Duration
	lateFrac     float64
	changeFrac   float64
	vanishFrac   float64
	slSeconds    int64 // the service level: answered or abandoned within it [I]
	subs         map[string]*callSub
	dateTimeFrom string // the layout of the stats rows' dateTimeFrom
}

// callSub is the snapshot of one sub-account.
type callSub struct {
	id      string
	key     uint64
	perHour int // dialogs per hour on average; 0: none
	agents  []callAgent
	queues  []callQueue
}

// callAgent is an agent as the segments and stats name it.
type callAgent struct {
	id     int
	group  string // segmentAgentGroupId
	rcUser string // segmentParticipantRcExtensionId; "" = null
	idText string
	name   string // agentName of the extended stats: "firstName lastName"
	nameLF string // agentName of the agent stats: "lastName, firstName"
}

// callQueue is a queue (gate) as the stats name it.
type callQueue struct {
	id     int
	name   string
	agents []int32 // the agents assigned to it, as indexes in callSub.agents
}

// callDialog is one generated dialog (call or chat).
type callDialog struct {
	hexA, hexB uint64 // the dialog id's random part
	uiiTail    uint64 // the UII's last 16 digits
	startMs    int64
	endMs      int64
	digital    uint8 // 0: VOICE, else 1 + index in digitalTypes
	outbound   bool
	abandoned  bool
	queue      int32 // index in callSub.queues; -1: none
	ani, dnis  int64
	waitS      int64 // seconds in queue before the first agent (or the abandon)
	nsegs      int
	segs       [5]callSeg
}

// callSeg is one segment of a dialog.
type callSeg struct {
	typ        uint8
	agent      int32 // index in callSub.agents; -1: none
	settle     uint8
	sysDisp    int8 // index in systemDisps; -1: null
	disp       int8 // index in agentDisps; -1: null
	notes      int8 // index in agentNoteTexts; -1: null
	rec, trans bool
	startMs    int64
	endMs      int64
	wrapS      int64 // wrap-up seconds after it (stats only)
	holdMs     int64 // hold time (stats only)
	suffix     uint64
}

// newCallHistory snapshots t for the call history of opts (defaults applied), starting
// opts.CallDays days before the hour of opts.Now().
func newCallHistory(t *Tenant, opts Options) *callHistory {
	h := &callHistory{seed: t.Seed, propagation: max(0, opts.CallPropagation), lateDelay: max(0, opts.CallLateDelay),
		changeDelay: max(0, opts.CallChangeDelay), lateFrac: max(0, opts.CallLateFraction),
		changeFrac: max(0, opts.CallChangeFraction), vanishFrac: max(0, opts.CallVanishFraction),
		slSeconds: 20, subs: map[string]*callSub{}, dateTimeFrom: "01-02-2006T15:04:05"}
	if opts.DateTimeFromOrder == DateTimeFromDMY {
		h.dateTimeFrom = "02-01-2006T15:04:05"
	}
	if opts.CallDays < 0 {
		return h
	}
	h.fromHour = floorHour(opts.Now().UnixMilli()) - int64(opts.CallDays)*24
	for _, sa := range t.SubAccounts {
		per := opts.CallsPerHour
		if v, ok := opts.CallsPerHourBy[sa.ID]; ok {
			per = v
		}
		hash := fnv.New64a()
		_, _ = hash.Write([]byte(sa.ID))
		cs := &callSub{id: sa.ID, key: hash.Sum64(), perHour: max(0, per)}
		index := map[int]int32{}
		for _, g := range sa.Groups {
			for _, a := range g.Agents {
				first, last, _, rc, _ := agentHead(t.Seed, a.ID)
				// [I] agg-agent-stats' examples name agents "last, first" ("kaduk, alena"),
				// agg-agent-extended-stats' "first last" ("Neringa Norkute"): each serves
				// its example's order.
				ca := callAgent{id: a.ID, group: strconv.Itoa(g.ID), idText: strconv.Itoa(a.ID), name: first + " " + last,
					nameLF: last + ", " + first}
				if v, ok := rc.(int64); ok {
					ca.rcUser = strconv.FormatInt(v, 10)
				}
				index[a.ID] = int32(len(cs.agents))
				cs.agents = append(cs.agents, ca)
			}
		}
		for _, g := range sa.QueueGroups {
			for _, q := range g.Queues {
				name, _, _ := queueStart(t.Seed, q.ID)
				cq := callQueue{id: q.ID, name: name}
				for _, a := range q.AgentIDs {
					if i, ok := index[a]; ok {
						cq.agents = append(cq.agents, i)
					}
				}
				cs.queues = append(cs.queues, cq)
			}
		}
		h.subs[sa.ID] = cs
	}
	return h
}

// rand returns the random stream of (sub-account, kind, n).
func (h *callHistory) rand(cs *callSub, kind uint64, n int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(h.seed)^cs.key^0x9e3779b97f4a7c15, kind<<56|uint64(n)&(1<<56-1)))
}

// hour generates the dialogs that start in one hour of a sub-account, appended to buf[:0].
func (h *callHistory) hour(cs *callSub, hour int64, buf []callDialog) []callDialog {
	buf = buf[:0]
	if cs.perHour == 0 || hour < h.fromHour || len(cs.agents) == 0 {
		return buf
	}
	r := h.rand(cs, kindCallHour, hour)
	n := cs.perHour*9/10 + r.IntN(cs.perHour/5+1) // perHour, within 10%
	buf = slices.Grow(buf, n)
	for range n {
		buf = append(buf, callDialog{})
		h.dialog(r, cs, hour, &buf[len(buf)-1])
	}
	return buf
}

// dialog draws one dialog: an IVR segment (2 inbound calls in 3) or a BOT segment (1 digital
// interaction in 4), then 1 to 3 agent segments (a transfer in 3 dialogs, a second one in 4
// of those), or an abandon in the queue (1 in 10 of those that went through IVR or a bot);
// about 1.8 segments a dialog.
func (h *callHistory) dialog(r *rand.Rand, cs *callSub, hour int64, d *callDialog) {
	d.hexA, d.hexB, d.uiiTail = r.Uint64(), r.Uint64(), r.Uint64()%1e16
	d.startMs = hour*hourMs + r.Int64N(3600)*1000
	if r.IntN(10) == 0 {
		d.digital = uint8(1 + r.IntN(len(digitalTypes)))
	}
	d.outbound = d.digital == 0 && r.IntN(4) == 0
	// [I] Every dialog gets a queue, outbound calls and digital interactions too: the
	// documents do not say which dialogs the queue stats count.
	d.queue = -1
	if len(cs.queues) > 0 {
		d.queue = int32(r.IntN(len(cs.queues)))
	}
	d.ani, d.dnis = 2000000000+r.Int64N(7999999999), 8000000000+r.Int64N(999999999)
	t := d.startMs
	add := func(typ uint8, durS int64) *callSeg {
		sg := &d.segs[d.nsegs]
		d.nsegs++
		*sg = callSeg{typ: typ, agent: -1, sysDisp: -1, disp: -1, notes: -1, startMs: t, endMs: t + durS*1000, suffix: r.Uint64() & (1<<52 - 1)}
		sg.settle = h.settle(r, typ)
		t = sg.endMs
		return sg
	}
	switch {
	case d.digital == 0 && !d.outbound && r.IntN(3) != 0:
		// [I] An IVR segment's systemDisposition is "ANSWER" (the IVR took the call); the
		// examples show agent segments only.
		add(segIVR, 5+r.Int64N(56)).sysDisp = sysAnswer
	case d.digital != 0 && r.IntN(4) == 0:
		add(segBot, 5+r.Int64N(26))
	}
	if !d.outbound {
		d.waitS = r.Int64N(90)
	}
	if !d.outbound && d.nsegs > 0 && r.IntN(10) == 0 { // abandoned in the queue
		d.abandoned = true
		d.endMs = t + d.waitS*1000
		return
	}
	t += d.waitS * 1000
	agents := 1
	if r.IntN(3) == 0 {
		agents++
		if r.IntN(4) == 0 {
			agents++
		}
	}
	for i := range agents {
		sg := add(segAgent, 20+r.Int64N(881))
		sg.agent = pickAgent(r, cs, d, i)
		sg.wrapS, sg.disp = r.Int64N(61), int8(r.IntN(len(agentDisps)))
		if r.IntN(3) == 0 {
			sg.holdMs = (1 + r.Int64N(120)) * 1000
		}
		if r.IntN(4) == 0 {
			sg.notes = int8(r.IntN(len(agentNoteTexts)))
		}
		if d.digital == 0 {
			sg.sysDisp = sysAnswer
			sg.rec = r.IntN(5) != 0
			sg.trans = sg.rec && r.IntN(2) == 0
			if d.outbound && i == 0 && r.IntN(3) == 0 { // answered two times in three
				sg.sysDisp = int8(1 + r.IntN(len(systemDisps)-1))
			}
		} else {
			sg.trans = true
		}
		if sg.unanswered() { // an outbound call nobody answered: one short segment
			sg.endMs, sg.rec, sg.trans, sg.holdMs = sg.startMs+(5+r.Int64N(25))*1000, false, false, 0
			t = sg.endMs
			break
		}
		t += r.Int64N(6) * 1000 // the transfer's gap
	}
	d.endMs = d.segs[d.nsegs-1].endMs
}

// unanswered reports whether the segment's systemDisposition says nobody answered: it is set
// and not "ANSWER".
func (sg *callSeg) unanswered() bool {
	return sg.sysDisp >= 0 && systemDisps[sg.sysDisp] != systemDisps[sysAnswer]
}

// pickAgent draws the agent of a dialog's agent segment i: for the first, one of the agents
// assigned to the dialog's queue (any agent when it has none); for a transfer, any agent but
// the one before.
func pickAgent(r *rand.Rand, cs *callSub, d *callDialog, i int) int32 {
	n := int32(len(cs.agents))
	if i == 0 && d.queue >= 0 && len(cs.queues[d.queue].agents) > 0 {
		return pick(r, cs.queues[d.queue].agents)
	}
	a := int32(r.IntN(len(cs.agents)))
	if i > 0 && d.segs[d.nsegs-2].agent == a && n > 1 { // the segment before this one
		a = (a + 1) % n
	}
	return a
}

// settle draws a segment's settling class (only agent segments change). [I] The classes
// (late, change, vanish) and their delays are the fake's model: the sources say only "allow
// a 15-minute window" and that results for recent interactions "can change".
func (h *callHistory) settle(r *rand.Rand, typ uint8) uint8 {
	u := r.Float64()
	switch {
	case u < h.lateFrac:
		return settleLate
	case u < h.lateFrac+h.changeFrac && typ == segAgent:
		return settleChange
	case u >= h.lateFrac+h.changeFrac && u < h.lateFrac+h.changeFrac+h.vanishFrac:
		return settleVanish
	}
	return settleNormal
}

// visibleAt is when interaction-metadata starts serving the segment.
func (h *callHistory) visibleAt(sg *callSeg) int64 {
	d := h.propagation
	if sg.settle == settleLate {
		d = h.lateDelay
	}
	return sg.endMs + d.Milliseconds()
}

// servedAt reports whether interaction-metadata serves the segment at atMs.
func (h *callHistory) servedAt(sg *callSeg, atMs int64) bool {
	if atMs < h.visibleAt(sg) {
		return false
	}
	return sg.settle != settleVanish || atMs < sg.endMs+h.changeDelay.Milliseconds()
}

// pendingAt reports whether a changing segment still has its first values at atMs.
func (h *callHistory) pendingAt(sg *callSeg, atMs int64) bool {
	return sg.settle == settleChange && atMs < sg.endMs+h.changeDelay.Milliseconds()
}

// segRef is a segment of a dialog held during a window's walk.
type segRef struct {
	d *callDialog
	i int
}

// each calls fn for every generated segment of sub that ends in [lo, hi) (milliseconds),
// whatever its visibility, ordered by end time, then dialog, then position; it stops when
// fn returns false. It holds two hours of dialogs at a time.
func (h *callHistory) each(sub string, lo, hi int64, fn func(cs *callSub, d *callDialog, i int) bool) {
	cs := h.subs[sub]
	if cs == nil || cs.perHour == 0 || lo >= hi {
		return
	}
	first, last := max(floorHour(lo), h.fromHour), floorHour(hi-1)
	prev := h.hour(cs, first-1, nil)
	var cur []callDialog
	var refs []segRef
	for hour := first; hour <= last; hour++ {
		cur = h.hour(cs, hour, cur)
		a, b := max(lo, hour*hourMs), min(hi, (hour+1)*hourMs)
		refs = refs[:0]
		for _, ds := range [][]callDialog{prev, cur} {
			for j := range ds {
				d := &ds[j]
				for i := range d.nsegs {
					if e := d.segs[i].endMs; e >= a && e < b {
						refs = append(refs, segRef{d, i})
					}
				}
			}
		}
		slices.SortFunc(refs, func(x, y segRef) int {
			return cmp.Or(cmp.Compare(x.d.segs[x.i].endMs, y.d.segs[y.i].endMs), cmp.Compare(x.d.hexA, y.d.hexA), cmp.Compare(x.i, y.i))
		})
		for _, ref := range refs {
			if !fn(cs, ref.d, ref.i) {
				return
			}
		}
		prev, cur = cur, prev
	}
}

// dialogs calls fn for every generated dialog of sub that starts in the hours from the one
// before lo's to hi's (a superset of those with activity in [lo, hi)).
func (h *callHistory) dialogs(sub string, lo, hi int64, fn func(cs *callSub, d *callDialog)) {
	cs := h.subs[sub]
	if cs == nil || cs.perHour == 0 || lo >= hi {
		return
	}
	var buf []callDialog
	for hour := max(floorHour(lo)-1, h.fromHour); hour <= floorHour(hi-1); hour++ {
		buf = h.hour(cs, hour, buf)
		for j := range buf {
			fn(cs, &buf[j])
		}
	}
}

// isoMs formats milliseconds as the segments' dates: "2024-07-22T11:24:40.000Z".
func isoMs(b []byte, ms int64) []byte {
	b = append(b, '"')
	b = time.UnixMilli(ms).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, '"')
}

// appendHex appends v as n lower-case hex digits.
func appendHex(b []byte, v uint64, n int) []byte {
	const digits = "0123456789abcdef"
	for i := n - 1; i >= 0; i-- {
		b = append(b, digits[(v>>(4*uint(i)))&0xf])
	}
	return b
}

// dialogID appends the dialog's id: "s-v-<32 hex>-<start ms>" for a call (the spec's voice
// example), "d-<24 hex>-<start ms>" for a digital interaction (its digital examples).
func (d *callDialog) dialogID(b []byte) []byte {
	if d.digital == 0 {
		b = append(b, "s-v-"...)
		b = appendHex(b, d.hexA, 16)
		b = appendHex(b, d.hexB, 16)
	} else {
		b = append(b, "d-"...)
		b = appendHex(b, d.hexA, 16)
		b = appendHex(b, d.hexB>>32, 8)
	}
	b = append(b, '-')
	return strconv.AppendInt(b, d.startMs, 10)
}

// segmentID appends segment i's id: the dialog id's form ("p-v-" for a call) with "-<13 hex>".
func (d *callDialog) segmentID(b []byte, i int) []byte {
	if d.digital == 0 {
		b = append(b, "p-v-"...)
		b = appendHex(b, d.hexA, 16)
		b = appendHex(b, d.hexB, 16)
		b = append(b, '-')
		b = strconv.AppendInt(b, d.startMs, 10)
	} else {
		b = d.dialogID(b)
	}
	b = append(b, '-')
	return appendHex(b, d.segs[i].suffix, 13)
}

// key appends `,"k":` (without the comma for the first key).
func key(b []byte, k string) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

// strOrNull appends s as a JSON string, or null when s is "".
func strOrNull(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// renderSeg appends segment i of d as interaction-metadata serves it at atMs, in the field
// order of the spec's example. A changing segment that is still pending has no
// agentDisposition (null) and no recording ([I] what the API serves before processing ends is
// not documented).
func (h *callHistory) renderSeg(b []byte, cs *callSub, d *callDialog, i int, atMs int64) []byte {
	sg := &d.segs[i]
	pending := h.pendingAt(sg, atMs)
	b = append(b, '{')
	b = key(b, "subAccountId")
	b = appendString(b, cs.id)
	b = key(b, "dialogId")
	b = append(b, '"')
	b = d.dialogID(b)
	b = append(b, '"')
	// The UII: 30 digits, the first 14 the dialog's start (yyyyMMddHHmmss) in US/Eastern, as
	// in the spec's example (dialog id ms 1721690897808 = 23:28:17Z, UII 20240722192817...).
	// [I] Whether that is the account's zone or the platform's is not documented; the fake
	// uses US/Eastern for every account (the tenant has no zone).
	b = key(b, "interactionId")
	b = append(b, '"')
	b = time.UnixMilli(d.startMs).In(uiiZone).AppendFormat(b, "20060102150405")
	b = appendPad(b, d.uiiTail, 16)
	b = append(b, '"')
	b = key(b, "channelId")
	if d.digital == 0 {
		b = append(b, '"')
		b = strconv.AppendInt(b, d.dnis, 10)
		b = append(b, '"')
	} else {
		b = append(b, '"')
		b = appendHex(b, d.hexB, 16)
		b = appendHex(b, d.hexA>>32, 8)
		b = append(b, '"')
	}
	b = key(b, "channelType")
	b = key(appendString(b, channelType(d)), "channelClass")
	if d.digital == 0 {
		b = appendString(b, "VOICE")
	} else {
		b = appendString(b, "DIGITAL")
	}
	phone := func(b []byte, n int64) []byte { // a digital contact's address has "+1" ([I] the examples)
		b = append(b, '"')
		if d.digital != 0 {
			b = append(b, "+1"...)
		}
		return append(strconv.AppendInt(b, n, 10), '"')
	}
	b = phone(key(b, "channelEndpointAddress"), d.ani)
	b = phone(key(b, "contactEndpointAddress"), d.dnis)
	b = key(b, "dialogOrigination")
	if d.outbound {
		b = appendString(b, "OUTBOUND")
	} else {
		b = appendString(b, "INBOUND")
	}
	b = isoMs(key(b, "dialogStartTimeMs"), d.startMs)
	b = isoMs(key(b, "dialogEndTimeMs"), d.endMs)
	b = strconv.AppendInt(key(b, "dialogDurationMs"), d.endMs-d.startMs, 10)
	b = key(b, "segmentId")
	b = append(b, '"')
	b = d.segmentID(b, i)
	b = append(b, '"')
	b = appendString(key(b, "segmentType"), segTypes[sg.typ])
	var ag *callAgent
	if sg.agent >= 0 {
		ag = &cs.agents[sg.agent]
	}
	// An IVR or bot segment has no participant: null ids [I] (the examples show agent
	// segments only).
	switch b = key(b, "segmentParticipantId"); ag {
	case nil:
		b = append(b, "null"...)
	default:
		b = appendString(b, ag.idText)
	}
	b = key(b, "segmentParticipantRcExtensionId")
	if ag != nil {
		b = strOrNull(b, ag.rcUser)
	} else {
		b = append(b, "null"...)
	}
	b = isoMs(key(b, "segmentStartTimeMs"), sg.startMs)
	b = isoMs(key(b, "segmentEndTimeMs"), sg.endMs)
	b = strconv.AppendInt(key(b, "segmentDurationMs"), sg.endMs-sg.startMs, 10)
	b = key(b, "segmentAgentGroupId")
	if ag != nil {
		b = appendString(b, ag.group)
	} else {
		b = append(b, "null"...)
	}
	b = key(b, "systemDisposition")
	if sg.sysDisp >= 0 {
		b = appendString(b, systemDisps[sg.sysDisp])
	} else {
		b = append(b, "null"...)
	}
	// agentDisposition and agentNotes: the spec types them non-nullable strings, yet the fake
	// serves null where there is none (an IVR or bot segment, a pending disposition, a
	// segment without notes) [I]: no example shows an unset one, and null is what the
	// server writes for unset values elsewhere (systemDisposition is nullable); the client
	// reads null and "" alike.
	b = key(b, "agentDisposition")
	if sg.disp >= 0 && !pending {
		b = appendString(b, agentDisps[sg.disp])
	} else {
		b = append(b, "null"...)
	}
	b = key(b, "agentNotes")
	if sg.notes >= 0 {
		b = appendString(b, agentNoteTexts[sg.notes])
	} else {
		b = append(b, "null"...)
	}
	rec := sg.rec && !pending
	b = strconv.AppendBool(key(b, "hasRecording"), rec)
	b = strconv.AppendBool(key(b, "hasTranscript"), sg.trans)
	// segmentEvents: REC_START and REC_STOP of a recorded segment, [] for another call
	// segment, null for a digital one (the spec's examples).
	b = key(b, "segmentEvents")
	switch {
	case rec:
		b = append(b, `[{"eventTimeMs":`...)
		b = isoMs(b, sg.startMs)
		b = append(b, `,"clientEventTimeMs":`...)
		b = isoMs(b, sg.startMs)
		b = append(b, `,"eventType":"REC_START"},{"eventTimeMs":`...)
		b = isoMs(b, sg.endMs)
		b = append(b, `,"clientEventTimeMs":`...)
		b = isoMs(b, sg.endMs)
		b = append(b, `,"eventType":"REC_STOP"}]`...)
	case d.digital == 0:
		b = append(b, "[]"...)
	default:
		b = append(b, "null"...)
	}
	return append(b, '}')
}

// appendPad appends v as n decimal digits, zero-padded.
func appendPad(b []byte, v uint64, n int) []byte {
	var digits [20]byte
	s := strconv.AppendUint(digits[:0], v, 10)
	for range n - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// channelType is the dialog's channelType.
func channelType(d *callDialog) string {
	if d.digital == 0 {
		return "VOICE"
	}
	return digitalTypes[d.digital-1]
}

// Segment is one segment of the generated call history, as interaction-metadata serves it at
// the time SegmentsAt was asked for.
type Segment struct {
	SegmentID        string
	DialogID         string
	SegmentType      string    // AGENT, IVR or BOT
	AgentID          int       // the participant's agentId (0 for IVR and BOT)
	QueueID          int       // the queue (gate) the fake assigned the dialog to (0: none); not served [I]
	AgentDisposition string    // "" when null (IVR, BOT, or a changing segment still pending)
	HasRecording     bool      // false while a changing segment is pending
	SegmentEnd       time.Time // segmentEndTimeMs: the window filters on it
	VisibleAt        time.Time // when interaction-metadata starts serving it
	Late             bool      // visible only CallLateDelay after its end
	Changes          bool      // served with other agentDisposition and hasRecording until end + CallChangeDelay
	Vanishes         bool      // served only until end + CallChangeDelay
	JSON             json.RawMessage
}

// Segments returns what an interaction-metadata request for [start, end) gets at Options.Now:
// the segments of a sub-account that end in the window and are served now, in the order
// served (by segment end). It is nil for an unknown sub-account or one added after New.
func (s *Server) Segments(subAccountID string, start, end time.Time) []Segment {
	return s.SegmentsAt(subAccountID, start, end, s.opts.Now())
}

// SegmentsAt is Segments as a request made at at would get it.
func (s *Server) SegmentsAt(subAccountID string, start, end, at time.Time) []Segment {
	var out []Segment
	atMs := at.UnixMilli()
	h := s.calls
	h.each(subAccountID, start.UnixMilli(), end.UnixMilli(), func(cs *callSub, d *callDialog, i int) bool {
		sg := &d.segs[i]
		if !h.servedAt(sg, atMs) {
			return true
		}
		seg := Segment{
			SegmentID: string(d.segmentID(nil, i)), DialogID: string(d.dialogID(nil)), SegmentType: segTypes[sg.typ],
			SegmentEnd: time.UnixMilli(sg.endMs).UTC(), VisibleAt: time.UnixMilli(h.visibleAt(sg)).UTC(),
			Late: sg.settle == settleLate, Changes: sg.settle == settleChange, Vanishes: sg.settle == settleVanish,
			HasRecording: sg.rec && !h.pendingAt(sg, atMs), JSON: h.renderSeg(nil, cs, d, i, atMs),
		}
		if sg.agent >= 0 {
			seg.AgentID = cs.agents[sg.agent].id
		}
		if d.queue >= 0 {
			seg.QueueID = cs.queues[d.queue].id
		}
		if sg.disp >= 0 && !h.pendingAt(sg, atMs) {
			seg.AgentDisposition = agentDisps[sg.disp]
		}
		out = append(out, seg)
		return true
	})
	return out
}
