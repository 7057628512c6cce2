package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
)

// ruleTestCase is one test of a `wabarouter test` file: one payload and
// what it sends, or steps played in order against one store, each with
// what it sends, so a ban and then its reinstatement can be expected to
// open and then resolve an incident.
type ruleTestCase struct {
	Name  string
	Steps []ruleTestStep

	line int
}

// ruleTestStep is one payload (or, with only now, the clock moving on so
// incident timers fire) and the notifications serve would queue for it.
// Severity, action and now are kept as written, so that a bad value is
// reported with its place.
type ruleTestStep struct {
	PayloadFile string
	// Payload is kept as a node: it is any webhook body, so its keys are
	// not ours to check, and a scalar may hold the JSON text itself.
	Payload yaml.Node
	Now     string
	// Expect is a pointer so that a missing expect (an error) differs
	// from `expect: []` (nothing may be sent).
	Expect *[]expectedNotification

	now        time.Time
	severities []notification.Severity
}

func (st ruleTestStep) hasPayload() bool { return st.PayloadFile != "" || st.Payload.Kind != 0 }

type expectedNotification struct {
	Rule     string
	Sink     string
	Severity string
	Title    string
	Action   string
	// Transition is what the notification says happened to its incident:
	// opened, updated, escalated, reminded or resolved.
	Transition string
	// HeldUntil is when a schedule lets the notification go, as written:
	// "2026-11-30 09:00" on the wall clock of the schedule that holds it,
	// or an RFC 3339 instant; "" does not look.
	HeldUntil string
}

// heldLayout is how a test writes a held notification's release on the
// schedule's own wall clock.
const heldLayout = "2006-01-02 15:04"

// gotNotification is a notification a step queued, and when it goes out
// if a schedule holds it (zero: at once).
type gotNotification struct {
	notification.Notification
	heldUntil time.Time
}

var transitions = []notification.Transition{notification.Opened, notification.Updated, notification.Escalated,
	notification.Reminded, notification.Resolved}

func runRuleTest(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("test", stdio)
	configPath := fs.String("config", "", "the YAML config file (default: the built-in copy of config.example.yaml)")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if fs.NArg() == 0 {
		return usageFailure(stdio, "test", "name at least one TESTS file")
	}
	if *configPath == "" {
		fmt.Fprintln(stdio.Err, "test: "+embeddedNote)
	}
	// The same loader as serve, so the tests cover exactly what would run;
	// only the secrets serve needs may be missing.
	cfg, set, warnings, err := loadRouting(*configPath, config.ForRules)
	printWarnings(stdio.Err, warnings)
	if err != nil {
		printErrors(stdio.Err, err)
		return ExitFailure
	}
	ruleNames := map[string]bool{}
	for _, r := range set.Rules {
		ruleNames[r.Name] = true
	}
	sinkNames := map[string]bool{}
	for _, s := range cfg.SinkNames() {
		sinkNames[s] = true
	}
	passed, failed, badFiles := 0, 0, 0
	for _, path := range fs.Args() {
		cases, err := loadRuleTests(path, ruleNames, sinkNames)
		if err != nil {
			printErrors(stdio.Err, err)
			badFiles++
			continue
		}
		for _, tc := range cases {
			if runRuleTestCase(ctx, stdio.Out, path, tc, cfg, set) {
				passed++
			} else {
				failed++
			}
		}
	}
	fmt.Fprintf(stdio.Out, "%d passed, %d failed", passed, failed)
	if badFiles > 0 {
		fmt.Fprintf(stdio.Out, "; %d test file(s) could not be read", badFiles)
	}
	fmt.Fprintln(stdio.Out)
	if failed > 0 || badFiles > 0 {
		return ExitFailure
	}
	return ExitOK
}

// The keys of a test file, of a test and of an expected notification.
var (
	testFileKeys = []string{"tests"}
	testKeys     = []string{"name", "payload_file", "payload", "now", "expect", "steps"}
	stepKeys     = []string{"payload_file", "payload", "now", "expect"}
	expectKeys   = []string{"rule", "sink", "severity", "title", "action", "transition", "held_until"}
)

// testLoader reads one test file, collecting every problem with its place
// (FILE:LINE:COL, with a suggestion where a name is near a known one), so
// that an author fixes them all in one round.
type testLoader struct {
	path         string
	ruleNames    map[string]bool
	sinkNames    map[string]bool
	diags        []rules.Diagnostic
	rules, sinks []string
}

