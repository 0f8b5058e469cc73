package main

// The exit codes of the CLI contract, as the binary's users see them.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitPartial = 3
	exitLocked  = 4
)
