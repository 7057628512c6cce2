package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testSinks = []string{"oncall-pagerduty", "compliance-slack", "legal-email"}

// TestBadFiles pairs each testdata/*.bad.yaml with its .golden: every
// diagnostic check prints for it, exactly, one per line. Run with -update
// to write the goldens after a deliberate change, and read the diff.
func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.bad.yaml"))
	if err != nil || len(files) < 20 {
		t.Fatalf("%d bad files (%v); want at least 20", len(files), err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, diags := CheckFile(path, data, testSinks)
			if len(diags) == 0 {
				t.Fatal("no diagnostics; a bad file must have at least one")
			}
			var got strings.Builder
			for _, d := range diags {
				got.WriteString(d.Error() + "\n")
			}
			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got.String()), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("diagnostics of %s:\n%s\nwant (%s):\n%s", path, got.String(), golden, want)
			}
		})
	}
}

func TestLoadFilesDuplicateAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	rule := "rules:\n  - name: same\n    when: field == \"flows\"\n    to: [compliance-slack]\n"
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte(rule), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := LoadFiles([]string{a, b}, testSinks)
	want := b + `:2:5: rule "same": duplicate rule name; first defined at ` + a + ":2"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v; want %s", err, want)
	}
}

func TestExampleLoads(t *testing.T) {
	if _, err := LoadFiles([]string{"../../rules.example.yaml"}, testSinks); err != nil {
		t.Fatal(err)
	}
}
