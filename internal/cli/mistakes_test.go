package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var updateMistakes = flag.Bool("update-mistakes", false, "write testdata/mistakes/*.want from what check says")

// TestCheckCatchesRuleAuthorsMistakes runs check on each file of
// testdata/mistakes, rules files written the way rule authors slip, in a
// config whose sinks are oncall-pagerduty, compliance-slack and
// legal-email. Each must be caught at the line of the mistake, every
// diagnostic with a hint that names the fix, and check must print exactly
// the file's .want (FILE:LINE:COL: ... lines, the file named by its base).
func TestCheckCatchesRuleAuthorsMistakes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "testdata/mistakes/*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("%d mistakes in testdata/mistakes; the collection must hold at least 50", len(files))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			abs, err := filepath.Abs(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(cfg, []byte("server: {verify_token: t, app_secrets: [s]}\nrules: ["+abs+"]\n"+
				"sinks: [{name: oncall-pagerduty, type: log}, {name: compliance-slack, type: log}, {name: legal-email, type: log}]\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			Run(context.Background(), []string{"check", "--format", "json", "--config", cfg}, IO{Out: &out, Err: &errOut})
			var got strings.Builder
			n := 0
			for dec := json.NewDecoder(&out); dec.More(); n++ {
				var d diagnostic
				if err := dec.Decode(&d); err != nil {
					t.Fatal(err)
				}
				if d.File != abs {
					t.Errorf("diagnostic about %s, not the mistake's file: %+v", d.File, d)
				}
				if d.Hint == "" {
					t.Errorf("%d:%d: %q has no hint naming the fix", d.Line, d.Column, d.Message)
				}
				got.WriteString(strings.ReplaceAll(lineOf(d), abs, name) + "\n")
			}
			if n == 0 {
				t.Fatalf("check finds nothing wrong (stderr %q)", errOut.String())
			}
			wantFile := strings.TrimSuffix(path, ".yaml") + ".want"
			if *updateMistakes {
				if err := os.WriteFile(wantFile, []byte(got.String()), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("check says:\n%s\nwant (%s):\n%s", got.String(), wantFile, want)
			}
		})
	}
}

// lineOf writes a diagnostic as check's text output does.
func lineOf(d diagnostic) string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		b.WriteString(":" + strconv.Itoa(d.Line))
		if d.Column > 0 {
			b.WriteString(":" + strconv.Itoa(d.Column))
		}
	}
	b.WriteString(": ")
	if d.Severity == "warning" {
		b.WriteString("warning: ")
	}
	if d.Rule != "" {
		b.WriteString(`rule "` + d.Rule + `": `)
	}
	b.WriteString(d.Message)
	if d.Hint != "" {
		b.WriteString("; " + d.Hint)
	}
	return b.String()
}
