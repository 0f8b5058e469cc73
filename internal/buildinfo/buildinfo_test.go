package buildinfo_test

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/internal/buildinfo"
)

// fakeBuildInfo is what the go command stamps into a binary built from a checkout of
// version at revision rev.
func fakeBuildInfo(version string, settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Path: "github.com/evsync/evsync/cmd/syncer",
		Main: debug.Module{Path: "github.com/evsync/evsync", Version: version}}
	for i := 0; i+1 < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

const rev = "4b29380c1f2e9d8a7b6c5d4e3f2a1b0c9d8e7f6a"

func TestFromBuildInfo(t *testing.T) {
	t.Parallel()
	here := runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name     string
		bi       *debug.BuildInfo
		version  string // the -ldflags override
		want     buildinfo.Info
		wantLine string
		wantUA   string
	}{
		{
			name: "tagged release",
			bi: fakeBuildInfo("v1.2.0", "GOOS", "linux", "GOARCH", "arm64", "vcs", "git",
				"vcs.revision", rev, "vcs.time", "2026-12-01T10:00:00Z", "vcs.modified", "false"),
			want: buildinfo.Info{Version: "v1.2.0", Revision: rev, Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
				GoVersion: "go1.26.0", Platform: "linux/arm64"},
			wantLine: "v1.2.0 (revision 4b29380c1f2e, 2026-12-01T10:00:00Z; go1.26.0 linux/arm64)",
			wantUA:   "evsync/v1.2.0 (4b29380c1f2e; go1.26.0)",
		},
		{
			name: "work tree with changes",
			bi: fakeBuildInfo("v0.0.0-20261201100000-4b29380c1f2e+dirty", "GOOS", "darwin", "GOARCH", "amd64",
				"vcs.revision", rev, "vcs.time", "2026-12-01T11:00:00+01:00", "vcs.modified", "true"),
			want: buildinfo.Info{Version: "v0.0.0-20261201100000-4b29380c1f2e+dirty", Revision: rev,
				Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Dirty: true, GoVersion: "go1.26.0", Platform: "darwin/amd64"},
			wantLine: "v0.0.0-20261201100000-4b29380c1f2e+dirty (revision 4b29380c1f2e, 2026-12-01T10:00:00Z, dirty; go1.26.0 darwin/amd64)",
			wantUA:   "evsync/v0.0.0-20261201100000-4b29380c1f2e+dirty (4b29380c1f2e; go1.26.0)",
		},
		{
			name:    "version from -ldflags",
			bi:      fakeBuildInfo("(devel)", "GOOS", "linux", "GOARCH", "amd64", "vcs.revision", rev, "vcs.time", "2026-12-01T10:00:00Z"),
			version: "1.3.0-rc.1",
			want: buildinfo.Info{Version: "1.3.0-rc.1", Revision: rev, Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
				GoVersion: "go1.26.0", Platform: "linux/amd64"},
			wantLine: "1.3.0-rc.1 (revision 4b29380c1f2e, 2026-12-01T10:00:00Z; go1.26.0 linux/amd64)",
			wantUA:   "evsync/1.3.0-rc.1 (4b29380c1f2e; go1.26.0)",
		},
		{
			name:     "go install of a module version: no VCS",
			bi:       fakeBuildInfo("v1.2.0", "GOOS", "linux", "GOARCH", "amd64"),
			want:     buildinfo.Info{Version: "v1.2.0", GoVersion: "go1.26.0", Platform: "linux/amd64"},
			wantLine: "v1.2.0 (go1.26.0 linux/amd64)",
			wantUA:   "evsync/v1.2.0 (go1.26.0)",
		},
		{
			name:     "devel build, unreadable time",
			bi:       fakeBuildInfo("(devel)", "vcs.time", "yesterday"),
			want:     buildinfo.Info{Version: "dev", GoVersion: "go1.26.0", Platform: here},
			wantLine: "dev (go1.26.0 " + here + ")",
			wantUA:   "evsync/dev (go1.26.0)",
		},
		{
			name:     "override that is no HTTP token",
			bi:       fakeBuildInfo(""),
			version:  "1.0 (beta)",
			want:     buildinfo.Info{Version: "1.0 (beta)", GoVersion: "go1.26.0", Platform: here},
			wantLine: "1.0 (beta) (go1.26.0 " + here + ")",
			wantUA:   "evsync/1.0--beta- (go1.26.0)",
		},
		{
			name:     "no build info",
			bi:       nil,
			want:     buildinfo.Info{Version: "dev", GoVersion: runtime.Version(), Platform: here},
			wantLine: "dev (" + runtime.Version() + " " + here + ")",
			wantUA:   "evsync/dev (" + runtime.Version() + ")",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := buildinfo.FromBuildInfo(tt.bi, tt.version)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FromBuildInfo (-want +got):\n%s", diff)
			}
			if line := got.String(); line != tt.wantLine {
				t.Errorf("String() = %q, want %q", line, tt.wantLine)
			}
			if ua := got.UserAgent("evsync"); ua != tt.wantUA {
				t.Errorf("UserAgent() = %q, want %q", ua, tt.wantUA)
			}
		})
	}
}

// Read reads the test binary's own build info: it knows at least the Go version.
func TestRead(t *testing.T) {
	t.Parallel()
	got := buildinfo.Read("9.9.9")
	if got.Version != "9.9.9" || got.GoVersion != runtime.Version() {
		t.Errorf("Read(9.9.9) = %+v, want version 9.9.9 and Go %s", got, runtime.Version())
	}
}
