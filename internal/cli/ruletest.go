package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/app"
	"github.com/wabarouter/wabarouter/internal/config"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
)

// ruleTestFile is one file of `wabarouter test`. Severity, action and now
// are strings rather than typed values so that a bad value is reported by
// us with its line; yaml.v3 drops the line of a TextUnmarshaler's error.
type ruleTestFile struct {
	Tests []ruleTestCase `yaml:"tests"`
}

// ruleTestCase is one test: one payload and what it sends, or steps
// played in order against one store, each with what it sends, so a ban
// and then its reinstatement can be expected to open and then resolve an
// incident.
type ruleTestCase struct {
	Name string `yaml:"name"`
	// The fields of a one-step test.
	ruleTestStep `yaml:",inline"`
	Steps        []ruleTestStep `yaml:"steps"`

	line int
}

// ruleTestStep is one payload (or, with only now, the clock moving on so
// incident timers fire) and the notifications serve would queue for it.
type ruleTestStep struct {
	PayloadFile string `yaml:"payload_file"`
	// Payload is kept as a node: it is any webhook body, so its keys are
	// not ours to check, and a scalar may hold the JSON text itself.
	Payload yaml.Node `yaml:"payload"`
	Now     string    `yaml:"now"`
	// Expect is a pointer so that a missing expect (an error) differs
	// from `expect: []` (nothing may be sent).
	Expect *[]expectedNotification `yaml:"expect"`

	line       int
	expectLine []int
	now        time.Time
	severities []notification.Severity
}

func (st ruleTestStep) hasPayload() bool { return st.PayloadFile != "" || st.Payload.Kind != 0 }

