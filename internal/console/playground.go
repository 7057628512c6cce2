package console

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/console/blockkit"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/sinks/registry"
)

// samples are a few of testdata/webhooks, as Meta posts them, for a
// playground on a router that has received nothing yet.
//
//go:embed samples/*.json
var sampleFS embed.FS

// playgroundFile is what the playground's rules file is called in its
// diagnostics.
const playgroundFile = "playground.yaml"

// playgroundRule is what the playground sends: a payload and one rule's
// parts, as the form has them.
type playgroundRule struct {
	Payload     string   `json:"payload"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	When        string   `json:"when"`
	Severity    string   `json:"severity"`
	To          []string `json:"to"`
	Title       string   `json:"title"`
	Body        string   `json:"body"`
	Key         string   `json:"key"`
}

// span is where one of the form's fields is in the generated file: its
// first line, how many lines, and the column its text starts at.
type span struct {
	field       string
	first, n    int
	indentation int
}

// ruleFile writes the form as a rules file of one rule, and where each
// text field's lines are in it, so that a diagnostic is told at its
// place in the field the author typed it in.
func ruleFile(pr playgroundRule) (string, []span) {
	var b strings.Builder
	line := 1
	write := func(s string) {
		b.WriteString(s)
		line += strings.Count(s, "\n")
	}
	var spans []span
	block := func(key, field, text string, indent int) {
		text = strings.TrimRight(text, " \t\r\n")
		lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
		head := "|-"
		if strings.HasPrefix(lines[0], " ") || strings.HasPrefix(lines[0], "\t") {
			head = "|2-"
		}
		write(strings.Repeat(" ", indent-2) + key + ": " + head + "\n")
		spans = append(spans, span{field: field, first: line, n: len(lines), indentation: indent})
		for _, l := range lines {
			if l == "" {
				write("\n")
				continue
			}
			write(strings.Repeat(" ", indent) + l + "\n")
		}
	}
	write("rules:\n")
	write("  - name: " + scalar(pr.Name) + "\n")
	if strings.TrimSpace(pr.Description) != "" {
		write("    description: " + scalar(pr.Description) + "\n")
	}
	block("when", "when", pr.When, 6)
	if pr.Severity != "" {
		write("    severity: " + scalar(pr.Severity) + "\n")
	}
	to := make([]string, len(pr.To))
	for i, s := range pr.To {
		to[i] = scalar(s)
	}
	write("    to: [" + strings.Join(to, ", ") + "]\n")
	if strings.TrimSpace(pr.Title) != "" {
		block("title", "title", pr.Title, 6)
	}
	if strings.TrimSpace(pr.Body) != "" {
		block("body", "body", pr.Body, 6)
	}
	if strings.TrimSpace(pr.Key) != "" {
		write("    incident:\n")
		block("  key", "key", pr.Key, 8)
	}
	return b.String(), spans
}

// scalar is s as one YAML scalar on one line.
func scalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// placedDiagnostic is a diagnostic of the playground's rule, at its place
// in the field it is about ("when", "title", "body", "key"), or in the
// rule as written ("rule", Line and Column in RuleYAML).
type placedDiagnostic struct {
	Field    string `json:"field"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
	// Source is the field's line the diagnostic is on.
	Source string `json:"source"`
	// Check is the diagnostic as check prints it, in the generated file.
	Check string `json:"check"`
}

func place(d rules.Diagnostic, spans []span, fields map[string][]string, file []string) placedDiagnostic {
	p := placedDiagnostic{Field: "rule", Line: d.Line, Column: d.Column, Severity: string(d.Level), Message: d.Message, Hint: d.Hint, Check: d.Error()}
	for _, s := range spans {
		if d.Line >= s.first && d.Line < s.first+s.n {
			p.Field, p.Line = s.field, d.Line-s.first+1
			p.Column = max(d.Column-s.indentation, 1)
			if d.Column == 0 {
				p.Column = 0
			}
			if lines := fields[s.field]; p.Line-1 < len(lines) {
				p.Source = lines[p.Line-1]
			}
			return p
		}
	}
	if d.Line > 0 && d.Line <= len(file) {
		p.Source = file[d.Line-1]
	}
	return p
}

