package rules

import (
	"strings"
	"testing"
)

// TestTemplateNames renders rule titles against fixtures: a rule's own
// template reads the same names as `wabarouter parse` and `when`, at every
// level (other_info.title, restrictions[].type, errors[].code).
func TestTemplateNames(t *testing.T) {
	cases := []struct {
		name, fixture, title, want string
	}{
		{"group field", "seed_template_paused.json", `{{.other_info.title}}: {{.other_info.description}}`,
			"SECOND_PAUSE: Your WhatsApp message template has been paused for 6 hours until Aug 31 at 12:47 AM UTC because it continued to have issues."},
		{"list of groups", "seed_restriction_multiple.json", `{{range .restrictions}}{{.type}} until {{utc .expiration}}; {{end}}`,
			"RESTRICTION_ADD_PHONE_NUMBER_ACTION until 2026-12-01 14:00 UTC; RESTRICTED_BIZ_INITIATED_MESSAGING until 2026-12-01 14:00 UTC; " +
				"RESTRICTED_CUSTOMER_INITIATED_MESSAGING until 2026-12-01 14:00 UTC;"},
		{"errors", "var_messages_failed_status.json", `{{range .errors}}{{.code}} {{.title}} | {{.message}} | {{.details}}{{end}}`,
			"131049 This message was not delivered to maintain healthy ecosystem engagement. | " +
				"This message was not delivered to maintain healthy ecosystem engagement. | " +
				"In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},
		{"index into a list", "var_messages_failed_status.json", `{{with index .errors 0}}{{.code}}{{end}}`, "131049"},
		{"range with variables", "var_messages_failed_status.json", `{{range $i, $e := .errors}}{{$i}}={{$e.code}}{{end}}`, "0=131049"},
		{"capitalised names of earlier versions", "seed_template_paused.json", `{{.other_info.Title}}`, "SECOND_PAUSE"},
		{"helpers take the new forms", "seed_account_restriction.json", `{{restrictions .restrictions}} / {{join .types ","}} / {{human .event}}`,
			"send business-initiated messages until 2026-12-01 14:00 UTC / RESTRICTED_BIZ_INITIATED_MESSAGING / account restriction"},
		{"time methods", "seed_account_restriction.json", `{{.time.Format "2 Jan 2006"}} {{utc .ban_date}}`, "1 Dec 2025 an unknown time"},
		{"a key Meta did not send under value", "seed_account_restriction.json", `[{{.value.nothing}}]`, "[<no value>]"},
		{"raw value", "seed_account_restriction.json", `{{.value.event}} {{len .value.restriction_info}}`, "ACCOUNT_RESTRICTION 1"},
		{"own named template", "seed_account_restriction.json", `{{define "w"}}WABA {{.waba_id}}{{end}}{{template "w" .}}`, "WABA 102290129340398"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t, "rules:\n  - name: r\n    when: \"true\"\n    to: [legal-email]\n    title: '"+c.title+"'\n")
			ev := fixtureEvents(t, c.fixture)[0]
			ms, errs := s.Evaluate(ev)
			if len(errs) > 0 || len(ms) != 1 {
				t.Fatalf("matches %d, errors %v", len(ms), errs)
			}
			if ms[0].Title != c.want {
				t.Errorf("title\n got %q\nwant %q", ms[0].Title, c.want)
			}
		})
	}
}

