package engagefake

import (
	"net/http"
	"strconv"
)

// render produces the body of an admin GET (no auth, no faults). A non-200 status comes with
// a details message as body.
func (s *Server) render(r *http.Request, rt route) (int, []byte) {
	q := r.URL.Query()
	var key string
	switch rt.endpoint {
	case EndpointAccounts:
		key = "accounts"
	case EndpointUsers:
		flatten, err1 := parseBool(q.Get("flatten"))
		active, err2 := parseBool(q.Get("activeOnly"))
		if err1 != nil || err2 != nil {
			return http.StatusBadRequest, []byte("flatten and activeOnly must be true or false")
		}
		key = "users?flatten=" + strconv.FormatBool(flatten) + "&activeOnly=" + strconv.FormatBool(active)
	case EndpointAgentGroups:
		page, maxRows := -1, -1
		var err error
		if v := q.Get("page"); v != "" {
			if page, err = strconv.Atoi(v); err != nil || page < 0 {
				return http.StatusBadRequest, []byte("page must be a non-negative integer")
			}
		}
		if v := q.Get("maxRows"); v != "" {
			if maxRows, err = strconv.Atoi(v); err != nil || maxRows < 1 {
				return http.StatusBadRequest, []byte("maxRows must be a positive integer")
			}
		}
		if maxRows > 0 {
			page = max(page, 0)
		} else {
			page = -1
		}
		perms, err := parseBool(q.Get("includePermissions"))
		if err != nil {
			return http.StatusBadRequest, []byte("includePermissions must be true or false")
		}
		key = "agentGroups/" + strconv.Quote(rt.accountID) + "?page=" + strconv.Itoa(page) + "&maxRows=" + strconv.Itoa(maxRows) +
			"&includePermissions=" + strconv.FormatBool(perms)
	case EndpointAgents:
		key = "agents/" + strconv.Quote(rt.accountID) + "/" + strconv.Quote(rt.groupID) // quoted: ids may hold "/"
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
func (s *Server) renderLocked(rt route, q map[string][]string) (int, []byte) {
	t := s.tenant
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	switch rt.endpoint {
	case EndpointAccounts:
		b := []byte{'['}
		for i, sa := range t.SubAccounts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, t.subDoc(sa))
		}
		return http.StatusOK, append(b, ']')
	case EndpointUsers:
		flatten, _ := parseBool(get("flatten"))
		active, _ := parseBool(get("activeOnly"))
		return http.StatusOK, t.renderUsers(flatten, active)
	case EndpointAgentGroups:
		sa := t.SubAccount(rt.accountID)
		if sa == nil {
			return http.StatusNotFound, []byte("account " + rt.accountID + " not found")
		}
		groups := sa.Groups
		if mr, err := strconv.Atoi(get("maxRows")); err == nil && mr > 0 {
			page, _ := strconv.Atoi(get("page"))
			lo := min(len(groups), page*mr)
			groups = groups[lo:min(len(groups), lo+mr)]
		}
		perms, _ := parseBool(get("includePermissions"))
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
	case EndpointAgents:
		sa := t.SubAccount(rt.accountID)
		gid, err := strconv.Atoi(rt.groupID)
		if err != nil {
			return http.StatusBadRequest, []byte("agentGroupId must be an integer")
		}
		g := t.AgentGroup(gid)
		if sa == nil || g == nil || g.AccountID != sa.ID {
			return http.StatusNotFound, []byte("agent group " + rt.groupID + " not found in account " + rt.accountID)
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
	return http.StatusNotFound, []byte("no such endpoint")
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
	// nearest listed ancestor of each listed user
	children := make(map[int][]*User)
	var roots []*User
	for _, u := range listed {
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
