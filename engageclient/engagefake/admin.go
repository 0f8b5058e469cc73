package engagefake

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// render produces the body of an admin GET (no auth, no faults). A non-200 status comes with
// a details message as body.
func (s *Server) render(r *http.Request, rt route) (int, []byte) {
	q := r.URL.Query()
	key, err := cacheKey(rt, q)
	if err != nil {
		return http.StatusBadRequest, []byte(err.Error())
	}
	// The tenant read lock is held across lookup, render and store, so a concurrent Mutate
	// (which clears the cache under the write lock) can never leave a stale body behind.
	s.tmu.RLock()
	defer s.tmu.RUnlock()
	s.cmu.Lock()
	body, ok := s.cache[key]
	s.cmu.Unlock()
	if ok {
		return http.StatusOK, body
	}
	status, body := s.renderLocked(rt, q)
	if status == http.StatusOK {
		s.cmu.Lock()
		if s.cacheBytes+len(body) > maxCacheBytes {
			clear(s.cache)
			s.cacheBytes = 0
		}
		if _, dup := s.cache[key]; !dup {
			s.cache[key] = body
			s.cacheBytes += len(body)
		}
		s.cmu.Unlock()
	}
	return status, body
}

// cacheKey validates an admin GET's query and returns the key its body is cached under: one key
// per distinct answer. An error is the details message of a 400.
func cacheKey(rt route, q url.Values) (string, error) {
	switch rt.endpoint {
	case EndpointAccounts:
		return "accounts", nil
	case EndpointUsers:
		flatten, err1 := parseBool(q.Get("flatten"))
		active, err2 := parseBool(q.Get("activeOnly"))
		if err1 != nil || err2 != nil {
			return "", errors.New("flatten and activeOnly must be true or false")
		}
		return "users?flatten=" + strconv.FormatBool(flatten) + "&activeOnly=" + strconv.FormatBool(active), nil
	case EndpointAgentGroups:
		page, maxRows := -1, -1
		var err error
		if v := q.Get("page"); v != "" {
			if page, err = strconv.Atoi(v); err != nil || page < 0 {
				return "", errors.New("page must be a non-negative integer")
			}
		}
		if v := q.Get("maxRows"); v != "" {
			if maxRows, err = strconv.Atoi(v); err != nil || maxRows < 1 {
				return "", errors.New("maxRows must be a positive integer")
			}
		}
		if maxRows > 0 {
			page = max(page, 0)
		} else {
			page = -1
		}
		perms, err := parseBool(q.Get("includePermissions"))
		if err != nil {
			return "", errors.New("includePermissions must be true or false")
		}
		return "agentGroups/" + strconv.Quote(rt.accountID) + "?page=" + strconv.Itoa(page) + "&maxRows=" + strconv.Itoa(maxRows) +
			"&includePermissions=" + strconv.FormatBool(perms), nil
	case EndpointAgents:
		return "agents/" + strconv.Quote(rt.accountID) + "/" + strconv.Quote(rt.groupID), nil // quoted: ids may hold "/"
	case EndpointGateGroups, EndpointGateSkills, EndpointGateAgents, EndpointDialGroups, EndpointDialGroupAgents:
		return configCacheKey(rt, q)
	}
	return "", nil
}

// allPermissions is the permissions array of a group listed with includePermissions=true.
var allPermissions = []string{"CREATE", "READ", "UPDATE", "DELETE", "REPORT"}

// parseBool parses an optional boolean query parameter ("" = false).
func parseBool(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	return strconv.ParseBool(v)
}

// renderLocked renders with s.tmu read-locked.
func (s *Server) renderLocked(rt route, q url.Values) (int, []byte) {
	t := s.tenant
	switch rt.endpoint {
	case EndpointAccounts:
		return http.StatusOK, t.renderAccounts()
	case EndpointUsers:
		flatten, _ := parseBool(q.Get("flatten"))
		active, _ := parseBool(q.Get("activeOnly"))
		return http.StatusOK, t.renderUsers(flatten, active)
	case EndpointAgentGroups:
		return t.renderAgentGroups(rt.accountID, q)
	case EndpointAgents:
		return t.renderAgents(rt.accountID, rt.groupID)
	case EndpointGateGroups, EndpointGateSkills, EndpointGateAgents, EndpointDialGroups, EndpointDialGroupAgents:
		return t.renderConfig(rt, q)
	}
	return http.StatusNotFound, []byte("no such endpoint")
}

