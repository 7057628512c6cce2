package arch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/wabarouter/wabarouter"

// pkg is what the check needs of one package from go list.
type pkg struct {
	ImportPath string
	Imports    []string // direct, production code only
	Deps       []string // transitive, production code only
}

// boundary is one rule over the packages matching Pkgs ("internal/rules",
// or "internal/sinks/..." for a tree; paths inside the module are written
// without the module prefix).
type boundary struct {
	Pkgs string
	Why  string
	// NoDeps: none of these may be a dependency, direct or transitive,
	// through any package inside the module or out of it.
	NoDeps []string
	// NoModuleImports: neither the package nor any package of the module
	// it depends on may import these directly. Third-party packages may
	// (e.g. Prometheus' client, which the metrics use, imports net/http).
	NoModuleImports []string
	// OnlyInternal, when not nil, lists the only packages of the module
	// that may be dependencies (an empty list: none).
	OnlyInternal []string
}

// boundaries are the rules of the data flow (README, Layout).
var boundaries = []boundary{
	{Pkgs: "internal/rules", Why: "rules know no HTTP and no sink",
		NoDeps: []string{"net/http", "internal/sinks/..."}},
	{Pkgs: "internal/sinks/...", Why: "sinks know nothing of rules, routing, the store or the config",
		NoDeps: []string{"internal/rules", "internal/router", "internal/store/...", "internal/config"}},
	{Pkgs: "internal/store/...", Why: "the store contract and its implementations know nothing else of the router",
		OnlyInternal: []string{"internal/store"}},
	{Pkgs: "internal/event", Why: "events are parsed without HTTP and without the rest of the router",
		NoDeps: []string{"net/http"}, OnlyInternal: []string{}},
	{Pkgs: "internal/router", Why: "routing knows no HTTP and no sink: it writes outbox rows",
		NoModuleImports: []string{"net/http"}, NoDeps: []string{"internal/sinks/..."}},
	{Pkgs: "internal/delivery", Why: "delivery sends outbox rows and knows no rules or routing",
		NoDeps: []string{"internal/rules", "internal/router"}},
	{Pkgs: "cmd/wabarouter", Why: "the test harness and the load tool stay out of the router's binary",
		NoDeps: []string{"internal/e2etest", "internal/load"}},
	{Pkgs: "cmd/wabarouter", Why: "the docs' tools and the browser they drive stay out of the router's binary",
		NoDeps: []string{"internal/tools/...", "github.com/chromedp/..."}},
}

// matches reports whether path matches pattern: a standard or third-party
// path as it is, a module path without the module prefix, a "/..." suffix
// for a tree.
func matches(pattern, path string) bool {
	if strings.HasPrefix(pattern, "internal/") || strings.HasPrefix(pattern, "cmd/") || strings.HasPrefix(pattern, "test/") {
		pattern = module + "/" + pattern
	}
	if tree, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == tree || strings.HasPrefix(path, tree+"/")
	}
	return path == pattern
}

func inModule(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

func matchesAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if matches(p, path) {
			return true
		}
	}
	return false
}

// check returns every breach of rules in graph (keyed by import path).
func check(graph map[string]pkg, rules []boundary) []string {
	var breaches []string
	paths := make([]string, 0, len(graph))
	for p := range graph {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, b := range rules {
		matched := 0
		for _, path := range paths {
			if !matches(b.Pkgs, path) {
				continue
			}
			matched++
			p := graph[path]
			for _, dep := range append(append([]string(nil), p.Imports...), p.Deps...) {
				if matchesAny(b.NoDeps, dep) {
					breaches = append(breaches, fmt.Sprintf("%s depends on %s (%s): %s", short(path), short(dep), b.Why, via(graph, path, dep)))
				}
				if b.OnlyInternal != nil && inModule(dep) && !matchesAny(b.OnlyInternal, dep) && dep != path {
					breaches = append(breaches, fmt.Sprintf("%s depends on %s (%s): %s", short(path), short(dep), b.Why, via(graph, path, dep)))
				}
			}
			for _, mp := range append([]string{path}, p.Deps...) {
				if !inModule(mp) {
					continue
				}
				for _, imp := range graph[mp].Imports {
					if matchesAny(b.NoModuleImports, imp) {
						breaches = append(breaches, fmt.Sprintf("%s imports %s (%s): %s", short(mp), imp, b.Why, via(graph, path, mp)))
					}
				}
			}
		}
		if matched == 0 {
			breaches = append(breaches, fmt.Sprintf("rule %q matches no package; was it renamed?", b.Pkgs))
		}
	}
	return dedupe(breaches)
}

// via is one import path from from to to, for the message.
func via(graph map[string]pkg, from, to string) string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == to {
			var chain []string
			for p := to; p != ""; p = prev[p] {
				chain = append([]string{short(p)}, chain...)
			}
			return strings.Join(chain, " → ")
		}
		for _, next := range graph[cur].Imports {
			if _, seen := prev[next]; !seen {
				prev[next] = cur
				queue = append(queue, next)
			}
		}
	}
	return short(from) + " → … → " + short(to)
}