// TestTemplateLoadErrors: a template that cannot work is refused when the
// rules load, at its place in the file; one that works for some events
// is not.
func TestTemplateLoadErrors(t *testing.T) {
	cases := []struct {
		name, key, tmpl string
		want            string // "" means the rule must load
	}{
		{"default shortcut", "title", `Alert for {{template "waba" .}}`,
			`test.yaml:5:34: rule "r": title: {{template "waba"}} is a shortcut of the default texts, not available in a rule's own template; write WABA {{.waba_id}} instead`},
		{"undefined template", "body", `{{template "nope" .}}`, `test.yaml:5:23: rule "r": body: no template named "nope" is defined`},
		{"unknown name", "title", `x {{.reasn}}`, `test.yaml:5:17: rule "r": title: unknown name "reasn"; did you mean "reason"?`},
		{"unknown name in a group", "title", `{{.other_info.titel}}`, `test.yaml:5:26: rule "r": title: unknown name "titel" in other_info; did you mean "title"?`},
		{"unknown name in a list", "body", `{{range .errors}}{{.cod}}{{end}}`, `test.yaml:5:31: rule "r": body: unknown name "cod" in errors[]; did you mean "code"?`},
		{"unknown name through $", "body", `{{range .errors}}{{$.wabaid}}{{end}}`, `test.yaml:5:32: rule "r": body: unknown name "wabaid"; did you mean "waba_id"?`},
		{"unknown name through a variable", "title", `{{range $e := .restrictions}}{{$e.typ}}{{end}}`, `test.yaml:5:46: rule "r": title: unknown name "typ" in restrictions[]; did you mean "type"?`},
		{"wrong type for a helper", "title", `Banned {{utc .waba_id}}`, `test.yaml:5:26: rule "r": title: cannot be filled in: <.waba_id>: wrong type for value; expected time.Time; got string`},
		{"field of text", "dedup.key", `{{.waba_id.x}}`, `rule "r": dedup.key: cannot be filled in: <.waba_id.x>: can't evaluate field x`},
		{"wrong type inside a list", "body", `{{range .errors}}{{utc .code}}{{end}}`, `rule "r": body: cannot be filled in: <.code>: wrong type for value; expected time.Time; got int`},
		{"number compared with text", "title", `{{if eq .max_daily_conversation_per_phone "250"}}x{{end}}`, `incompatible types for comparison`},

		{"zero time is fine", "title", `{{utc .ban_date}} {{.ban_date}}`, ""},
		{"first error of a list that may be empty", "title", `{{(index .errors 0).code}}`, ""},
		{"missing value key", "title", `{{.value.disconnection_info.reason}} {{human .value.reason}}`, ""},
		{"inside with value", "body", `{{with .value}}{{.a.b}}{{end}}`, ""},
		{"own template", "body", `{{define "x"}}{{.waba_id}}{{end}}{{template "x" .}}`, ""},
		{"time method", "title", `{{.time.Format "2006"}} {{if not .disable_date.IsZero}}x{{end}}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "rules:\n  - name: r\n    when: \"true\"\n    to: [legal-email]\n"
			if c.key == "dedup.key" {
				src += "    dedup: {key: '" + c.tmpl + "'}\n"
			} else {
				src += "    " + c.key + ": '" + c.tmpl + "'\n"
			}
			_, err := ParseFile("test.yaml", []byte(src), testSinks)
			if c.want == "" {
				if err != nil {
					t.Fatalf("want the rule to load; got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v\nwant one containing %s", err, c.want)
			}
		})
	}
}

// TestDedupKeyLowercaseInList checks the gallery-style dedup key: the
// fields of each error are named as in `when`.
func TestDedupKeyLowercaseInList(t *testing.T) {
	s := mustParse(t, `rules:
  - name: r
    when: field == "messages"
    to: [legal-email]
    dedup: {key: '{{.phone_number_id}}/failed/{{range .errors}}{{.code}}{{end}}'}
`)
	ms, errs := s.Evaluate(fixtureEvents(t, "var_messages_failed_status.json")[0])
	if len(errs) > 0 || len(ms) != 1 || ms[0].DedupKey != "106540352242922/failed/131049" {
		t.Fatalf("matches %+v, errors %v", ms, errs)
	}
}

// TestDefaultTextsPassTheCheck guards the load-time check against false
// errors: every default title and body is a working template.
func TestDefaultTextsPassTheCheck(t *testing.T) {
	texts := map[string][2]string{"": {unknownText, unknownBody}}
	for k, v := range defaultTexts {
		texts[k] = v
	}
	for k, v := range texts {
		for _, src := range v {
			tmpl, err := newTemplate(k, subject+src)
			if err != nil {
				t.Fatal(err)
			}
			if problems := checkTemplate(tmpl, subject+src); len(problems) > 0 {
				t.Errorf("%s: %v", k, problems)
			}
		}
	}
}