func (l *testLoader) at(n *yaml.Node, format string, args ...any) {
	msg, hint := rules.SplitHint(fmt.Sprintf(format, args...))
	l.diags = append(l.diags, rules.Diagnostic{File: l.path, Line: n.Line, Column: n.Column, Level: rules.LevelError, Message: msg, Hint: hint})
}

// loadRuleTests reads one test file and checks every case, returning all
// problems at once, each as FILE:LINE:COL: message.
func loadRuleTests(path string, ruleNames, sinkNames map[string]bool) ([]ruleTestCase, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read test file: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		var errs []error
		for _, d := range rules.YAMLSyntax(path, data, err) {
			errs = append(errs, &d)
		}
		return nil, errors.Join(errs...)
	}
	l := &testLoader{path: path, ruleNames: ruleNames, sinkNames: sinkNames}
	for name := range ruleNames {
		l.rules = append(l.rules, name)
	}
	for name := range sinkNames {
		l.sinks = append(l.sinks, name)
	}
	slices.Sort(l.rules)
	slices.Sort(l.sinks)
	top := docContent(&root)
	if top == nil || top.Kind == 0 {
		return nil, fmt.Errorf("%s: no tests", path)
	}
	if top.Kind != yaml.MappingNode {
		l.at(top, "a test file is a mapping with a \"tests:\" list")
		return nil, l.err()
	}
	var cases []ruleTestCase
	l.fields(top, "", testFileKeys, func(k, v *yaml.Node) {
		if v.Kind != yaml.SequenceNode {
			l.at(v, "tests must be a list; write each test as an entry starting with \"- \"")
			return
		}
		for i, item := range v.Content {
			cases = append(cases, l.testCase(i, item))
		}
	})
	if len(l.diags) == 0 && len(cases) == 0 {
		return nil, fmt.Errorf("%s: no tests", path)
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	return cases, nil
}

