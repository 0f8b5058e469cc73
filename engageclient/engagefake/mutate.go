package engagefake

// Convenience wrappers around Mutate for tests. Each runs under the server's lock and drops the
// response cache. Update* set one JSON field of the entity's object (Omit removes the field, nil
// sends null); Add* return the new entity's id; Remove* cascade (a sub-account takes its agent
// groups and agents along, a group its agents; a removed user's children move up to its parent).

// AddSubAccount adds an empty sub-account under mainAccountID and returns its id.
func (s *Server) AddSubAccount(mainAccountID string) (string, error) {
	var id string
	var err error
	s.mutate(func(t *Tenant) {
		var sa *SubAccount
		if sa, err = t.AddSubAccount(mainAccountID); err == nil {
			id = sa.ID
		}
	}, false)
	return id, err
}

// UpdateSubAccount sets one field of a sub-account's Account object.
func (s *Server) UpdateSubAccount(id, field string, value any) error {
	var err error
	s.mutate(func(t *Tenant) { err = t.UpdateSubAccount(id, field, value) }, false)
	return err
}

// RemoveSubAccount removes a sub-account with its agent groups and agents.
func (s *Server) RemoveSubAccount(id string) error {
	var err error
	s.mutate(func(t *Tenant) { err = t.RemoveSubAccount(id) }, false)
	return err
}

// AddMainAccount adds a main account and one sub-account under it; it returns both ids.
func (s *Server) AddMainAccount() (mainAccountID, subAccountID string) {
	s.mutate(func(t *Tenant) {
		m := t.AddMainAccount()
		sa, _ := t.AddSubAccount(m.ID)
		mainAccountID, subAccountID = m.ID, sa.ID
	}, false)
	return mainAccountID, subAccountID
}

// UpdateMainAccount sets one field of a main account's nested "mainAccount" object
// ("mainAccountName" also changes its sub-accounts' top-level mainAccountName).
func (s *Server) UpdateMainAccount(id, field string, value any) error {
	var err error
	s.mutate(func(t *Tenant) { err = t.UpdateMainAccount(id, field, value) }, false)
	return err
}

// AddAgentGroup adds an empty agent group to a sub-account and returns its id.
func (s *Server) AddAgentGroup(accountID string) (int, error) {
	var id int
	var err error
	s.mutate(func(t *Tenant) {
		var g *AgentGroup
		if g, err = t.AddAgentGroup(accountID); err == nil {
			id = g.ID
		}
	}, false)
	return id, err
}

// UpdateAgentGroup sets one field of an agent group's object.
func (s *Server) UpdateAgentGroup(id int, field string, value any) error {
	var err error
	s.mutate(func(t *Tenant) { err = t.UpdateAgentGroup(id, field, value) }, false)
	return err
}

// RemoveAgentGroup removes an agent group with its agents.
func (s *Server) RemoveAgentGroup(id int) error {
	var err error
	s.mutate(func(t *Tenant) { err = t.RemoveAgentGroup(id) }, false)
	return err
}

// AddAgent adds a generated agent to an agent group and returns its id.
func (s *Server) AddAgent(groupID int) (int, error) {
	var id int
	var err error
	s.mutate(func(t *Tenant) {
		var a *Agent
		if a, err = t.AddAgent(groupID); err == nil {
			id = a.ID
		}
	}, false)
	return id, err
}

// UpdateAgent sets one field of an agent's object.
func (s *Server) UpdateAgent(id int, field string, value any) error {
	var err error
	s.mutate(func(t *Tenant) { err = t.UpdateAgent(id, field, value) }, false)
	return err
}

// MoveAgent moves an agent to another agent group.
func (s *Server) MoveAgent(id, toGroupID int) error {
	var err error
	s.mutate(func(t *Tenant) { err = t.MoveAgent(id, toGroupID) }, false)
	return err
}

// RemoveAgent removes an agent.
func (s *Server) RemoveAgent(id int) error {
	var err error
	s.mutate(func(t *Tenant) { err = t.RemoveAgent(id) }, false)
	return err
}

// AddUser adds a generated admin user under parentID (0 = root) and returns its id.
func (s *Server) AddUser(parentID int) (int, error) {
	var id int
	var err error
	s.mutate(func(t *Tenant) {
		var u *User
		if u, err = t.AddUser(parentID); err == nil {
			id = u.ID
		}
	}, false)
	return id, err
}

// UpdateUser sets one field of a user's object.
func (s *Server) UpdateUser(id int, field string, value any) error {
	var err error
	s.mutate(func(t *Tenant) { err = t.UpdateUser(id, field, value) }, false)
	return err
}

// RemoveUser removes an admin user; its children move up to its parent.
func (s *Server) RemoveUser(id int) error {
	var err error
	s.mutate(func(t *Tenant) { err = t.RemoveUser(id) }, false)
	return err
}
