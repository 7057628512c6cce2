package lifecycle

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

// The rule-authoring guide shows the lifecycle table between these
// markers, row for row as Rows() holds it; this test keeps the two in
// step, as internal/event's keys_doc_test.go does for the default keys.
const (
	lifecycleStartMarker = "<!-- lifecycle:start -->"
	lifecycleEndMarker   = "<!-- lifecycle:end -->"
)

// docRow is how a row is written in the guide.
func docRow(r Row) string {
	return "| `" + r.Field + "` | " + r.Events + " | " + r.Meaning + " |"
}

func TestRulesGuideShowsTheLifecycleTable(t *testing.T) {
	data, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(data, []byte(lifecycleStartMarker))
	table, _, ok2 := bytes.Cut(rest, []byte(lifecycleEndMarker))
	if !ok || !ok2 {
		t.Fatalf("docs/rules.md has no table between %s and %s", lifecycleStartMarker, lifecycleEndMarker)
	}
	var documented []string
	for _, line := range strings.Split(string(table), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "|") && !strings.HasPrefix(line, "| Field ") && !strings.HasPrefix(line, "|---") {
			documented = append(documented, line)
		}
	}
	var want []string
	for _, r := range Rows() {
		want = append(want, docRow(r))
	}
	if !slices.Equal(documented, want) {
		t.Errorf("the lifecycle table in docs/rules.md differs from lifecycle.Rows(); it should read:\n%s\n\nit reads:\n%s",
			strings.Join(want, "\n"), strings.Join(documented, "\n"))
	}
}