type expectedNotification struct {
	Rule     string `yaml:"rule"`
	Sink     string `yaml:"sink"`
	Severity string `yaml:"severity"`
	Title    string `yaml:"title"`
	Action   string `yaml:"action"`
	// Transition is what the notification says happened to its incident:
	// opened, updated, escalated, reminded or resolved.
	Transition string `yaml:"transition"`
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

// loadRuleTests decodes one test file strictly and checks every case,
// returning all problems at once as FILE:LINE: message.
func loadRuleTests(path string, ruleNames, sinkNames map[string]bool) ([]ruleTestCase, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read test file: %w", err)
	}
	var file ruleTestFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: no tests", path)
		}
		return nil, yamlErrors(path, err)
	}
	// The strict decode has no positions; a second pass over the nodes
	// finds each case's line for the messages below.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlErrors(path, err)
	}
	caseNodes := seqItems(mappingValue(docContent(&root), "tests"))
	if len(file.Tests) == 0 {
		return nil, fmt.Errorf("%s: no tests", path)
	}
	var errs []error
	at := func(line int, format string, args ...any) {
		errs = append(errs, &config.Error{File: path, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	for i := range file.Tests {
		tc := &file.Tests[i]
		var node *yaml.Node
		if i < len(caseNodes) {
			node = caseNodes[i]
			tc.line = node.Line
		}
		if tc.Name == "" {
			at(tc.line, "test %d: name is required", i+1)
		}
		label := fmt.Sprintf("test %q", tc.Name)
		if len(tc.Steps) == 0 {
			tc.ruleTestStep.line = tc.line
			checkStep(&tc.ruleTestStep, node, label, false, ruleNames, sinkNames, at)
			tc.Steps = []ruleTestStep{tc.ruleTestStep}
			continue
		}
		if tc.hasPayload() || tc.Expect != nil || tc.Now != "" {
			at(tc.line, "%s: with steps, give payload, payload_file, now and expect in each step, not beside them", label)
		}
		stepNodes := seqItems(mappingValue(node, "steps"))
		for j := range tc.Steps {
			st := &tc.Steps[j]
			var sn *yaml.Node
			st.line = tc.line
			if j < len(stepNodes) {
				sn = stepNodes[j]
				st.line = sn.Line
			}
			checkStep(st, sn, fmt.Sprintf("%s: step %d", label, j+1), true, ruleNames, sinkNames, at)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return file.Tests, nil
}

// checkStep checks one step of a test (or a one-step test itself): a
// payload, unless inStep and a now moves the clock alone; a readable
// now; and expectations that name loaded rules and defined sinks.
func checkStep(st *ruleTestStep, node *yaml.Node, label string, inStep bool, ruleNames, sinkNames map[string]bool, at func(int, string, ...any)) {
	hasInline := st.Payload.Kind != 0
	switch {
	case st.PayloadFile != "" && hasInline:
		at(st.line, "%s: give payload_file or payload, not both", label)
	case !st.hasPayload() && !(inStep && st.Now != ""):
		if inStep {
			at(st.line, "%s: payload_file, payload or now is required", label)
		} else {
			at(st.line, "%s: payload_file or payload is required (or steps)", label)
		}
	}
	if st.Now != "" {
		var err error
		if st.now, err = time.Parse(time.RFC3339, st.Now); err != nil {
			at(lineOf(mappingValue(node, "now"), st.line), "%s: now %q is not an RFC 3339 time such as 2026-11-23T12:00:00Z", label, st.Now)
		}
	}
	if st.Expect == nil {
		at(st.line, "%s: expect is required; use expect: [] when nothing may be sent", label)
		return
	}
	expectNodes := seqItems(mappingValue(node, "expect"))
	for j, e := range *st.Expect {
		line := st.line
		if j < len(expectNodes) {
			line = expectNodes[j].Line
		}
		st.expectLine = append(st.expectLine, line)
		sev, err := notification.ParseSeverity(e.Severity)
		if err != nil {
			at(line, "%s: expect[%d]: %v", label, j, err)
		}
		st.severities = append(st.severities, sev)
		// Unknown names would make a case that can never pass; say so at
		// load time instead of as a confusing diff.
		if e.Rule == "" {
			at(line, "%s: expect[%d]: rule is required", label, j)
		} else if !ruleNames[e.Rule] {
			at(line, "%s: expect[%d]: no rule named %q in the loaded rules", label, j, e.Rule)
		}
		if e.Sink == "" {
			at(line, "%s: expect[%d]: sink is required", label, j)
		} else if !sinkNames[e.Sink] {
			at(line, "%s: expect[%d]: sink %q is not defined in the config", label, j, e.Sink)
		}
		if e.Action != "" && e.Action != string(notification.Trigger) && e.Action != string(notification.Resolve) {
			at(line, "%s: expect[%d]: action %q must be trigger or resolve", label, j, e.Action)
		}
		if e.Transition != "" && !slices.Contains(transitions, notification.Transition(e.Transition)) {
			at(line, "%s: expect[%d]: transition %q must be one of opened, updated, escalated, reminded, resolved", label, j, e.Transition)
		}
	}
}

// yamlLine matches yaml.v3's "line N: message" error texts.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// unknownField rewrites yaml.v3's Go-flavoured unknown-key message.
var unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

// yamlErrors turns a yaml.v3 error into one FILE:LINE: message per problem.
func yamlErrors(path string, err error) error {
	var texts []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		texts = te.Errors
	} else {
		texts = []string{err.Error()}
	}
	errs := make([]error, 0, len(texts))
	for _, t := range texts {
		m := yamlLine.FindStringSubmatch(t)
		if m == nil {
			errs = append(errs, &config.Error{File: path, Msg: strings.TrimPrefix(t, "yaml: ")})
			continue
		}
		line, _ := strconv.Atoi(m[1])
		msg := m[2]
		if u := unknownField.FindStringSubmatch(msg); u != nil {
			msg = fmt.Sprintf("unknown key %q", u[1])
		}
		errs = append(errs, &config.Error{File: path, Line: line, Msg: msg})
	}
	return errors.Join(errs...)
}

func docContent(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func seqItems(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func lineOf(n *yaml.Node, fallback int) int {
	if n == nil {
		return fallback
	}
	return n.Line
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
func stepOutcome(results []router.Result) (got []notification.Notification, problems, skipped []string) {
	for _, res := range results {
		for i, d := range res.Decisions {
			// A rule that fails on an event is exactly the bug a test
			// should catch, even when the notifications look right.
			for _, f := range d.RuleErrors {
				problems = append(problems, fmt.Sprintf("event %d: rule %q: %v", i+1, f.Rule, f.Err))
			}
			for _, n := range d.Notifications {
				if n.Outcome == router.Queued {
					got = append(got, n.Notification)
					continue
				}
				skipped = append(skipped, fmt.Sprintf("note: rule %q → %s not sent: %s", n.Notification.Rule, n.Notification.Sink, n.Reason))
			}
		}
	}
	return got, problems, skipped
}

func (e expectedNotification) matches(sev notification.Severity, n notification.Notification) bool {
	return e.Rule == n.Rule && e.Sink == n.Sink && sev == n.Severity &&
		(e.Title == "" || e.Title == n.Title) &&
		(e.Action == "" || notification.Action(e.Action) == n.Action) &&
		(e.Transition == "" || n.Incident != nil && notification.Transition(e.Transition) == n.Incident.Transition)
}

func formatExpected(e expectedNotification) string {
	sev := e.Severity
	if e.Action != "" {
		sev += ", " + e.Action
	}
	if e.Transition != "" && e.Transition != string(notification.Opened) && e.Transition != string(notification.Resolved) {
		sev += ", " + e.Transition
	}
	return strings.TrimSpace(fmt.Sprintf("%s → %s [%s] %s", e.Rule, e.Sink, sev, e.Title))
}

func formatGot(n notification.Notification) string {
	sev := n.Severity.String()
	if n.Action != "" && n.Action != notification.Trigger {
		sev += ", " + string(n.Action)
	}
	// An opening is what a trigger is, and a resolve what resolved is;
	// the other transitions are named.
	if n.Incident != nil && n.Incident.Transition != notification.Opened && n.Incident.Transition != notification.Resolved {
		sev += ", " + string(n.Incident.Transition)
	}
	return strings.TrimSpace(fmt.Sprintf("%s → %s [%s] %s", n.Rule, n.Sink, sev, n.Title))
}

// diffNotifications aligns expected and got in order (a longest common
// subsequence, so one missing notification does not mark every later one
// as different) and returns the listing and whether they agree.
func diffNotifications(want []expectedNotification, sevs []notification.Severity, got []notification.Notification) ([]string, bool) {
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
