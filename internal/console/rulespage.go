package console

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
)

// ruleWindow is how far back the rules page counts matches and errors.
const ruleWindow = 24 * time.Hour

// ruleView is one loaded rule with what it did over ruleWindow.
type ruleView struct {
	Rule      *rules.Rule
	Severity  string
	Matches   int
	Errors    int
	LastError string
	LastMatch time.Time
	Source    []sourceLine
	// Tests are the cases of the config's rule_tests that expect a
	// notification of the rule.
	Tests []testRef
}

type sourceLine struct {
	N    int
	Text string
}

func (c *Console) rulesPage(w http.ResponseWriter, r *http.Request, s session) {
	set := c.opts.Rules()
	var list []*rules.Rule
	if set != nil {
		list = set.Rules
	}
	ds, err := c.opts.Store.Decisions(r.Context(), store.DecisionFilter{Since: c.now().Add(-ruleWindow)})
	if err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	views := make([]ruleView, len(list))
	at := map[string]int{}
	for i, rule := range list {
		views[i] = ruleView{Rule: rule, Severity: "by the event (default)"}
		if rule.Severity != nil {
			views[i].Severity = rule.Severity.String()
		}
		at[rule.Name] = i
	}
	for _, d := range ds {
		var rec router.Record
		if d.Field == Field || json.Unmarshal(d.Record, &rec) != nil {
			continue
		}
		for _, rr := range rec.Rules {
			i, ok := at[rr.Rule]
			if !ok {
				continue
			}
			if rr.Matched {
				views[i].Matches++
				views[i].LastMatch = d.At
			}
			if rr.Error != "" {
				views[i].Errors++
				views[i].LastError = rr.Error
			}
		}
	}
	c.addSources(list, views)
	tests := c.ruleTests()
	for i, rule := range list {
		views[i].Tests = tests[rule.Name]
	}
	c.render(w, r, &s, http.StatusOK, "rules", "Rules", map[string]any{"Rules": views, "Window": "24 h"})
}

// addSources reads each rule's lines from its file: from its line to the
// line before the next rule of the same file, without the blank and
// comment lines that end that stretch (they belong to the next rule).
func (c *Console) addSources(list []*rules.Rule, views []ruleView) {
	files := map[string][]string{}
	starts := map[string][]int{}
	for _, rule := range list {
		if rule.File == "" || rule.Line <= 0 {
			continue
		}
		if _, read := files[rule.File]; !read {
			files[rule.File] = c.readLines(rule.File)
		}
		starts[rule.File] = append(starts[rule.File], rule.Line)
	}
	for i, rule := range list {
		lines := files[rule.File]
		if rule.Line <= 0 || rule.Line > len(lines) {
			continue
		}
		end := len(lines)
		ss := slices.Sorted(slices.Values(starts[rule.File]))
		if j := slices.Index(ss, rule.Line); j >= 0 && j+1 < len(ss) {
			end = ss[j+1] - 1
		}
		for end > rule.Line {
			t := strings.TrimSpace(lines[end-1])
			if t != "" && !strings.HasPrefix(t, "#") {
				break
			}
			end--
		}
		// A rule's line is its mapping's first key, after the "- ".
		for n := rule.Line; n <= end && n-rule.Line < 80; n++ {
			views[i].Source = append(views[i].Source, sourceLine{N: n, Text: lines[n-1]})
		}
	}
}

// readLines reads a rules file from where the config read it: the
// binary's own files for the built-in config, else the disk.
func (c *Console) readLines(path string) []string {
	var data []byte
	var err error
	if fsys := c.opts.Config.FS; fsys != nil {
		data, err = fs.ReadFile(fsys, strings.TrimPrefix(path, "embedded:"))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil
	}
	return strings.Split(string(data), "\n")
}
