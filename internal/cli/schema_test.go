package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/rules"
)

// The JSON Schemas under schema/ let an editor complete keys and flag
// unknown ones as a rule author types. These tests keep them in step with
// the loaders: every file the loaders accept, the schemas accept, and a
// file with a key the loaders refuse, the schemas refuse too.

func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(repoRoot, "schema", name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jsonschema.NewCompiler().Compile(path)
	if err != nil {
		t.Fatalf("schema %s: %v", name, err)
	}
	return s
}

// yamlAsJSON reads a YAML file as the JSON value a schema validates.
func yamlAsJSON(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSchemasAcceptWhatLoads(t *testing.T) {
	t.Setenv("META_VERIFY_TOKEN", "t")
	t.Setenv("META_APP_SECRET", "s")
	configSchema, rulesSchema := compileSchema(t, "config.schema.json"), compileSchema(t, "rules.schema.json")
	configs, err := filepath.Glob(filepath.Join(repoRoot, "testdata/config/*/*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	configs = append(configs, filepath.Join(repoRoot, "config.example.yaml"), filepath.Join(repoRoot, "docs/gallery/config.yaml"))
	loaded := 0
	for _, path := range configs {
		j := judge(path, config.ForRules)
		if len(j.problems) > 0 || j.cfg == nil {
			continue // a bad config of the tests, or a rules file
		}
		cfg := j.cfg
		loaded++
		if err := configSchema.Validate(yamlAsJSON(t, path)); err != nil {
			t.Errorf("%s loads, but the config schema refuses it: %v", path, err)
		}
		for _, f := range cfg.RuleFiles {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, diags := rules.CheckSourcesWith([]rules.Source{{Path: f, Data: data}}, nil, cfg.SinkNames(), cfg.Schedules); rules.HasErrors(diags) {
				t.Fatalf("%s: the config loaded but its rules file does not: %v", f, diags)
			}
			if err := rulesSchema.Validate(yamlAsJSON(t, f)); err != nil {
				t.Errorf("%s loads, but the rules schema refuses it: %v", f, err)
			}
		}
	}
	if loaded < 4 {
		t.Errorf("only %d configs loaded; the test checks too little", loaded)
	}
}

func TestSchemasRefuseUnknownKeys(t *testing.T) {
	configSchema, rulesSchema := compileSchema(t, "config.schema.json"), compileSchema(t, "rules.schema.json")
	dir := t.TempDir()
	for _, c := range []struct {
		schema *jsonschema.Schema
		name   string
		text   string
	}{
		{rulesSchema, "wen for when", "rules:\n  - {name: a, wen: 'true', to: [x]}\n"},
		{rulesSchema, "missing to", "rules:\n  - {name: a, when: 'true'}\n"},
		{rulesSchema, "a severity that does not exist", "rules:\n  - {name: a, when: 'true', to: [x], severity: urgent}\n"},
		{rulesSchema, "a duration in days", "rules:\n  - {name: a, when: 'true', to: [x], renotify: 7d}\n"},
		{rulesSchema, "unknown key of dedup", "rules:\n  - {name: a, when: 'true', to: [x], dedup: {windw: 1h}}\n"},
		{configSchema, "unknown top-level key", "sink: []\n"},
		{configSchema, "a setting of another sink type", "sinks:\n  - {name: a, type: log, webhook_url: x}\n"},
		{configSchema, "an inline rule's unknown key", "rules:\n  - {name: a, when: 'true', to: [x], colour: red}\n"},
		{configSchema, "postgres without a url", "store: {driver: postgres}\n"},
		{configSchema, "a url with the sqlite store", "store: {url: 'postgres://db/w'}\n"},
		{configSchema, "an unknown store driver", "store: {driver: mysql, url: 'postgres://db/w'}\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "f.yaml")
			if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := c.schema.Validate(yamlAsJSON(t, path)); err == nil {
				t.Errorf("the schema accepts %q", c.text)
			}
		})
	}
}

// TestRulesSchemaNamesEveryKey: the schema's keys of a rule are the keys
// the rules loader reads, so an editor completes every one of them.
func TestRulesSchemaNamesEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "schema/rules.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Definitions struct {
			Rule struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"rule"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	var inSchema []string
	for k := range s.Definitions.Rule.Properties {
		inSchema = append(inSchema, k)
	}
	slices.Sort(inSchema)
	want := rules.Keys()
	slices.Sort(want)
	if !slices.Equal(inSchema, want) {
		t.Errorf("the rules schema has keys %v; the loader reads %v", inSchema, want)
	}
}

// TestExamplesNameTheirSchema: the shipped examples tell an editor which
// schema they follow.
func TestExamplesNameTheirSchema(t *testing.T) {
	for file, schema := range map[string]string{"config.example.yaml": "schema/config.schema.json", "rules.example.yaml": "schema/rules.schema.json"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		if want := "# yaml-language-server: $schema=" + schema; first != want {
			t.Errorf("%s starts with %q, want %q", file, first, want)
		}
		if _, err := os.Stat(filepath.Join(repoRoot, schema)); err != nil {
			t.Error(err)
		}
	}
}