func short(path string) string { return strings.TrimPrefix(path, module+"/") }

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// loadGraph lists the module's packages and every package they depend on.
func loadGraph(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports,Deps", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	graph := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("reading go list's output: %v", err)
		}
		graph[p.ImportPath] = p
	}
	return graph
}

func TestImportBoundaries(t *testing.T) {
	graph := loadGraph(t)
	if _, ok := graph[module+"/internal/rules"]; !ok || len(graph) < 50 {
		t.Fatalf("go list gave %d packages, without internal/rules", len(graph))
	}
	for _, b := range check(graph, boundaries) {
		t.Error(b)
	}
}

// TestCheckFindsBreaches runs the rules over small made-up graphs: each
// forbidden dependency is found, and a clean graph passes.
func TestCheckFindsBreaches(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	clean := map[string]pkg{
		m("internal/rules"):        {ImportPath: m("internal/rules"), Imports: []string{m("internal/event")}, Deps: []string{m("internal/event"), "strings"}},
		m("internal/event"):        {ImportPath: m("internal/event"), Imports: []string{"strings"}, Deps: []string{"strings"}},
		m("internal/sinks"):        {ImportPath: m("internal/sinks"), Imports: []string{"net/http"}, Deps: []string{"net/http"}},
		m("internal/sinks/slack"):  {ImportPath: m("internal/sinks/slack"), Imports: []string{m("internal/sinks")}, Deps: []string{m("internal/sinks"), "net/http"}},
		m("internal/store"):        {ImportPath: m("internal/store")},
		m("internal/store/sqlite"): {ImportPath: m("internal/store/sqlite"), Imports: []string{m("internal/store")}, Deps: []string{m("internal/store")}},
		m("internal/metrics"):      {ImportPath: m("internal/metrics"), Imports: []string{"prom"}, Deps: []string{"prom", "net/http"}},
		"prom":                     {ImportPath: "prom", Imports: []string{"net/http"}, Deps: []string{"net/http"}},
		m("internal/router"):       {ImportPath: m("internal/router"), Imports: []string{m("internal/metrics")}, Deps: []string{m("internal/metrics"), "prom", "net/http"}},
		m("internal/delivery"):     {ImportPath: m("internal/delivery"), Imports: []string{m("internal/sinks")}, Deps: []string{m("internal/sinks"), "net/http"}},
		m("cmd/wabarouter"):        {ImportPath: m("cmd/wabarouter"), Imports: []string{m("internal/router")}},
	}
	if got := check(clean, boundaries); len(got) != 0 {
		t.Fatalf("clean graph: %q", got)
	}
	for _, tc := range []struct {
		name     string
		pkg, imp string // pkg gains a direct import of imp
		want     string
	}{
		{"rules import net/http", "internal/rules", "net/http", "internal/rules depends on net/http"},
		{"rules reach net/http through event", "internal/event", "net/http", "internal/rules depends on net/http (rules know no HTTP and no sink): internal/rules → internal/event → net/http"},
		{"a sink imports rules", "internal/sinks/slack", m("internal/rules"), "internal/sinks/slack depends on internal/rules"},
		{"the sinks' base imports the store", "internal/sinks", m("internal/store/sqlite"), "internal/sinks depends on internal/store/sqlite"},
		{"sqlite imports event", "internal/store/sqlite", m("internal/event"), "internal/store/sqlite depends on internal/event"},
		{"event imports notification", "internal/event", m("internal/notification"), "internal/event depends on internal/notification"},
		{"router imports net/http", "internal/router", "net/http", "internal/router imports net/http"},
		{"metrics import net/http, so router knows HTTP", "internal/metrics", "net/http", "internal/metrics imports net/http (routing knows no HTTP"},
		{"router imports a sink", "internal/router", m("internal/sinks/slack"), "internal/router depends on internal/sinks/slack"},
		{"delivery imports rules", "internal/delivery", m("internal/rules"), "internal/delivery depends on internal/rules"},
		{"the router's binary links the harness", "cmd/wabarouter", m("internal/e2etest"), "cmd/wabarouter depends on internal/e2etest"},
		{"the router's binary links a docs tool", "cmd/wabarouter", m("internal/tools/docpics"), "cmd/wabarouter depends on internal/tools/docpics"},
		{"the router's binary links chromedp", "internal/router", "github.com/chromedp/chromedp", "cmd/wabarouter depends on github.com/chromedp/chromedp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := addImport(clean, m(tc.pkg), tc.imp)
			got := strings.Join(check(g, boundaries), "\n")
			if !strings.Contains(got, tc.want) {
				t.Errorf("breaches:\n%s\nwant one containing %q", got, tc.want)
			}
		})
	}
	if got := check(clean, []boundary{{Pkgs: "internal/ruless", NoDeps: []string{"net/http"}}}); len(got) != 1 || !strings.Contains(got[0], "matches no package") {
		t.Errorf("a rule over no package: %q", got)
	}
}

