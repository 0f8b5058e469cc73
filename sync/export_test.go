package sync

// ForgetUnrecordedInMemory drops what this process keeps of the errors of runs of identity
// that could not record their end, as a process that dies loses it.
func ForgetUnrecordedInMemory(identity string) {
	unrecordedErrors.mu.Lock()
	defer unrecordedErrors.mu.Unlock()
	delete(unrecordedErrors.m, identity)
}

// UnrecordedFile is where the errors of a database's unrecorded runs are kept in dir.
func UnrecordedFile(dir, identity string) string { return unrecordedFile(dir, identity) }
