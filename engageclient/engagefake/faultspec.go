package engagefake

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Endpoints lists every endpoint name accepted by SetFault, in a fixed order.
var Endpoints = []string{EndpointRCToken, EndpointRCRevoke, EndpointRCAccount, EndpointExchange, EndpointRefresh, EndpointLogout,
	EndpointAccounts, EndpointUsers, EndpointAgentGroups, EndpointAgents,
	EndpointGateGroups, EndpointGateSkills, EndpointGateAgents, EndpointDialGroups, EndpointDialGroupAgents,
	EndpointAuditSearch, EndpointQueueStats, EndpointInteractionMetadata, EndpointAgentStats, EndpointAgentQueueStats}

// ErrBadFaultSpec is wrapped by ParseFault's errors.
var ErrBadFaultSpec = errors.New("bad fault spec")

// ParseFault parses a fault written on a command line (for `syncer fake-engage --fault`):
//
//	ENDPOINT:OPTION[,OPTION...]
//
// with ENDPOINT one of Endpoints and OPTION one of status=N, retry-after=VALUE, latency=DURATION
// (time.ParseDuration syntax), times=N, path=SUBSTRING (PathContains), drop, malformed,
// no-body (NoBody; needs status=N).
// Examples: "agents:status=503,times=3", "accounts:status=429,retry-after=5",
// "agentGroups:malformed,path=/accounts/20001/", "rc.token:latency=2s",
// "users:status=401,no-body".
func ParseFault(spec string) (string, Fault, error) {
	var f Fault
	endpoint, opts, ok := strings.Cut(spec, ":")
	if !ok || opts == "" {
		return "", f, fmt.Errorf("parsing fault %q: want ENDPOINT:OPTION[,OPTION...]: %w", spec, ErrBadFaultSpec)
	}
	if !slices.Contains(Endpoints, endpoint) {
		return "", f, fmt.Errorf("parsing fault %q: unknown endpoint %q (want one of %s): %w",
			spec, endpoint, strings.Join(Endpoints, ", "), ErrBadFaultSpec)
	}
	for opt := range strings.SplitSeq(opts, ",") {
		key, val, hasVal := strings.Cut(strings.TrimSpace(opt), "=")
		var err error
		switch {
		case key == "drop" && !hasVal:
			f.Drop = true
		case key == "malformed" && !hasVal:
			f.Malformed = true
		case key == "no-body" && !hasVal:
			f.NoBody = true
		case key == "status" && hasVal:
			f.Status, err = strconv.Atoi(val)
			if err == nil && (f.Status < 100 || f.Status > 599) {
				err = errors.New("out of range")
			}
		case key == "times" && hasVal:
			f.Times, err = strconv.Atoi(val)
			if err == nil && f.Times < 0 {
				err = errors.New("negative")
			}
		case key == "latency" && hasVal:
			f.Latency, err = time.ParseDuration(val)
		case key == "retry-after" && hasVal:
			f.RetryAfter = val
		case key == "path" && hasVal:
			f.PathContains = val
		default:
			return "", f, fmt.Errorf("parsing fault %q: unknown option %q: %w", spec, opt, ErrBadFaultSpec)
		}
		if err != nil {
			return "", f, fmt.Errorf("parsing fault %q: option %s: %w", spec, key, errors.Join(ErrBadFaultSpec, err))
		}
	}
	if f.NoBody && f.Status == 0 {
		return "", f, fmt.Errorf("parsing fault %q: no-body needs status=N: %w", spec, ErrBadFaultSpec)
	}
	return endpoint, f, nil
}
