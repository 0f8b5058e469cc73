//go:build !race

package cli

// raceEnabled: the tests run without -race, and so does the binary they build.
const raceEnabled = false