// playgroundAnswer is what a run of the playground found.
type playgroundAnswer struct {
	Diagnostics []placedDiagnostic `json:"diagnostics"`
	// Errors says whether any diagnostic is an error: then nothing ran.
	Errors     bool              `json:"errors"`
	Refused    string            `json:"refused,omitempty"`
	Unreadable string            `json:"unreadable,omitempty"`
	Failed     string            `json:"failed,omitempty"`
	Matched    bool              `json:"matched"`
	Events     []playgroundEvent `json:"events"`
	RuleYAML   string            `json:"rule_yaml"`
	TestYAML   string            `json:"test_yaml,omitempty"`
	TestName   string            `json:"test_file_name,omitempty"`
}

type playgroundEvent struct {
	Index         int                         `json:"index"`
	WabaID        string                      `json:"waba_id"`
	Field         string                      `json:"field"`
	Event         string                      `json:"event"`
	Matched       bool                        `json:"matched"`
	Error         string                      `json:"error,omitempty"`
	Redelivery    bool                        `json:"redelivery,omitempty"`
	Incidents     []router.IncidentTransition `json:"incidents"`
	Notifications []playgroundNotification    `json:"notifications"`
	Preview       *preview                    `json:"preview,omitempty"`
}

type playgroundNotification struct {
	Sink       string `json:"sink"`
	SinkType   string `json:"sink_type"`
	Outcome    string `json:"outcome"`
	Reason     string `json:"reason,omitempty"`
	Severity   string `json:"severity"`
	Action     string `json:"action"`
	Transition string `json:"transition,omitempty"`
	Title      string `json:"title"`
	DedupKey   string `json:"dedup_key"`
	HeldUntil  string `json:"held_until,omitempty"`
}

// preview is one notification as each kind of sink would send it.
type preview struct {
	Sink         string `json:"sink"`
	SlackHTML    string `json:"slack_html"`
	SlackJSON    string `json:"slack_json"`
	PagerDuty    string `json:"pagerduty_json"`
	EmailSubject string `json:"email_subject"`
	EmailHTML    string `json:"email_html"`
	EmailText    string `json:"email_text"`
}

func (c *Console) playgroundRun(w http.ResponseWriter, r *http.Request, s session) {
	var pr playgroundRule
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pr); err != nil {
		c.answerJSON(w, http.StatusBadRequest, map[string]string{"error": "the playground's request could not be read: " + err.Error()})
		return
	}
	select {
	case c.playground <- struct{}{}:
		defer func() { <-c.playground }()
	case <-r.Context().Done():
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	ans, err := c.runPlayground(ctx, pr)
	if err != nil {
		c.log.ErrorContext(ctx, "console: the playground's dry run failed", "user", s.User, "err", err)
		c.answerJSON(w, http.StatusInternalServerError, map[string]string{"error": "the dry run failed: " + err.Error()})
		return
	}
	c.answerJSON(w, http.StatusOK, ans)
}

