// Package docs holds the tests that keep the documentation true to the code: the schema doc to
// the entity descriptions, the configuration doc to config.example.yaml, and every doc's links
// to files the repository holds.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
)

// root is the repository's root, seen from this package's directory.
const root = ".."

func readDoc(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The schema doc's tables table has a row for every entity description, naming each of its
// key and typed columns, so the documentation cannot fall behind an added entity or column.
func TestSchemaTablesMatchTheDescriptions(t *testing.T) {
	t.Parallel()
	rows := map[string]string{}
	for line := range strings.SplitSeq(readDoc(t, "docs/schema.md"), "\n") {
		if rest, ok := strings.CutPrefix(line, "| `"); ok {
			if name, _, ok := strings.Cut(rest, "`"); ok {
				if _, seen := rows[name]; !seen {
					rows[name] = line // the first row naming it: the tables' table
				}
			}
		}
	}
	for _, d := range entity.All() {
		row, ok := rows[string(d.Name)]
		if !ok {
			t.Errorf("docs/schema.md has no table row for %s", d.Name)
			continue
		}
		for _, c := range append(append([]entity.Column{}, d.Key...), d.Columns...) {
			if !strings.Contains(row, c.Name) {
				t.Errorf("docs/schema.md's row for %s does not name its column %s", d.Name, c.Name)
			}
		}
	}
}

// exampleKeys reads config.example.yaml: each leaf key's dotted path and its value as the
// configuration doc writes it (a scalar as written, "" for an empty string, a list as
// "[a, b]").
func exampleKeys(t *testing.T) map[string]string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(readDoc(t, "config.example.yaml")), &doc); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(prefix, c)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i].Value
				if prefix != "" {
					key = prefix + "." + key
				}
				walk(key, n.Content[i+1])
			}
		case yaml.SequenceNode:
			items := make([]string, len(n.Content))
			for i, c := range n.Content {
				items[i] = c.Value
			}
			keys[prefix] = "[" + strings.Join(items, ", ") + "]"
		default:
			v := n.Value
			if v == "" {
				v = `""`
			}
			keys[prefix] = v
		}
	}
	walk("", &doc)
	return keys
}

// docKeyRow is a row of the key table of docs/configuration.md: its env and default cells.
type docKeyRow struct{ env, def string }

