//go:build race

package main

// raceEnabled: the tests run with -race, so the binary they build for the end-to-end tests is
// built with it too.
const raceEnabled = true
