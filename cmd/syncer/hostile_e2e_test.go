package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// TestE2EHostileTextIsEscaped feeds the binary API text that tries to drive the terminal or
// forge output: an error answer whose generalMessage, details and errorCode hold ANSI and OSC
// escapes, BEL, U+202E and a newline followed by a log-looking line, and a JSON key (a drift
// path) holding the same. What sync and status print, on stdout and stderr, holds no control
// character but the newlines that end its own lines, the forged text never starts a line, and
// the ledger's error columns store the escaped text.
func TestE2EHostileTextIsEscaped(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 47, Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2,
		AgentGroupsPerSubAccount: 2, AgentsPerGroup: 2, Users: 2}})
	e.writeConfig("engage:\n  requests_per_minute: 6000\nlog:\n  format: text\n")
	e.mustRun(0, "sync")

	subs := e.fake.SubAccountIDs()
	group := e.fake.AgentGroupIDs(subs[0])[0]
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 400, PathContains: fmt.Sprintf("/agentGroups/%d/", group),
		Body: []byte(`{"generalMessage":"Agent group locked\u001b[31m RED \u001b]0;pwned\u0007\u0085\ntime=2026-01-01T00:00:00Z level=ERROR msg=FORGED-ERROR",` +
			`"details":"see \u202edetails\u009b2J","errorCode":"bad.\u001b[2Jcode\r\nFORGED-CODE"}`)})
	const key = "evil\u001b[1m\u202ekey\u0007\nFORGED-PATH\u2028x"
	agent := e.fake.AgentIDs(e.fake.AgentGroupIDs(subs[1])[0])[0]
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(agent, key, "v") }); err != nil {
		t.Fatal(err)
	}

	outs := map[string]result{"sync": e.mustRun(3, "sync"), "status": e.mustRun(0, "status")}
	for cmd, r := range outs {
		noHostileOutput(t, cmd, r)
	}
	for cmd, want := range map[string][]string{
		"sync":   {`evil\x1b\[1m\u202ekey\a\nFORGED-PATH\u2028x`},
		"status": {`Agent group locked\x1b[31m RED`, `evil\x1b\[1m\u202ekey\a\nFORGED-PATH\u2028x`},
	} {
		for _, w := range want {
			if !strings.Contains(outs[cmd].stdout, w) {
				t.Errorf("%s does not print %s:\n%s", cmd, w, outs[cmd].stdout)
			}
		}
	}
	// The scope's error is printed once, escaped, in its log line ("scope failed").
	for _, w := range []string{`Agent group locked\x1b[31m RED \x1b]0;pwned\a`, `see \u202edetails\u009b2J`, `bad.\x1b[2Jcode`} {
		if n := strings.Count(outs["sync"].stdout+outs["sync"].stderr, w); n != 1 {
			t.Errorf("sync prints %s %d times, want once:\nstdout: %s\nstderr: %s", w, n, outs["sync"].stdout, outs["sync"].stderr)
		}
	}
	// An authentication refused with hostile text: the run's error reaches stderr as one line.
	e.fake.ClearFaults()
	e.fake.SetFault(engagefake.EndpointRCToken, engagefake.Fault{Status: 400,
		Body: []byte(`{"error":"invalid_grant\u001b[31m\nsyncer: FORGED-AUTH","error_description":"JWT \u202edenied",` +
			`"errors":[{"errorCode":"OAU-\u001b]0;x\u0007\nFORGED-OAU","message":"m"}]}`)})
	r := e.mustRun(1, "sync")
	noHostileOutput(t, "failed sync", r)
	if !strings.Contains(r.stderr, `msg="run ended"`) || strings.Count(r.stderr, `invalid_grant\x1b[31m\nsyncer: FORGED-AUTH`) != 1 {
		t.Errorf("failed sync does not log its escaped error once, in its run ended line:\n%s", r.stderr)
	}

	const control = `[\x01-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]`
	if n := e.count(`SELECT count(*) FROM engage.sync_runs WHERE error ~ '` + control + `'`); n != 0 {
		t.Errorf("%d sync_runs errors hold a control character", n)
	}
	if n := e.count(`SELECT count(*) FROM engage.sync_run_scopes WHERE error ~ '` + control + `'`); n != 0 {
		t.Errorf("%d sync_run_scopes errors hold a control character", n)
	}
	for _, tbl := range []string{"sync_runs", "sync_run_scopes"} {
		if n := e.count(`SELECT count(*) FROM engage.` + tbl + ` WHERE strpos(error, 'Agent group locked\x1b[31m RED \x1b]0;pwned\a') > 0`); n != 1 {
			t.Errorf("%s: %d errors store the escaped message, want 1", tbl, n)
		}
	}
}

// noHostileOutput checks what command cmd printed: no fixture.HostileRune, and no line that starts
// with the text a hostile input put after its newline.
func noHostileOutput(t *testing.T, cmd string, r result) {
	t.Helper()
	for stream, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
		if i := strings.IndexFunc(out, fixture.HostileRune); i >= 0 {
			t.Errorf("%s %s holds %q at %d:\n%s", cmd, stream, []rune(out[i:])[0], i, out)
		}
		for line := range strings.Lines(out) {
			if l := strings.TrimSpace(line); strings.HasPrefix(l, "FORGED") || strings.HasPrefix(l, "time=2026-01-01") ||
				strings.HasPrefix(l, "syncer: FORGED") {
				t.Errorf("%s %s: a line is forged: %q", cmd, stream, line)
			}
		}
	}
}
