// Package engageclient is a typed client for the RingCentral Engage Voice (RingCX) admin API and
// the RingCentral auth chain in front of it: JWT grant, token exchange, refresh, pacing, retries,
// typed errors and tolerant decoding. It knows nothing of Postgres or of sync runs.
package engageclient