// addImport returns a copy of g where pkg imports imp directly, with the
// transitive dependencies of everything recomputed.
func addImport(g map[string]pkg, pkgPath, imp string) map[string]pkg {
	out := map[string]pkg{}
	for k, v := range g {
		v.Imports = append([]string(nil), v.Imports...)
		out[k] = v
	}
	p := out[pkgPath]
	p.Imports = append(p.Imports, imp)
	out[pkgPath] = p
	if _, ok := out[imp]; !ok {
		out[imp] = pkg{ImportPath: imp}
	}
	for k, v := range out {
		seen := map[string]bool{}
		var walk func(string)
		walk = func(from string) {
			for _, i := range out[from].Imports {
				if !seen[i] {
					seen[i] = true
					walk(i)
				}
			}
		}
		walk(k)
		v.Deps = nil
		for d := range seen {
			v.Deps = append(v.Deps, d)
		}
		sort.Strings(v.Deps)
		out[k] = v
	}
	return out
}

// sinkTypeImports returns each import of a sink type's own package (any
// package under internal/sinks but the base and the registry) by a
// package outside internal/sinks: the config, the wiring and the
// commands know sink types only through the registry, so adding a type
// touches its own folder and one line of the registry. The docs' tools
// under internal/tools draw each type's own messages, so they may.
func sinkTypeImports(graph map[string]pkg) []string {
	base, reg := module+"/internal/sinks", module+"/internal/sinks/registry"
	var breaches []string
	for path, p := range graph {
		if !inModule(path) || matches("internal/sinks/...", path) || matches("internal/tools/...", path) {
			continue
		}
		for _, imp := range p.Imports {
			if matches("internal/sinks/...", imp) && imp != base && imp != reg {
				breaches = append(breaches, fmt.Sprintf("%s imports the sink type %s; go through internal/sinks/registry", short(path), short(imp)))
			}
		}
	}
	sort.Strings(breaches)
	return breaches
}

func TestSinkTypesOnlyThroughRegistry(t *testing.T) {
	for _, b := range sinkTypeImports(loadGraph(t)) {
		t.Error(b)
	}
	m := func(p string) string { return module + "/" + p }
	g := map[string]pkg{
		m("internal/app"):            {ImportPath: m("internal/app"), Imports: []string{m("internal/sinks"), m("internal/sinks/registry")}},
		m("internal/sinks/registry"): {ImportPath: m("internal/sinks/registry"), Imports: []string{m("internal/sinks/slack")}},
	}
	if got := sinkTypeImports(g); len(got) != 0 {
		t.Errorf("through the registry: %q", got)
	}
	if got := sinkTypeImports(addImport(g, m("internal/tools/docpics"), m("internal/sinks/slack"))); len(got) != 0 {
		t.Errorf("a docs tool drawing a sink type's messages: %q", got)
	}
	g = addImport(g, m("internal/app"), m("internal/sinks/slack"))
	if got := sinkTypeImports(g); len(got) != 1 || !strings.Contains(got[0], "internal/app imports the sink type internal/sinks/slack") {
		t.Errorf("app importing slack: %q", got)
	}
}
