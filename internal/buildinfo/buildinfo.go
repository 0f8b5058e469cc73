// Package buildinfo reads what a binary knows of its own build (module version, VCS revision
// and time, whether the work tree was modified, Go version) from runtime/debug.ReadBuildInfo,
// for --version, the User-Agent and the daemon's evsync_build_info. It uses the standard
// library only; the caller passes in the version set by -ldflags, which overrides only the
// version string.
package buildinfo

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// VersionUnknown is the version of a binary whose build info names none (a plain go build
// outside a VCS checkout, or a test binary).
const VersionUnknown = "dev"

// Info is what a binary knows of its build. Fields it cannot know are empty (zero).
type Info struct {
	// Version is the version set by -ldflags, else the module's version as the go command
	// stamped it (a tag such as v1.2.0, or a pseudo-version), else VersionUnknown.
	Version string
	// Revision is the VCS commit the binary was built from (vcs.revision).
	Revision string
	// Time is that commit's time (vcs.time), in UTC.
	Time time.Time
	// Dirty reports whether the work tree had changes not committed (vcs.modified).
	Dirty bool
	// GoVersion is the Go toolchain that built the binary, such as go1.26.0.
	GoVersion string
	// Platform is the target, GOOS/GOARCH.
	Platform string
}

// Read returns the running binary's Info. A non-empty version (set at build time with
// -ldflags -X) replaces the module's version; the rest still comes from the build info.
func Read(version string) Info {
	bi, _ := debug.ReadBuildInfo()
	return FromBuildInfo(bi, version)
}

// FromBuildInfo returns the Info that bi describes (nil: nothing but the running Go version
// and platform), with version, when not empty, as the version.
func FromBuildInfo(bi *debug.BuildInfo, version string) Info {
	i := Info{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		i.Version = cmp.Or(i.Version, VersionUnknown)
		return i
	}
	if i.Version == "" && bi.Main.Version != "(devel)" {
		i.Version = bi.Main.Version
	}
	i.Version = cmp.Or(i.Version, VersionUnknown)
	i.GoVersion = cmp.Or(bi.GoVersion, i.GoVersion)
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339Nano, s.Value); err == nil {
				i.Time = t.UTC()
			}
		case "vcs.modified":
			i.Dirty = s.Value == "true"
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "" && goarch != "" {
		i.Platform = goos + "/" + goarch
	}
	return i
}

// ShortRevision is the revision's first 12 characters (what git shows to tell commits
// apart), or "" when it is unknown.
func (i Info) ShortRevision() string {
	if len(i.Revision) > 12 {
		return i.Revision[:12]
	}
	return i.Revision
}

// String is the build on one line, such as
// "v1.2.0 (revision 0123456789ab, 2026-12-01T10:00:00Z, dirty; go1.26.0 linux/amd64)"; the
// parts it does not know are left out.
func (i Info) String() string {
	var vcs []string
	if r := i.ShortRevision(); r != "" {
		vcs = append(vcs, "revision "+r)
	}
	if !i.Time.IsZero() {
		vcs = append(vcs, i.Time.UTC().Format(time.RFC3339))
	}
	if i.Dirty {
		vcs = append(vcs, "dirty")
	}
	toolchain := strings.TrimSpace(i.GoVersion + " " + i.Platform)
	if len(vcs) == 0 {
		return fmt.Sprintf("%s (%s)", i.Version, toolchain)
	}
	return fmt.Sprintf("%s (%s; %s)", i.Version, strings.Join(vcs, ", "), toolchain)
}

// UserAgent is an HTTP User-Agent naming product at this build, such as
// "evsync/v1.2.0 (0123456789ab; go1.26.0)": a product token, then a comment with the
// revision (when known) and the Go version. Characters a token may not hold become "-".
func (i Info) UserAgent(product string) string {
	comment := i.GoVersion
	if r := i.ShortRevision(); r != "" {
		comment = r + "; " + comment
	}
	return token(product) + "/" + token(i.Version) + " (" + commentText(comment) + ")"
}

// token replaces what an HTTP token may not hold (RFC 9110 tchar) with "-".
func token(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return r
		}
		return '-'
	}, s)
}

// commentText replaces what an HTTP comment may not hold here (controls, parentheses,
// backslashes, non-ASCII) with "-".
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f || r == '(' || r == ')' || r == '\\' {
			return '-'
		}
		return r
	}, s)
}