// err joins the problems found, sorted by place; nil when there is none.
func (l *testLoader) err() error {
	slices.SortStableFunc(l.diags, func(a, b rules.Diagnostic) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	errs := make([]error, len(l.diags))
	for i := range l.diags {
		errs[i] = &l.diags[i]
	}
	return errors.Join(errs...)
}

// fields hands each key of mapping m to use, reporting keys given twice and
// keys not in known (with the nearest known one) at their place.
func (l *testLoader) fields(m *yaml.Node, where string, known []string, use func(k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		switch {
		case seen[k.Value]:
			l.at(k, "%skey %q given twice", where, k.Value)
		case !slices.Contains(known, k.Value):
			l.at(k, "%sunknown key %q%s", where, k.Value, orList(rules.Suggest(k.Value, known), known))
		default:
			seen[k.Value] = true
			use(k, v)
		}
	}
}

// orList is the suggestion, or else the list of what may be written.
func orList(suggestion string, known []string) string {
	if suggestion != "" {
		return suggestion
	}
	return "; the keys here are " + strings.Join(known, ", ")
}

// str is a scalar's text, reporting anything else.
func (l *testLoader) str(v *yaml.Node, what string) string {
	if v.Kind != yaml.ScalarNode {
		l.at(v, "%s must be a single value", what)
		return ""
	}
	return v.Value
}

func (l *testLoader) testCase(i int, n *yaml.Node) ruleTestCase {
	tc := ruleTestCase{line: n.Line}
	if n.Kind != yaml.MappingNode {
		l.at(n, "test %d must be a mapping with name, payload_file or payload, and expect (or steps)", i+1)
		return tc
	}
	var own ruleTestStep
	var nodes stepNodes
	var stepsNode *yaml.Node
	l.fields(n, "", testKeys, func(k, v *yaml.Node) {
		switch k.Value {
		case "name":
			tc.Name = l.str(v, "name")
		case "steps":
			stepsNode = v
		default:
			l.stepKey(&own, &nodes, k, v)
		}
	})
	if tc.Name == "" {
		l.at(n, "test %d: name is required", i+1)
	}
	label := fmt.Sprintf("test %q", tc.Name)
	if stepsNode == nil {
		l.checkStep(&own, nodes, n, label, false)
		tc.Steps = []ruleTestStep{own}
		return tc
	}
	if own.hasPayload() || nodes.expect != nil || own.Now != "" {
		l.at(n, "%s: with steps, give payload, payload_file, now and expect in each step, not beside them", label)
	}
	if stepsNode.Kind != yaml.SequenceNode || len(stepsNode.Content) == 0 {
		l.at(stepsNode, "%s: steps must be a list of steps, each with a payload (or now) and expect", label)
		return tc
	}
	for j, sn := range stepsNode.Content {
		var st ruleTestStep
		where := fmt.Sprintf("%s: step %d", label, j+1)
		if sn.Kind != yaml.MappingNode {
			l.at(sn, "%s must be a mapping with payload_file or payload (or now), and expect", where)
			continue
		}
		var sns stepNodes
		l.fields(sn, where+": ", stepKeys, func(k, v *yaml.Node) { l.stepKey(&st, &sns, k, v) })
		l.checkStep(&st, sns, sn, where, true)
		tc.Steps = append(tc.Steps, st)
	}
	return tc
}

// stepNodes are where a step's now and expect are written.
type stepNodes struct{ now, expect *yaml.Node }

// stepKey reads one of a step's keys (also those of a one-step test).
func (l *testLoader) stepKey(st *ruleTestStep, nodes *stepNodes, k, v *yaml.Node) {
	switch k.Value {
	case "payload_file":
		st.PayloadFile = l.str(v, "payload_file")
	case "payload":
		st.Payload = *v
	case "now":
		st.Now, nodes.now = l.str(v, "now"), v
	case "expect":
		nodes.expect = v
	}
}

// checkStep checks one step (or a one-step test): a payload, unless
// inStep and a now moves the clock alone; a readable now; expectations
// that can match.
func (l *testLoader) checkStep(st *ruleTestStep, nodes stepNodes, n *yaml.Node, label string, inStep bool) {
	hasInline := st.Payload.Kind != 0
	switch {
	case st.PayloadFile != "" && hasInline:
		l.at(n, "%s: give payload_file or payload, not both", label)
	case !st.hasPayload() && !(inStep && st.Now != ""):
		if inStep {
			l.at(n, "%s: payload_file, payload or now is required", label)
		} else {
			l.at(n, "%s: payload_file or payload is required (or steps)", label)
		}
	}
	if st.Now != "" {
		var err error
		if st.now, err = time.Parse(time.RFC3339, st.Now); err != nil {
			l.at(nodes.now, "%s: now %q is not an RFC 3339 time; write it like 2026-11-23T12:00:00Z", label, st.Now)
		}
	}
	expectNode := nodes.expect
	switch {
	case expectNode == nil:
		l.at(n, "%s: expect is required; use expect: [] when nothing may be sent", label)
		return
	case expectNode.Kind == yaml.ScalarNode && expectNode.Tag == "!!null":
		l.at(expectNode, "%s: expect is empty; use expect: [] when nothing may be sent", label)
		return
	case expectNode.Kind != yaml.SequenceNode:
		l.at(expectNode, "%s: expect must be a list of notifications, or [] when nothing may be sent", label)
		return
	}
	expect := []expectedNotification{}
	for j, item := range expectNode.Content {
		e, sev := l.expected(label, j, item)
		expect = append(expect, e)
		st.severities = append(st.severities, sev)
	}
	st.Expect = &expect
}

// expected reads one expected notification and checks that it can match:
// a known rule and sink, a severity, an action.
func (l *testLoader) expected(label string, j int, n *yaml.Node) (expectedNotification, notification.Severity) {
	var e expectedNotification
	where := fmt.Sprintf("%s: expect[%d]: ", label, j)
	if n.Kind != yaml.MappingNode {
		l.at(n, "%smust be a mapping such as {rule: NAME, sink: NAME, severity: error}", where)
		return e, 0
	}
	nodes := map[string]*yaml.Node{}
	l.fields(n, where, expectKeys, func(k, v *yaml.Node) {
		nodes[k.Value] = v
		s := l.str(v, where+k.Value)
		switch k.Value {
		case "rule":
			e.Rule = s
		case "sink":
			e.Sink = s
		case "severity":
			e.Severity = s
		case "title":
			e.Title = s
		case "action":
			e.Action = s
		case "transition":
			e.Transition = s
		case "held_until":
			e.HeldUntil = s
		}
	})
	at := func(key string) *yaml.Node {
		if v := nodes[key]; v != nil {
			return v
		}
		return n
	}
	sev, err := notification.ParseSeverity(e.Severity)
	if err != nil {
		l.at(at("severity"), "%s%v", where, err)
	}
	// Unknown names would make a case that can never pass; say so at
	// load time instead of as a confusing diff.
	if e.Rule == "" {
		l.at(n, "%srule is required", where)
	} else if !l.ruleNames[e.Rule] {
		l.at(at("rule"), "%sno rule named %q in the loaded rules%s", where, e.Rule, rules.Suggest(e.Rule, l.rules))
	}
	if e.Sink == "" {
		l.at(n, "%ssink is required", where)
	} else if !l.sinkNames[e.Sink] {
		l.at(at("sink"), "%ssink %q is not defined in the config%s", where, e.Sink, orSinks(rules.Suggest(e.Sink, l.sinks), l.sinks))
	}
	if e.Action != "" && e.Action != string(notification.Trigger) && e.Action != string(notification.Resolve) {
		l.at(at("action"), "%saction %q must be trigger or resolve", where, e.Action)
	}
	if e.HeldUntil != "" {
		if _, err := time.Parse(heldLayout, e.HeldUntil); err != nil {
			if _, err := time.Parse(time.RFC3339, e.HeldUntil); err != nil {
				l.at(at("held_until"), "%sheld_until %q is not a time; write it as on the schedule's clock, \"2026-11-30 09:00\", or in RFC 3339", where, e.HeldUntil)
			}
		}
	}
	if e.Transition != "" && !slices.Contains(transitions, notification.Transition(e.Transition)) {
		l.at(at("transition"), "%stransition %q must be one of opened, updated, escalated, reminded, resolved", where, e.Transition)
	}
	return e, sev
}

// orSinks is the suggestion, or else the sinks the config defines.
func orSinks(suggestion string, sinks []string) string {
	if suggestion != "" {
		return suggestion
	}
	return "; defined sinks: " + strings.Join(sinks, ", ")
}

func docContent(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	if n != nil && n.Kind == yaml.DocumentNode {
		return nil
	}
	return n
}

// payloadBody returns the webhook body of a case: the file named
// relative to the test file, or the inline mapping re-encoded as JSON.
func payloadBody(testFile string, tc ruleTestStep) ([]byte, error) {
	if tc.PayloadFile != "" {
		p := tc.PayloadFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(testFile), p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("payload_file: %w", err)
		}
		return b, nil
	}
	if tc.Payload.Kind == yaml.ScalarNode {
		return []byte(tc.Payload.Value), nil
	}
	var v any
	if err := tc.Payload.Decode(&v); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("payload (line %d) cannot be written as JSON: %w", tc.Payload.Line, err)
	}
	return b, nil
}

