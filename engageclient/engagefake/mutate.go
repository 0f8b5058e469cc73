package engagefake

// Mutate runs fn on the tenant under the server's lock, then rebuilds the indexes, drops the
// response cache and returns fn's error (what fn changed before it failed stays changed). fn
// uses the Tenant's helpers (AddMainAccount, AddSubAccount, AddAgentGroup, AddAgent, AddUser,
// Update*, Remove*, MoveAgent; an Add helper returns the new entity, whose ID fn can capture) or
// edits the slices directly. fn must not call the Server's methods: they take the same lock.
func (s *Server) Mutate(fn func(t *Tenant) error) error {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	err := fn(s.tenant)
	s.tenant.reindex()
	s.cmu.Lock()
	clear(s.cache)
	s.cacheBytes = 0
	s.cmu.Unlock()
	return err
}
