package engagefake

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"
)

// The aggregate statistics of the generated call history (agg-queue-stats, agg-agent-stats,
// agg-agent-extended-stats), computed from the dialogs themselves, whatever the segments'
// settling ([I] the documents do not say whether the statistics settle too), so that they
// add up: per queue and interval, the agent×queue rows' answIxnCnt, talkingIxnDur and
// wrapUpDur sum to the queue row's; per agent, the agent×queue rows' talkingIxnDur sum to the
// agent row's directInIxnDur + directOutIxnDur.
//
// Which interval an event counts in: a dialog's offer, answer or abandon where its first agent
// segment starts (an abandoned dialog: where it ends); an agent segment's talk, wrap-up, hold
// and transfer where it starts. [I] The documents do not define the metrics beyond their
// names; the choices below are the fake's:
//   - every dialog counts in its queue's rows, outbound calls and digital interactions too;
//   - offdDirectIxnCnt: dialogs offered (answered + abandoned + outbound not answered);
//     answIxnCnt and completedContacts: answered; abandIxnCnt: abandoned in the queue;
//     abandShortIxnCnt: abandoned within 10 s; abandWithinSlCnt and ansServicelevelCnt:
//     abandoned or answered within the service level (20 s);
//   - queuedAndAnswIxnDur, queuedAndAbandIxnDur, waitDur: seconds in the queue; the
//     *LongestQueDur the longest; talkingIxnDur and wrapUpDur seconds; segmentHoldTime
//     milliseconds (the spec's example, 512000, looks like ms); overflow counts 0;
//   - an agent's totWorkDur = availDur = talk + wrap-up + pauseDur + waitDur (idle), adminDur 0.

// aggQueue is one queue's metrics in one interval.
type aggQueue struct {
	offd, answ, aband, abandShort, abandSL, ansSL, completed int64
	answDur, abandDur, answLongest, abandLongest, talk, wrap int64
	wait, holdMs                                             int64
}

// aggAgent is one agent's direct interactions in one interval.
type aggAgent struct{ inCnt, inDur, outCnt, outDur, wrap int64 }

// aggAgentQueue is one agent's metrics in one queue and interval.
type aggAgentQueue struct{ talk, wrap, answ, transferOut int64 }

// statsWindow is a request's window: intervals of step from lo.
type statsWindow struct {
	lo, hi, step int64 // milliseconds
	loc          *time.Location
}

// interval is the index of the interval holding ms, or -1 outside the window.
func (w statsWindow) interval(ms int64) int64 {
	if ms < w.lo || ms >= w.hi {
		return -1
	}
	return (ms - w.lo) / w.step
}

// statsRows renders the rows of a stats endpoint for the window, ordered by interval, then
// queue or agent (then queue).
func (h *callHistory) statsRows(endpoint, sub string, w statsWindow) [][]byte {
	tb := statsTables{queues: map[[2]int64]*aggQueue{}, agents: map[[2]int64]*aggAgent{}, pairs: map[[3]int64]*aggAgentQueue{}}
	var cs *callSub
	h.dialogs(sub, w.lo, w.hi, func(c *callSub, d *callDialog) {
		cs = c
		h.aggregateDialog(w, d, &tb)
		aggregateSegments(w, d, &tb)
	})
	queues, agents, pairs := tb.queues, tb.agents, tb.pairs
	if cs == nil {
		return nil
	}
	var out [][]byte
	switch endpoint {
	case EndpointQueueStats:
		keys := sortedKeys(queues)
		for _, k := range keys {
			q, cq := queues[k], cs.queues[k[1]]
			out = append(out, appendJSON(nil, doc{
				{"dateTimeFrom", h.dateTimeFromOf(w, k[0])}, {"interval", w.step / 60000}, {"queue", cq.id}, {"queueName", cq.name},
				{"offdDirectIxnCnt", q.offd}, {"answIxnCnt", q.answ}, {"abandIxnCnt", q.aband}, {"abandShortIxnCnt", q.abandShort},
				{"abandWithinSlCnt", q.abandSL}, {"ansServicelevelCnt", q.ansSL}, {"completedContacts", q.completed},
				{"queuedAndAnswIxnDur", q.answDur}, {"queuedAndAbandIxnDur", q.abandDur}, {"queuedAnswLongestQueDur", q.answLongest},
				{"queuedAbandLongestQueDur", q.abandLongest}, {"talkingIxnDur", q.talk}, {"wrapUpDur", q.wrap}, {"waitDur", q.wait},
				{"segmentHoldTime", q.holdMs}, {"overflowInIxnCnt", 0}, {"overflowOutIxnCnt", 0},
			}))
		}
	case EndpointAgentStats:
		for _, k := range sortedKeys(agents) {
			a, ca := agents[k], cs.agents[k[1]]
			start := w.lo + k[0]*w.step
			stepS := (min(w.hi, start+w.step) - start) / 1000
			r := h.rand(cs, kindCallAgentInterval, int64(ca.id)<<32^(start/1000))
			talk := a.inDur + a.outDur
			var pause int64
			if r.IntN(4) == 0 {
				pause = min(60*(1+r.Int64N(15)), stepS/2)
			}
			wait := max(0, stepS-talk-a.wrap-pause) * (30 + r.Int64N(70)) / 100
			tot := talk + a.wrap + pause + wait
			out = append(out, appendJSON(nil, doc{
				{"interval", w.step / 60000}, {"dateTimeFrom", h.dateTimeFromOf(w, k[0])}, {"agentId", ca.id}, {"agentName", ca.nameLF},
				{"availDur", tot}, {"totWorkDur", tot}, {"pauseDur", pause}, {"waitDur", wait}, {"adminDur", 0},
				{"directOutIxnCnt", a.outCnt}, {"directOutIxnDur", a.outDur}, {"directInIxnCnt", a.inCnt}, {"directInIxnDur", a.inDur},
			}))
		}
	case EndpointAgentQueueStats:
		for _, k := range sortedKeys(pairs) {
			p, ca, cq := pairs[k], cs.agents[k[1]], cs.queues[k[2]]
			out = append(out, appendJSON(nil, doc{
				{"interval", w.step / 60000}, {"dateTimeFrom", h.dateTimeFromOf(w, k[0])}, {"agentId", ca.id}, {"agentName", ca.name},
				{"queue", cq.id}, {"queueName", cq.name}, {"talkingIxnDur", p.talk}, {"wrapUpDur", p.wrap}, {"answIxnCnt", p.answ},
				{"transferOutIxnCnt", p.transferOut},
			}))
		}
	}
	return out
}