// runRuleTestCase plays one case's steps through serve's stages (a dry
// run on a store of the case's own, so incidents, min_severity and
// redeliveries carry from one step to the next as they would), prints
// the case when a step fails, and reports whether all passed. What it
// compares is what serve would queue.
func runRuleTestCase(ctx context.Context, w io.Writer, path string, tc ruleTestCase, cfg *config.Config, set *rules.Set) bool {
	fail := func(step int, lines ...string) bool {
		where := ""
		if len(tc.Steps) > 1 {
			where = fmt.Sprintf(" step %d", step+1)
		}
		fmt.Fprintf(w, "%s: test %q%s: FAIL\n", path, tc.Name, where)
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
		return false
	}
	now := time.Now()
	set.Now = func() time.Time { return now }
	dry, err := app.NewDryRun(ctx, cfg, set, func() time.Time { return now })
	if err != nil {
		return fail(0, err.Error())
	}
	defer func() { _ = dry.Close() }() // a scratch store in the temporary folder
	for i, st := range tc.Steps {
		if !st.now.IsZero() {
			now = st.now
		}
		var results []router.Result
		// The clock moved: the incident timers due by now fire first.
		fired, err := dry.Fire(ctx)
		if err != nil {
			return fail(i, err.Error())
		}
		results = append(results, fired...)
		var notes []string
		if st.hasPayload() {
			body, err := payloadBody(path, st)
			if err != nil {
				return fail(i, err.Error())
			}
			res, err := dry.Route(ctx, body)
			switch {
			case err != nil:
				return fail(i, err.Error())
			case res.Refused != nil:
				return fail(i, "payload refused: "+res.Refused.Error())
			case res.Result.Err != nil:
				return fail(i, "routing failed: "+res.Result.Err.Error())
			}
			// A bad change next to healthy ones is routed around by serve
			// too, so it is shown but does not fail the case by itself.
			if res.Unreadable != nil {
				for _, l := range errorLines(res.Unreadable) {
					notes = append(notes, "note: "+l)
				}
			}
			results = append(results, res.Result)
		}
		got, problems, skipped := stepOutcome(results)
		diff, same := diffNotifications(*st.Expect, st.severities, got)
		if same && len(problems) == 0 {
			continue
		}
		lines := append(problems, append(notes, skipped...)...)
		lines = append(lines, "expected (-) vs got (+):")
		return fail(i, append(lines, diff...)...)
	}
	return true
}