// docKeys reads the key table of docs/configuration.md (its "## Keys" section): each row's key
// and its env and default cells.
func docKeys(t *testing.T) map[string]docKeyRow {
	t.Helper()
	text := readDoc(t, "docs/configuration.md")
	_, section, ok := strings.Cut(text, "\n## Keys\n")
	if !ok {
		t.Fatal(`docs/configuration.md has no "## Keys" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	keys := map[string]docKeyRow{}
	for line := range strings.SplitSeq(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|") // "", key, env, default, meaning, ""
		if len(cells) != 6 {
			t.Errorf("docs/configuration.md: a key row not of key, env, default and meaning: %s", line)
			continue
		}
		keys[strings.Trim(strings.TrimSpace(cells[1]), "`")] = docKeyRow{env: strings.TrimSpace(cells[2]), def: strings.TrimSpace(cells[3])}
	}
	return keys
}

// The configuration doc is held to config.example.yaml: every key of the example has a row in
// the doc's key table whose default is the example's value, and every row is a key of the
// example, so the two cannot drift apart.
func TestConfigurationDocMatchesTheExample(t *testing.T) {
	t.Parallel()
	example, doc := exampleKeys(t), docKeys(t)
	if len(example) == 0 {
		t.Fatal("config.example.yaml: no keys read")
	}
	for key, value := range example {
		row, ok := doc[key]
		if !ok {
			t.Errorf("docs/configuration.md has no row for %s (in config.example.yaml)", key)
			continue
		}
		if !strings.Contains(row.def, "`"+value+"`") {
			t.Errorf("docs/configuration.md: %s's default is %s, config.example.yaml has `%s`", key, row.def, value)
		}
	}
	for key := range doc {
		if _, ok := example[key]; !ok {
			t.Errorf("docs/configuration.md has a row for %s, a key config.example.yaml does not hold", key)
		}
	}
}

// envName is an EVSYNC_ variable's name as the code spells it.
var envName = regexp.MustCompile(`EVSYNC_[A-Z_]+`)

// Every EVSYNC_ variable the code (not its tests) names is in the configuration doc.
func TestConfigurationDocListsTheEnvironment(t *testing.T) {
	t.Parallel()
	doc := readDoc(t, "docs/configuration.md")
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, name := range envName.FindAllString(string(b), -1) {
			seen[name] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 {
		t.Fatal("no EVSYNC_ variable found in the code")
	}
	for name := range seen {
		if !strings.Contains(doc, name) {
			t.Errorf("docs/configuration.md does not name %s, which the code reads", name)
		}
	}
}

// The key table names each key's variable as the code derives it, and has a row for every key
// the code has a variable for: the reflected table and the doc cannot drift apart.
func TestConfigurationDocNamesEveryKeysVariable(t *testing.T) {
	t.Parallel()
	doc := docKeys(t)
	vars := config.EnvVars()
	if len(vars) == 0 {
		t.Fatal("config.EnvVars is empty")
	}
	known := map[string]bool{}
	for _, ev := range vars {
		known[ev.Key] = true
		row, ok := doc[ev.Key]
		if !ok {
			t.Errorf("docs/configuration.md has no row for %s (%s)", ev.Key, ev.Name)
			continue
		}
		if want := "`" + ev.Name + "`"; row.env != want {
			t.Errorf("docs/configuration.md: %s's env is %s, want %s", ev.Key, row.env, want)
		}
	}
	for key := range doc {
		if !known[key] {
			t.Errorf("docs/configuration.md has a row for %s, which has no variable (config.EnvVars)", key)
		}
	}
}

// docTypos are the misspelt variables the docs show as examples of the error.
var docTypos = []string{"EVSYNC_DATABSE_URL"}

// tenantSecretEnv is a tenant's secret variable, as the docs and examples spell it.
var tenantSecretEnv = regexp.MustCompile(`^EVSYNC_TENANT_[A-Z0-9_]+_RC_(CLIENT_SECRET|JWT)$`)

// Every EVSYNC_ variable the repository's files (not the tests) name is one syncer reads, one
// it knows to ignore (config.NotConfigEnv), or the start of such a name ("EVSYNC_RC_"), so no
// doc, example or deploy file names a stale or misspelt variable, which syncer would refuse.
func TestEveryNamedVariableIsKnown(t *testing.T) {
	t.Parallel()
	valid := []string{config.EnvRCClientSecret, config.EnvRCJWT}
	valid = append(valid, config.NotConfigEnv...)
	for _, ev := range config.EnvVars() {
		valid = append(valid, ev.Name)
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "testdata") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, name := range envName.FindAllString(string(b), -1) {
			name = strings.TrimRight(name, "_")
			switch {
			case slices.Contains(valid, name), tenantSecretEnv.MatchString(name), slices.Contains(docTypos, name):
			case slices.ContainsFunc(valid, func(v string) bool { return strings.HasPrefix(v, name+"_") }):
			case name == "EVSYNC" || name == "EVSYNC_TENANT":
			default:
				t.Errorf("%s names %s, a variable syncer does not know", path, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// notYetClean are the folders whose files may still name the documents outside the
// repository; each should leave this list once it is clean. None is left.
var notYetClean = []string{}

// outsideDocs are the documents the repository does not hold: no doc or comment may send a
// reader to them.
var outsideDocs = []string{"DESIGN.md", "engage-api.md", "engage-reporting-api.md"}

// repoFiles lists the repository's files (relative, slash-separated) whose name ends in one
// of exts, .git excluded.
func repoFiles(t *testing.T, exts ...string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		for _, ext := range exts {
			if strings.HasSuffix(path, ext) {
				rel, err := filepath.Rel(root, path)
				if err != nil {
					return err
				}
				files = append(files, filepath.ToSlash(rel))
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// No Go or Markdown file sends a reader to a document the repository does not hold.
func TestNoMentionOfDocumentsOutsideTheRepository(t *testing.T) {
	t.Parallel()
	files := repoFiles(t, ".go", ".md")
	if len(files) == 0 {
		t.Fatal("no file found")
	}
	for _, f := range files {
		if f == "docs/docs_test.go" {
			continue // the list above
		}
		if slices.ContainsFunc(notYetClean, func(dir string) bool { return strings.HasPrefix(f, dir+"/") }) {
			continue
		}
		for n, line := range strings.Split(readDoc(t, f), "\n") {
			for _, doc := range outsideDocs {
				if strings.Contains(line, doc) {
					t.Errorf("%s:%d names %s, which the repository does not hold: write what the reader needs, or point to docs/", f, n+1, doc)
				}
			}
		}
	}
}

// The README stays a front page.
func TestReadmeIsShort(t *testing.T) {
	t.Parallel()
	const maxLines = 200
	if n := strings.Count(readDoc(t, "README.md"), "\n"); n > maxLines {
		t.Errorf("README.md has %d lines, more than %d: move the rest to docs/", n, maxLines)
	}
}

// readerDocs are the Markdown files written for readers, whose links and words are checked.
func readerDocs(t *testing.T) []string {
	t.Helper()
	docs := []string{"README.md", "CONTRIBUTING.md", "CHANGELOG.md"}
	for _, f := range repoFiles(t, ".md") {
		if strings.HasPrefix(f, "docs/") {
			docs = append(docs, f)
		}
	}
	return docs
}

// mdLink is a Markdown link's target: [text](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// anchors are the link targets of a Markdown file's headings, as GitHub makes them: lower
// case, punctuation dropped, spaces as hyphens.
func anchors(text string) map[string]bool {
	set := map[string]bool{}
	inCode := false
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#"))) {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		set[b.String()] = true
	}
	return set
}

// Every relative link of the reader docs names a file or folder the repository holds, and a
// heading of it when the link names one.
func TestDocLinksExist(t *testing.T) {
	t.Parallel()
	for _, doc := range readerDocs(t) {
		text := readDoc(t, doc)
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			rel := doc
			if file != "" {
				rel = filepath.ToSlash(filepath.Join(filepath.Dir(doc), filepath.FromSlash(file)))
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
					t.Errorf("%s links to %s, which the repository does not hold", doc, target)
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(rel, ".md") && !anchors(readDoc(t, rel))[anchor] {
				t.Errorf("%s links to %s, a heading %s does not have", doc, target, rel)
			}
		}
	}
}

// issueRef is a reference to an internal issue: "issue 12", "issues #4", "#13".
var issueRef = regexp.MustCompile(`(?i)\bissues? #?\d+|(^|[\s(,])#\d+\b`)

// The reader docs cite no internal issue numbers, which a reader cannot open.
func TestDocsCiteNoIssueNumbers(t *testing.T) {
	t.Parallel()
	for _, doc := range readerDocs(t) {
		for n, line := range strings.Split(readDoc(t, doc), "\n") {
			if m := issueRef.FindString(line); m != "" {
				t.Errorf("%s:%d cites an internal issue (%q): say what it changed instead", doc, n+1, strings.TrimSpace(m))
			}
		}
	}
}