// statsTables are the metrics of a window by (interval, queue), (interval, agent) and
// (interval, agent, queue).
type statsTables struct {
	queues map[[2]int64]*aggQueue
	agents map[[2]int64]*aggAgent
	pairs  map[[3]int64]*aggAgentQueue
}

// queue returns the metrics of queue qi in interval k (nil when either is -1).
func (tb *statsTables) queue(k, qi int64) *aggQueue {
	if qi < 0 || k < 0 {
		return nil
	}
	q := tb.queues[[2]int64{k, qi}]
	if q == nil {
		q = &aggQueue{}
		tb.queues[[2]int64{k, qi}] = q
	}
	return q
}

// agentSegments returns the indexes of a dialog's first and last agent segments (-1: none).
func agentSegments(d *callDialog) (first, last int) {
	first, last = -1, -1
	for i := range d.nsegs {
		if d.segs[i].typ == segAgent {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// answered reports whether the dialog's first agent segment was answered.
func answered(d *callDialog, first int) bool { return first >= 0 && !d.segs[first].unanswered() }

// aggregateDialog adds a dialog's offer and its answer or abandon to its queue's metrics.
func (h *callHistory) aggregateDialog(w statsWindow, d *callDialog, tb *statsTables) {
	first, _ := agentSegments(d)
	switch {
	case d.abandoned:
		if q := tb.queue(w.interval(d.endMs), int64(d.queue)); q != nil {
			q.offd++
			q.aband++
			q.abandShort += b2i(d.waitS < 10)
			q.abandSL += b2i(d.waitS <= h.slSeconds)
			q.abandDur += d.waitS
			q.abandLongest = max(q.abandLongest, d.waitS)
			q.wait += d.waitS
		}
	case first >= 0:
		q := tb.queue(w.interval(d.segs[first].startMs), int64(d.queue))
		if q == nil {
			return
		}
		q.offd++
		q.wait += d.waitS
		if answered(d, first) {
			q.answ++
			q.completed++
			q.ansSL += b2i(d.waitS <= h.slSeconds)
			q.answDur += d.waitS
			q.answLongest = max(q.answLongest, d.waitS)
		}
	}
}

// aggregateSegments adds a dialog's agent segments to their agents', queue's and agent×queue
// metrics, each in the interval where it starts.
func aggregateSegments(w statsWindow, d *callDialog, tb *statsTables) {
	first, last := agentSegments(d)
	qi := int64(d.queue)
	for i := range d.nsegs {
		sg := &d.segs[i]
		k := w.interval(sg.startMs)
		if sg.typ != segAgent || k < 0 {
			continue
		}
		dur := (sg.endMs - sg.startMs) / 1000
		ak := [2]int64{k, int64(sg.agent)}
		a := tb.agents[ak]
		if a == nil {
			a = &aggAgent{}
			tb.agents[ak] = a
		}
		if d.outbound {
			a.outCnt++
			a.outDur += dur
		} else {
			a.inCnt++
			a.inDur += dur
		}
		a.wrap += sg.wrapS
		q := tb.queue(k, qi)
		if q == nil {
			continue
		}
		q.talk += dur
		q.wrap += sg.wrapS
		q.holdMs += sg.holdMs
		pk := [3]int64{k, int64(sg.agent), qi}
		p := tb.pairs[pk]
		if p == nil {
			p = &aggAgentQueue{}
			tb.pairs[pk] = p
		}
		p.talk += dur
		p.wrap += sg.wrapS
		p.answ += b2i(i == first && answered(d, first))
		p.transferOut += b2i(i != last)
	}
}

// dateTimeFromOf is interval k's start as dateTimeFrom ("03-04-2024T01:00:00", no zone, in
// the request's time zone [I]).
func (h *callHistory) dateTimeFromOf(w statsWindow, k int64) string {
	return time.UnixMilli(w.lo + k*w.step).In(w.loc).Format(h.dateTimeFrom)
}

// b2i is 1 for true.
func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// sortedKeys returns a map's keys in order.
func sortedKeys[K [2]int64 | [3]int64, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b K) int {
		for i := range len(a) {
			if c := cmp.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return keys
}

// StatsRows returns the rows a stats endpoint (EndpointQueueStats, EndpointAgentStats or
// EndpointAgentQueueStats) serves for a sub-account's window [start, end) in intervals of
// interval, dateTimeFrom written in start's location. It is nil for another endpoint, an
// unknown sub-account or a window without activity.
func (s *Server) StatsRows(endpoint, subAccountID string, start, end time.Time, interval time.Duration) []json.RawMessage {
	if interval < time.Second {
		return nil
	}
	w := statsWindow{lo: start.UnixMilli(), hi: end.UnixMilli(), step: interval.Milliseconds(), loc: start.Location()}
	rows := s.calls.statsRows(endpoint, subAccountID, w)
	if len(rows) == 0 {
		return nil
	}
	out := make([]json.RawMessage, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out
}