// stepOutcome is what a step's results queued, the rules that failed, and
// the notifications not made, with why.
func stepOutcome(results []router.Result) (got []gotNotification, problems, skipped []string) {
	for _, res := range results {
		for i, d := range res.Decisions {
			// A rule that fails on an event is exactly the bug a test
			// should catch, even when the notifications look right.
			for _, f := range d.RuleErrors {
				problems = append(problems, fmt.Sprintf("event %d: rule %q: %v", i+1, f.Rule, f.Err))
			}
			for _, n := range d.Notifications {
				if n.Outcome == router.Queued {
					got = append(got, gotNotification{Notification: n.Notification, heldUntil: n.HeldUntil})
					continue
				}
				skipped = append(skipped, fmt.Sprintf("note: rule %q → %s not sent: %s", n.Notification.Rule, n.Notification.Sink, n.Reason))
			}
		}
	}
	return got, problems, skipped
}

func (e expectedNotification) matches(sev notification.Severity, n gotNotification) bool {
	return e.Rule == n.Rule && e.Sink == n.Sink && sev == n.Severity && e.heldAsGot(n.heldUntil) &&
		(e.Title == "" || e.Title == n.Title) &&
		(e.Action == "" || notification.Action(e.Action) == n.Action) &&
		(e.Transition == "" || n.Incident != nil && notification.Transition(e.Transition) == n.Incident.Transition)
}

// heldAsGot reports whether a notification held until got (zero: not
// held) is held as e expects.
func (e expectedNotification) heldAsGot(got time.Time) bool {
	switch {
	case e.HeldUntil == "":
		return true
	case got.IsZero():
		return false
	}
	if t, err := time.Parse(time.RFC3339, e.HeldUntil); err == nil {
		return t.Equal(got)
	}
	return got.Format(heldLayout) == e.HeldUntil
}

func formatExpected(e expectedNotification) string {
	sev := e.Severity
	if e.Action != "" {
		sev += ", " + e.Action
	}
	if e.Transition != "" && e.Transition != string(notification.Opened) && e.Transition != string(notification.Resolved) {
		sev += ", " + e.Transition
	}
	held := ""
	if e.HeldUntil != "" {
		held = " (held until " + e.HeldUntil + ")"
	}
	return strings.TrimSpace(fmt.Sprintf("%s → %s [%s]%s %s", e.Rule, e.Sink, sev, held, e.Title))
}

func formatGot(n gotNotification) string {
	sev := n.Severity.String()
	if n.Action != "" && n.Action != notification.Trigger {
		sev += ", " + string(n.Action)
	}
	// An opening is what a trigger is, and a resolve what resolved is;
	// the other transitions are named.
	if n.Incident != nil && n.Incident.Transition != notification.Opened && n.Incident.Transition != notification.Resolved {
		sev += ", " + string(n.Incident.Transition)
	}
	held := ""
	if !n.heldUntil.IsZero() {
		held = " (held until " + router.FormatHeld(n.heldUntil) + ")"
	}
	return strings.TrimSpace(fmt.Sprintf("%s → %s [%s]%s %s", n.Rule, n.Sink, sev, held, n.Title))
}

// diffNotifications aligns expected and got in order (a longest common
// subsequence, so one missing notification does not mark every later one
// as different) and returns the listing and whether they agree.
func diffNotifications(want []expectedNotification, sevs []notification.Severity, got []gotNotification) ([]string, bool) {
	n, m := len(want), len(got)
	// lcs[i][j] is the longest match of want[i:] and got[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i].matches(sevs[i], got[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var lines []string
	same := true
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i].matches(sevs[i], got[j]):
			lines = append(lines, "  "+formatGot(got[j]))
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			lines = append(lines, "+ "+formatGot(got[j]))
			same = false
			j++
		default:
			lines = append(lines, "- "+formatExpected(want[i]))
			same = false
			i++
		}
	}
	if n == 0 && m == 0 {
		lines = append(lines, "  (nothing sent)")
	}
	return lines, same
}
