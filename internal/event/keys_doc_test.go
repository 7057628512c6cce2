package event

import (
	"bytes"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The rule-authoring guide lists the default dedup keys in one table between
// these markers, row for row as problemKinds holds them; this test keeps
// the two in step.
const (
	keysStartMarker = "<!-- keys:start -->"
	keysEndMarker   = "<!-- keys:end -->"
	otherFields     = "any other field"
)

// keyTableRow is how a row of problemKinds is written in the guide.
func keyTableRow(k problemKind) string {
	field := "`" + k.field + "`"
	if k.field == "" {
		field = otherFields
	}
	return "| " + field + " | " + k.events + " | `" + k.shape + "` |"
}

func TestRulesGuideListsEveryDefaultKey(t *testing.T) {
	data, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(data, []byte(keysStartMarker))
	table, _, ok2 := bytes.Cut(rest, []byte(keysEndMarker))
	if !ok || !ok2 {
		t.Fatalf("docs/rules.md has no table between %s and %s", keysStartMarker, keysEndMarker)
	}
	var documented []string
	for _, line := range strings.Split(string(table), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "|") && !strings.HasPrefix(line, "| Field ") && !strings.HasPrefix(line, "|---") {
			documented = append(documented, line)
		}
	}
	var want []string
	for _, k := range problemKinds {
		want = append(want, keyTableRow(k))
	}
	if !slices.Equal(documented, want) {
		t.Errorf("the default key table in docs/rules.md differs from problemKinds; it should read:\n%s\n\nit reads:\n%s",
			strings.Join(want, "\n"), strings.Join(documented, "\n"))
	}
}

// TestKeyShapesNameEventFields: every {name} of a key shape is an event
// field's json name, or one of the forms the guide explains below the
// table, and keyPart knows it.
func TestKeyShapesNameEventFields(t *testing.T) {
	fields := map[string]bool{}
	typ := reflect.TypeFor[Event]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		fields[name] = true
	}
	guide, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	full := Event{WabaID: "w", Field: "f", Event: "e", Types: []string{"t"}, ViolationType: "v", PhoneNumber: "1",
		TemplateID: "ti", TemplateLanguage: "tl", FlowID: "fl", EntityType: "et", EntityID: "ei", AlertType: "at",
		PhoneNumberID: "p", RecipientID: "r", From: "fr", Errors: []MessageError{{Code: 1}}}
	for _, k := range problemKinds {
		for _, m := range regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(k.shape, -1) {
			name := m[1]
			switch {
			case name == "fingerprint":
			case keyPart(full, name) == "":
				t.Errorf("shape %q: keyPart does not know {%s}", k.shape, name)
			case !fields[name] && !bytes.Contains(guide, []byte("- `{"+name+"}`:")):
				t.Errorf("shape %q: {%s} is no event field and the guide does not explain it", k.shape, name)
			}
		}
	}
}
