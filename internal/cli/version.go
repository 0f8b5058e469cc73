package cli

import (
	"fmt"
	gosync "sync"

	"github.com/spf13/cobra"

	"github.com/evsync/evsync/internal/buildinfo"
)

// version is set at build time with
// -ldflags "-X github.com/evsync/evsync/internal/cli.version=..."; it replaces only the
// version string of the build info (build).
var version = ""

// build is what the binary knows of its build: --version, the User-Agent and the daemon's
// evsync_build_info show it. It is read once: the build info and version (set at link time)
// do not change while the process runs.
var build = gosync.OnceValue(func() buildinfo.Info { return buildinfo.Read(version) })

// userAgent is the User-Agent of the API requests: "evsync/VERSION (REVISION; GOVERSION)".
func userAgent() string { return build().UserAgent("evsync") }

// versionLine is the answer of --version and `syncer version`: the build on one line.
func versionLine(b buildinfo.Info) string { return "syncer " + b.String() + "\n" }

// writeVersion prints the version line of this binary.
func writeVersion(a *app) error {
	if _, err := fmt.Fprint(a.stdout, versionLine(build())); err != nil {
		return fmt.Errorf("writing the version: %w", err)
	}
	return nil
}

// newVersionCmd is "syncer version", the same as --version.
func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version, VCS revision and time, and Go version (as --version)",
		Args:  noArgs,
		RunE:  func(*cobra.Command, []string) error { return writeVersion(a) },
	}
}