// renderAccounts renders the sub-account listing.
func (t *Tenant) renderAccounts() []byte {
	b := []byte{'['}
	for i, sa := range t.SubAccounts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSON(b, t.subDoc(sa))
	}
	return append(b, ']')
}

// renderAgentGroups renders one page (maxRows, page) or all of a sub-account's agent groups,
// with their permissions if includePermissions is set.
func (t *Tenant) renderAgentGroups(accountID string, q url.Values) (int, []byte) {
	sa := t.SubAccount(accountID)
	if sa == nil {
		return http.StatusNotFound, []byte("account " + accountID + " not found")
	}
	groups := sa.Groups
	if mr, err := strconv.Atoi(q.Get("maxRows")); err == nil && mr > 0 {
		page, _ := strconv.Atoi(q.Get("page"))
		lo, hi := pageOf(len(groups), page, mr)
		groups = groups[lo:hi]
	}
	perms, _ := parseBool(q.Get("includePermissions"))
	b := []byte{'['}
	for i, g := range groups {
		if i > 0 {
			b = append(b, ',')
		}
		d := t.groupDoc(g)
		if perms {
			d = d.with(map[string]any{"permissions": allPermissions})
		}
		b = appendJSON(b, d)
	}
	return http.StatusOK, append(b, ']')
}

// renderAgents renders the agents of an agent group, which must belong to the sub-account.
func (t *Tenant) renderAgents(accountID, groupID string) (int, []byte) {
	sa := t.SubAccount(accountID)
	gid, err := strconv.Atoi(groupID)
	if err != nil {
		return http.StatusBadRequest, []byte("agentGroupId must be an integer")
	}
	g := t.AgentGroup(gid)
	if sa == nil || g == nil || g.AccountID != sa.ID {
		return http.StatusNotFound, []byte("agent group " + groupID + " not found in account " + accountID)
	}
	b := make([]byte, 0, 3000*len(g.Agents)+2)
	b = append(b, '[')
	for i, a := range g.Agents {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSON(b, t.agentDoc(a))
	}
	return http.StatusOK, append(b, ']')
}

// renderUsers renders the user listing. Flattened: every user, each with "parentPath" and an
// empty "children" array. Hierarchical: root users at top level, descendants nested in
// "children". With activeOnly, disabled users are left out; in the hierarchy their active
// descendants move up to the nearest listed ancestor (or to the top level).
func (t *Tenant) renderUsers(flatten, activeOnly bool) []byte {
	docs := make(map[int]doc, len(t.Users))
	var listed []*User
	for _, u := range t.Users {
		d := t.userDoc(u)
		if activeOnly {
			if en, ok := d.get("enabled"); ok && en != true {
				continue
			}
		}
		docs[u.ID] = d
		listed = append(listed, u)
	}
	if flatten {
		b := []byte{'['}
		for i, u := range listed {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, append(docs[u.ID], field{"children", []doc{}}))
		}
		return append(b, ']')
	}
	children := make(map[int][]*User)
	var roots []*User
	for _, u := range listed {
		if p := t.listedAncestor(u, docs); p == 0 {
			roots = append(roots, u)
		} else {
			children[p] = append(children[p], u)
		}
	}
	var build func(u *User, depth int) doc
	build = func(u *User, depth int) doc {
		kids := []doc{}
		if depth < 64 {
			for _, c := range children[u.ID] {
				kids = append(kids, build(c, depth+1))
			}
		}
		return append(docs[u.ID], field{"children", kids})
	}
	out := make([]doc, 0, len(roots))
	for _, u := range roots {
		out = append(out, build(u, 0))
	}
	return appendJSON(nil, out)
}

// listedAncestor returns the id of u's nearest ancestor that is listed (has a doc in docs), or
// 0 if none is (u then lists at the top level). A cycle in the parent links ends the walk.
func (t *Tenant) listedAncestor(u *User, docs map[int]doc) int {
	p := u.ParentID
	seen := map[int]bool{u.ID: true}
	for p != 0 && docs[p] == nil && !seen[p] {
		seen[p] = true
		if pu := t.userByID[p]; pu != nil {
			p = pu.ParentID
		} else {
			p = 0
		}
	}
	if p == 0 || docs[p] == nil {
		return 0
	}
	return p
}
