package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The guides show commands with their output. These tests run each shown
// command in-process, as the guide's reader would from the repository's
// top folder, and compare what it prints (standard output and error, as a
// terminal shows them) with the guide, so the guides cannot drift from the
// program. They do for documented outputs what the event field table's
// test (internal/event/fields_doc_test.go) does for the fields.

const repoRoot = "../.."

// docCase is one command a guide shows, with the output it shows.
type docCase struct {
	doc   string
	line  int      // of the command, from 1
	args  []string // after "wabarouter"
	unset []string // variables the command line unsets with env -u
	set   map[string]string
	want  string
	// files, when set, are written to a temporary folder that the command
	// runs in instead of the repository's top folder.
	files map[string]string
	// from and to are the lines (from 0, to excluded) of the shown output.
	from, to int
}

// updateDocs rewrites the outputs the guides show with what the commands
// print: go test ./internal/cli -run TestDocumentedOutputs -update-docs.
// Read the diff before committing it.
var updateDocs = flag.Bool("update-docs", false, "rewrite the outputs the guides show")

var (
	// shellCommand is a one-line ```sh block that runs wabarouter.
	shellCommand = regexp.MustCompile(`^((?:env(?: -u \w+)+ )?)((?:\w+=\S+ )*)go run \./cmd/wabarouter (.+)$`)
	// promptCommand is an indented "$ wabarouter ..." line.
	promptCommand = regexp.MustCompile(`^    \$ (?:go run \./cmd/)?wabarouter (.+)$`)
)

// documentedCommands finds the commands doc shows with their output: a
// one-line ```sh block followed by an indented block, or an indented
// block of "$ wabarouter ..." lines each followed by its output.
func documentedCommands(t *testing.T, doc string) []docCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, doc))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	indented := func(from int) (string, int) {
		var out []string
		i := from
		for ; i < len(lines) && strings.HasPrefix(lines[i], "    ") && !promptCommand.MatchString(lines[i]); i++ {
			out = append(out, strings.TrimPrefix(lines[i], "    "))
		}
		return strings.Join(out, "\n"), i
	}
	var cases []docCase
	for i := 0; i < len(lines); i++ {
		if m := promptCommand.FindStringSubmatch(lines[i]); m != nil {
			want, next := indented(i + 1)
			if strings.Fields(m[1])[0] == "serve" {
				i = next - 1
				continue // a serve runs until stopped; its log has times
			}
			cases = append(cases, docCase{doc: doc, line: i + 1, args: strings.Fields(m[1]), want: want, from: i + 1, to: next})
			i = next - 1
			continue
		}
		if lines[i] != "```sh" || i+2 >= len(lines) || lines[i+2] != "```" {
			continue
		}
		m := shellCommand.FindStringSubmatch(lines[i+1])
		out := i + 3
		for out < len(lines) && lines[out] == "" {
			out++
		}
		if m == nil || out >= len(lines) || !strings.HasPrefix(lines[out], "    ") {
			continue
		}
		c := docCase{doc: doc, line: i + 2, args: strings.Fields(m[3]), set: map[string]string{}}
		if c.args[0] == "serve" {
			continue
		}
		c.from = out
		c.want, c.to = indented(out)
		for _, f := range strings.Fields(m[1]) {
			if f != "env" && f != "-u" {
				c.unset = append(c.unset, f)
			}
		}
		for _, kv := range strings.Fields(m[2]) {
			k, v, _ := strings.Cut(kv, "=")
			c.set[k] = v
		}
		cases = append(cases, c)
	}
	return cases
}

// yamlBlockBefore returns the last ```yaml block of doc before line.
func yamlBlockBefore(t *testing.T, doc string, line int) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, doc))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")[:line]
	end := -1
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i] == "```" && end < 0 {
			end = i
		}
		if lines[i] == "```yaml" && end > i {
			return strings.Join(lines[i+1:end], "\n") + "\n"
		}
	}
	t.Fatalf("%s: no yaml block before line %d", doc, line)
	return ""
}