func (c *Console) answerJSON(w http.ResponseWriter, code int, v any) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (c *Console) runPlayground(ctx context.Context, pr playgroundRule) (playgroundAnswer, error) {
	if strings.TrimSpace(pr.Name) == "" {
		pr.Name = "playground-rule"
	}
	file, spans := ruleFile(pr)
	ans := playgroundAnswer{Events: []playgroundEvent{}, Diagnostics: []placedDiagnostic{}}
	ans.RuleYAML = strings.TrimPrefix(file, "rules:\n")
	loaded := c.opts.Rules()
	if loaded == nil {
		loaded = &rules.Set{}
	}
	set, diags := rules.CheckSourcesWith([]rules.Source{{Path: playgroundFile, Data: []byte(file)}}, nil, c.opts.Config.SinkNames(), loaded.Schedules)
	fields := map[string][]string{"when": strings.Split(pr.When, "\n"), "title": strings.Split(pr.Title, "\n"),
		"body": strings.Split(pr.Body, "\n"), "key": strings.Split(pr.Key, "\n")}
	lines := strings.Split(file, "\n")
	for _, d := range diags {
		ans.Diagnostics = append(ans.Diagnostics, place(d, spans, fields, lines))
	}
	ans.Errors = rules.HasErrors(diags)
	if set == nil || len(set.Rules) != 1 {
		return ans, nil
	}
	if strings.TrimSpace(pr.Payload) == "" {
		ans.Refused = "paste a payload, or pick a stored event or a sample"
		return ans, nil
	}
	c.inherit(set, loaded)
	res, err := c.opts.DryRun(ctx, set, []byte(pr.Payload))
	if err != nil {
		return ans, err
	}
	if res.Refused != nil {
		ans.Refused = "intake would refuse this payload (400): " + res.Refused.Error()
		return ans, nil //nolint:nilerr // a refusal is what the dry run found, told in the answer

	}
	if res.Unreadable != nil {
		ans.Unreadable = res.Unreadable.Error()
	}
	if res.Result.Err != nil {
		ans.Failed = res.Result.Err.Error()
	}
	types := c.sinkTypes()
	var first *notification.Notification
	for _, d := range res.Result.Decisions {
		pe := playgroundEvent{Index: d.Index, WabaID: d.Event.WabaID, Field: d.Event.Field, Event: d.Event.Event,
			Matched: slices.Contains(d.Matched, pr.Name), Redelivery: d.Redelivery, Incidents: d.Incidents,
			Notifications: []playgroundNotification{}}
		if pe.Incidents == nil {
			pe.Incidents = []router.IncidentTransition{}
		}
		for _, f := range d.RuleErrors {
			if f.Err != nil {
				pe.Error = f.Err.Error()
			}
		}
		for _, nd := range d.Notifications {
			n := nd.Notification
			pn := playgroundNotification{Sink: n.Sink, SinkType: types[n.Sink], Outcome: string(nd.Outcome), Reason: nd.Reason,
				Severity: n.Severity.String(), Action: string(n.Action), Title: n.Title, DedupKey: n.DedupKey}
			if n.Incident != nil {
				pn.Transition = string(n.Incident.Transition)
			}
			if !nd.HeldUntil.IsZero() {
				pn.HeldUntil = stamp(nd.HeldUntil)
			}
			pe.Notifications = append(pe.Notifications, pn)
			if pe.Preview == nil {
				p, err := previewOf(n)
				if err != nil {
					return ans, err
				}
				pe.Preview = &p
				if first == nil {
					first = &n
				}
			}
		}
		ans.Matched = ans.Matched || pe.Matched
		ans.Events = append(ans.Events, pe)
	}
	test, err := c.testFile(ctx, pr, set, loaded)
	if err != nil {
		return ans, err
	}
	ans.TestYAML, ans.TestName = test, fileName(pr.Name)+"_test.yaml"
	return ans, nil
}

// inherit gives a set of the playground's what the loaded rules come
// with: the config's severities, accounts and schedules, and the clock.
func (c *Console) inherit(set, loaded *rules.Set) {
	set.SeverityOverrides, set.Accounts, set.SinkSchedules = loaded.SeverityOverrides, loaded.Accounts, loaded.SinkSchedules
	set.Schedules = loaded.Schedules
	set.Now = c.now
}

func previewOf(n notification.Notification) (preview, error) {
	r, err := registry.PreviewOf(n)
	if err != nil {
		return preview{}, err
	}
	p := preview{Sink: n.Sink, SlackJSON: prettyJSON(r.SlackPayload), PagerDuty: string(r.PagerDutyEvent),
		EmailSubject: r.EmailSubject, EmailHTML: r.EmailHTML, EmailText: r.EmailText}
	if p.SlackHTML, err = blockkit.Preview(r.SlackPayload); err != nil {
		return p, err
	}
	return p, nil
}

