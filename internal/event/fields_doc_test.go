package event

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The rule-authoring guide lists every field of `wabarouter parse` output in
// one table between these markers. This test keeps the table and the parser
// in step, both ways.
const (
	rulesGuide        = "../../docs/rules.md"
	fieldsStartMarker = "<!-- fields:start -->"
	fieldsEndMarker   = "<!-- fields:end -->"
	fixturesDir       = "../../testdata/webhooks"
)

// rawField is the raw change value: its keys are Meta's, not the parser's,
// so it is documented as one field and its contents are not listed.
const rawField = "value"

// Naming convention of the table (and of this test): a top-level field by
// its json name (restrictions); a field of a nested object as
// parent.child (other_info.title); a field of the objects in a list as
// parent[].child (restrictions[].type, errors[].code).

// TestRulesGuideListsEveryField compares the field names in the first column
// of the guide's table with those parse can emit: every json name of Event
// (and of its nested structs), plus every key json.Marshal writes for the
// events of the fixtures under testdata/webhooks.
func TestRulesGuideListsEveryField(t *testing.T) {
	documented, err := documentedFields(rulesGuide)
	if err != nil {
		t.Fatal(err)
	}
	emitted := map[string]string{}
	for _, name := range structFields(reflect.TypeFor[Event](), "") {
		emitted[name] = "Event struct"
	}
	fromFixtures, err := fixtureFields(fixturesDir)
	if err != nil {
		t.Fatal(err)
	}
	for name, file := range fromFixtures {
		if _, ok := emitted[name]; !ok {
			emitted[name] = file
		}
	}

	var missing, stale []string
	for name, source := range emitted {
		if !documented[name] {
			missing = append(missing, "`"+name+"` (from "+source+")")
		}
	}
	for name := range documented {
		if _, ok := emitted[name]; !ok {
			stale = append(stale, "`"+name+"`")
		}
	}
	slices.Sort(missing)
	slices.Sort(stale)
	if len(missing) > 0 {
		t.Errorf("%d field(s) that `wabarouter parse` emits are missing from the table in %s; add a row for each:\n\t%s",
			len(missing), rulesGuide, strings.Join(missing, "\n\t"))
	}
	if len(stale) > 0 {
		t.Errorf("%d field(s) in the table in %s are never emitted by `wabarouter parse`; fix or remove their rows:\n\t%s",
			len(stale), rulesGuide, strings.Join(stale, "\n\t"))
	}
}

// fieldName is the first column of a table row: exactly one name in
// backticks, such as `waba_id` or `restrictions[].type`.
var fieldName = regexp.MustCompile("^`([a-z0-9_]+(?:(?:\\[\\])?\\.[a-z0-9_]+)*)`$")

// documentedFields reads the names in the first column of the table between
// the fields markers.
func documentedFields(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, rest, ok := bytes.Cut(data, []byte(fieldsStartMarker))
	if !ok {
		return nil, &docError{path, 0, "no line " + fieldsStartMarker}
	}
	startLine := bytes.Count(data[:len(data)-len(rest)], []byte("\n")) + 1
	table, _, ok := bytes.Cut(rest, []byte(fieldsEndMarker))
	if !ok {
		return nil, &docError{path, startLine, "no line " + fieldsEndMarker + " after " + fieldsStartMarker}
	}
	names := map[string]bool{}
	rows := 0
	sc := bufio.NewScanner(bytes.NewReader(table))
	for line := startLine; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(text, "|") {
			continue
		}
		rows++
		cells := strings.Split(strings.Trim(text, "|"), "|")
		first := strings.TrimSpace(cells[0])
		if rows == 1 || strings.Trim(first, "-: ") == "" {
			continue // the header and the |---| line
		}
		m := fieldName.FindStringSubmatch(first)
		if m == nil {
			return nil, &docError{path, line, "first column " + first + " is not one field name in backticks, like `waba_id` or `restrictions[].type`"}
		}
		if names[m[1]] {
			return nil, &docError{path, line, "field `" + m[1] + "` is listed twice"}
		}
		names[m[1]] = true
	}
	if len(names) == 0 {
		return nil, &docError{path, startLine, "no table rows between the fields markers"}
	}
	return names, nil
}

type docError struct {
	path string
	line int
	msg  string
}

func (e *docError) Error() string {
	if e.line == 0 {
		return e.path + ": " + e.msg
	}
	return e.path + ":" + strconv.Itoa(e.line) + ": " + e.msg
}

var timeType = reflect.TypeFor[time.Time]()

// structFields lists the json names of t's fields, with those of nested
// structs (and of structs in lists) under the parent's name.
func structFields(t reflect.Type, prefix string) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, prefix+name)
		if prefix == "" && name == rawField {
			continue
		}
		ft := f.Type
		sep := "."
		if ft.Kind() == reflect.Slice {
			ft, sep = ft.Elem(), "[]."
		}
		if ft.Kind() == reflect.Struct && ft != timeType {
			names = append(names, structFields(ft, prefix+name+sep)...)
		}
	}
	return names
}

// fixtureFields parses every fixture and returns each key json.Marshal
// writes for its events, named as in the table, with the first fixture it
// was seen in.
func fixtureFields(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &docError{dir, 0, "no *.json fixtures"}
	}
	seen := map[string]string{}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		events, _ := Parse(body) // refused changes emit nothing
		for _, ev := range events {
			b, err := json.Marshal(ev)
			if err != nil {
				return nil, err
			}
			var obj map[string]any
			if err := json.Unmarshal(b, &obj); err != nil {
				return nil, err
			}
			for _, name := range jsonKeys(obj, "") {
				if _, ok := seen[name]; !ok {
					seen[name] = filepath.Base(file)
				}
			}
		}
	}
	return seen, nil
}

// jsonKeys names the keys of a decoded JSON object by the table's
// convention, leaving the raw value's keys out.
func jsonKeys(obj map[string]any, prefix string) []string {
	var names []string
	for k, v := range obj {
		name := prefix + k
		names = append(names, name)
		if prefix == "" && k == rawField {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			names = append(names, jsonKeys(x, name+".")...)
		case []any:
			for _, item := range x {
				if m, ok := item.(map[string]any); ok {
					names = append(names, jsonKeys(m, name+"[].")...)
				}
			}
		}
	}
	return names
}