func TestDocumentedOutputs(t *testing.T) {
	guides := []struct {
		doc string
		// atLeast keeps a reformatted guide from silently escaping the
		// test: it must still show this many commands with outputs.
		atLeast int
		// setup prepares what a guide's command needs beyond the
		// repository, from what the guide says around it.
		setup func(t *testing.T, c *docCase)
	}{
		{"docs/quickstart.md", 5, nil},
		{"docs/configuration.md", 2, func(t *testing.T, c *docCase) {
			// "For this (deliberately broken) file, beside a valid
			// rules.yaml", with SLACK_WEBHOOK_URL unset.
			c.files = map[string]string{"config.yaml": yamlBlockBefore(t, c.doc, c.line), "rules.yaml": "rules: []\n"}
			c.unset = append(c.unset, "SLACK_WEBHOOK_URL")
		}},
		{"docs/gallery.md", 2, nil},
		{"docs/rules.md", 4, func(t *testing.T, c *docCase) {
			if !slices.Contains(c.args, "config.yaml") {
				return
			}
			// "For this rule, in a config whose sinks are
			// oncall-pagerduty and compliance-slack".
			c.files = map[string]string{"rules.yaml": yamlBlockBefore(t, c.doc, c.line), "config.yaml": `server: {verify_token: t, app_secrets: [s]}
rules: [rules.yaml]
sinks: [{name: oncall-pagerduty, type: log}, {name: compliance-slack, type: log}]
`}
		}},
	}
	rewrites := map[string][]rewrite{}
	defer func() {
		for doc, rs := range rewrites {
			applyRewrites(t, doc, rs)
		}
	}()
	for _, g := range guides {
		cases := documentedCommands(t, g.doc)
		if len(cases) < g.atLeast {
			t.Errorf("%s shows %d commands with their output; the test expects at least %d", g.doc, len(cases), g.atLeast)
		}
		for _, c := range cases {
			t.Run(strings.ReplaceAll(g.doc, "/", "_")+":"+strconv.Itoa(c.line), func(t *testing.T) {
				if g.setup != nil {
					g.setup(t, &c)
				}
				t.Setenv("META_VERIFY_TOKEN", "dev-token")
				t.Setenv("META_APP_SECRET", "dev-secret")
				for k, v := range c.set {
					t.Setenv(k, v)
				}
				for _, k := range c.unset {
					t.Setenv(k, "")
					os.Unsetenv(k)
				}
				dir := repoRoot
				if c.files != nil {
					dir = t.TempDir()
					for name, text := range c.files {
						if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
							t.Fatal(err)
						}
					}
				}
				t.Chdir(dir)
				var out bytes.Buffer
				Run(context.Background(), c.args, IO{In: strings.NewReader(""), Out: &out, Err: &out})
				got := strings.TrimSuffix(out.String(), "\n")
				if *updateDocs && got != c.want {
					rewrites[c.doc] = append(rewrites[c.doc], rewrite{from: c.from, to: c.to, text: got})
					return
				}
				if got != c.want {
					t.Errorf("%s:%d: wabarouter %s\nprints:\n%s\nthe guide shows:\n%s", c.doc, c.line, strings.Join(c.args, " "), got, c.want)
				}
			})
		}
	}
}

// rewrite replaces lines [from, to) of a guide with text, indented.
type rewrite struct {
	from, to int
	text     string
}

// applyRewrites writes rs into doc, last first so earlier lines keep
// their numbers.
func applyRewrites(t *testing.T, doc string, rs []rewrite) {
	t.Helper()
	path := filepath.Join(repoRoot, doc)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	slices.SortFunc(rs, func(a, b rewrite) int { return b.from - a.from })
	for _, r := range rs {
		var repl []string
		for _, l := range strings.Split(r.text, "\n") {
			repl = append(repl, strings.TrimRight("    "+l, " "))
		}
		lines = slices.Concat(lines[:r.from], repl, lines[r.to:])
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("rewrote %d outputs in %s", len(rs), doc)
}

// readmeFirstCommand is the README's first command, which must run the
// router on the embedded default config with the two variables it names.
func readmeFirstCommand(t *testing.T) (env map[string]string, args []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(data), "\n## Two commands\n")
	if !ok {
		t.Fatal(`README.md has no "## Two commands"`)
	}
	for _, line := range strings.Split(after, "\n") {
		if !strings.HasPrefix(line, "    ") {
			continue
		}
		m := shellCommand.FindStringSubmatch(strings.TrimPrefix(line, "    "))
		if m == nil || m[1] != "" {
			t.Fatalf("README's first command %q is not `VAR=value... go run ./cmd/wabarouter ...`", line)
		}
		env = map[string]string{}
		for _, kv := range strings.Fields(m[2]) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return env, strings.Fields(m[3])
	}
	t.Fatal("README.md shows no command under Two commands")
	return nil, nil
}
