package console

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// testRef is one case of a rule test file that expects a notification of
// a rule: what the Rules page lists as the rule's tests.
type testRef struct {
	File string
	Line int
	Name string
}

// ruleTests reads the config's rule test files and returns, by rule, the
// cases whose expectations name it, in file order. A file that cannot be
// read or parsed is left out: `wabarouter test` is where its mistakes are
// told.
func (c *Console) ruleTests() map[string][]testRef {
	out := map[string][]testRef{}
	for _, f := range c.opts.Config.RuleTests {
		lines := c.readLines(f)
		if lines == nil {
			continue
		}
		var doc struct {
			Tests []yaml.Node `yaml:"tests"`
		}
		if err := yaml.Unmarshal([]byte(strings.Join(lines, "\n")), &doc); err != nil {
			continue
		}
		for i := range doc.Tests {
			tc := &doc.Tests[i]
			var head struct {
				Name   string `yaml:"name"`
				Expect []struct {
					Rule string `yaml:"rule"`
				} `yaml:"expect"`
				Steps []struct {
					Expect []struct {
						Rule string `yaml:"rule"`
					} `yaml:"expect"`
				} `yaml:"steps"`
			}
			if tc.Decode(&head) != nil {
				continue
			}
			named := map[string]bool{}
			for _, e := range head.Expect {
				named[e.Rule] = true
			}
			for _, st := range head.Steps {
				for _, e := range st.Expect {
					named[e.Rule] = true
				}
			}
			for rule := range named {
				if rule != "" {
					out[rule] = append(out[rule], testRef{File: f, Line: tc.Line, Name: head.Name})
				}
			}
		}
	}
	return out
}