// testFile is a test for `wabarouter test` of the playground's rule
// added to the loaded rules (in place of a loaded rule of its name): the
// notifications that serve would queue for the payload then, in order.
func (c *Console) testFile(ctx context.Context, pr playgroundRule, one, loaded *rules.Set) (string, error) {
	all := *loaded
	all.Rules = nil
	for _, r := range loaded.Rules {
		if r.Name != pr.Name {
			all.Rules = append(all.Rules, r)
		}
	}
	all.Rules = append(all.Rules, one.Rules[0])
	all.Now = c.now
	now := c.now().UTC()
	res, err := c.opts.DryRun(ctx, &all, []byte(pr.Payload))
	if err != nil {
		return "", err
	}
	type expect struct {
		Rule     string `yaml:"rule"`
		Sink     string `yaml:"sink"`
		Severity string `yaml:"severity"`
		Title    string `yaml:"title"`
	}
	expects := []expect{}
	for _, d := range res.Result.Decisions {
		for _, nd := range d.Notifications {
			if nd.Outcome == router.Queued {
				n := nd.Notification
				expects = append(expects, expect{Rule: n.Rule, Sink: n.Sink, Severity: n.Severity.String(), Title: n.Title})
			}
		}
	}
	type test struct {
		Name    string   `yaml:"name"`
		Now     string   `yaml:"now"`
		Payload string   `yaml:"payload"`
		Expect  []expect `yaml:"expect"`
	}
	out, err := yaml.Marshal(map[string][]test{"tests": {{Name: pr.Name + ": the playground's payload", Now: now.Format(time.RFC3339),
		Payload: strings.TrimSpace(pr.Payload) + "\n", Expect: expects}}})
	if err != nil {
		return "", fmt.Errorf("writing the test file: %w", err)
	}
	head := fmt.Sprintf("# A test of rule %s, made in the console's playground. Add the rule to a rules\n"+
		"# file, then run: wabarouter test --config config.yaml %s\n"+
		"# expect lists what serve would queue with the rules loaded when it was made.\n", pr.Name, fileName(pr.Name)+"_test.yaml")
	return head + string(out), nil
}

// fileName is a rule's name as a file's.
func fileName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	if b.Len() == 0 {
		return "rule"
	}
	return b.String()
}

// sample is one embedded sample payload.
type sample struct {
	Name string
	Body string
}

func samples() []sample {
	names, _ := fs.Glob(sampleFS, "samples/*.json")
	var out []sample
	for _, n := range names {
		b, err := sampleFS.ReadFile(n)
		if err != nil {
			continue
		}
		out = append(out, sample{Name: strings.TrimSuffix(path.Base(n), ".json"), Body: string(b)})
	}
	return out
}

// playgroundPage draws the playground, filled from a stored webhook
// (?webhook=ID), a sample (?sample=NAME) or a loaded rule (?rule=NAME).
func (c *Console) playgroundPage(w http.ResponseWriter, r *http.Request, s session) {
	q := r.URL.Query()
	form := playgroundRule{Name: "my-new-rule", When: `field == "account_update" and event == "ACCOUNT_VIOLATION"`}
	names := c.opts.Config.SinkNames()
	if len(names) > 0 {
		form.To = names[:1]
	}
	all := samples()
	var problem string
	switch {
	case q.Get("webhook") != "":
		id, err := strconv.ParseInt(strings.TrimPrefix(q.Get("webhook"), "w"), 10, 64)
		if err != nil {
			problem = fmt.Sprintf("%q is not a webhook's id", q.Get("webhook"))
			break
		}
		wh, found, err := c.opts.Store.Webhook(r.Context(), id)
		switch {
		case err != nil:
			c.failStore(w, r, &s, err)
			return
		case !found:
			problem = fmt.Sprintf("webhook %d is no longer in the store", id)
		default:
			form.Payload = prettyJSON(wh.Body)
		}
	case q.Get("sample") != "":
		i := slices.IndexFunc(all, func(x sample) bool { return x.Name == q.Get("sample") })
		if i < 0 {
			problem = fmt.Sprintf("no sample %q", q.Get("sample"))
			break
		}
		form.Payload = all[i].Body
	}
	if name := q.Get("rule"); name != "" {
		if rule := c.loadedRule(name); rule != nil {
			form.Name, form.Description, form.When, form.To, form.Key = rule.Name, rule.Description, rule.When, rule.To, rule.DedupKey
			if rule.Severity != nil {
				form.Severity = rule.Severity.String()
			}
		} else {
			problem = fmt.Sprintf("no loaded rule %q", name)
		}
	}
	if form.Payload == "" && len(all) > 0 {
		i := slices.IndexFunc(all, func(x sample) bool { return x.Name == "seed_account_violation" })
		form.Payload = all[max(i, 0)].Body
	}
	c.render(w, r, &s, http.StatusOK, "playground", "Playground", map[string]any{
		"Form": form, "Samples": all, "Sample": q.Get("sample"), "Rule": q.Get("rule"), "Sinks": names, "Rules": c.ruleNames(), "Problem": problem,
		"Severities": []string{"info", "warning", "error", "critical"},
	})
}

func (c *Console) loadedRule(name string) *rules.Rule {
	set := c.opts.Rules()
	if set == nil {
		return nil
	}
	for _, r := range set.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}
