package docs

import (
	"regexp"
	"strings"
	"testing"
)

// composeV1 is a command of Compose v1, the retired docker-compose binary: "docker-compose up",
// "docker-compose --profile ...". The file docker-compose.yml keeps its name.
var composeV1 = regexp.MustCompile("\\bdocker-compose\\s+[-a-z][^\\s`]*")

// The docs and the compose file's comments give Compose v2 commands (docker compose), the
// ones Docker ships: the docker-compose binary is retired and absent from current installs.
func TestComposeCommandsAreV2(t *testing.T) {
	t.Parallel()
	files := append(readerDocs(t), repoFiles(t, "docker-compose.yml", "Dockerfile")...)
	for _, f := range files {
		for n, line := range strings.Split(readDoc(t, f), "\n") {
			if m := composeV1.FindString(line); m != "" {
				t.Errorf("%s:%d: %q is a Compose v1 command: write `docker compose`", f, n+1, strings.TrimSpace(m))
			}
		}
	}
	for _, ok := range []string{"docker-compose.yml", "`docker-compose.yml` runs two replicas", "docker compose up -d"} {
		if composeV1.MatchString(ok) {
			t.Errorf("%q is taken for a v1 command", ok)
		}
	}
	if !composeV1.MatchString("docker-compose --profile demo up") || !composeV1.MatchString("(`docker-compose up -d postgres`)") {
		t.Error("v1 commands are not recognized")
	}
}
