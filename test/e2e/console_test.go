package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// chromiumPath is Debian's chromium package's browser; the browser tests
// skip without it (.ci/run installs it).
const chromiumPath = "/usr/bin/chromium"

// updateScreenshots, when set to 1, makes the console tests write the
// docs' pictures (docs/pictures/console/) as they go.
const updateScreenshots = "WABAROUTER_UPDATE_SCREENSHOTS"

const consoleRules = `rules:
  - name: account-banned
    description: The account is banned or scheduled to be banned
    when: >-
      field == "account_update" and event == "DISABLED_UPDATE"
      and ban_state in ["DISABLE", "SCHEDULE_FOR_DISABLE"]
    severity: critical
    to: [pager, legal]
  - name: policy-violation
    description: Meta reported a policy violation
    when: field == "account_update" and event == "ACCOUNT_VIOLATION"
    to: [chat]
  - name: template-problem
    when: field == "message_template_status_update" and event in ["REJECTED", "PAUSED", "DISABLED", "FLAGGED"]
    to: [chat]
  - name: phone-quality
    when: field == "phone_number_quality_update" and event in ["FLAGGED", "DOWNGRADE"]
    to: [chat]
`

// consoleRouter is a router with the console on, an editor (ana) and a
// viewer (bo), sending to a Slack, a PagerDuty and a mail server.
type consoleRouter struct {
	slack *e2etest.SlackFake
	pd    *e2etest.PagerDutyFake
	mail  *e2etest.SMTPServer
	r     *e2etest.Router
	p     *e2etest.Process
}

func startConsoleRouter(t *testing.T) *consoleRouter {
	t.Helper()
	cr := &consoleRouter{
		slack: e2etest.ServeSlack(t, slackToken, nil),
		pd:    e2etest.ServePagerDuty(t, pdRoutingKey, nil),
		mail:  e2etest.ServeSMTP(t, e2etest.SMTPOptions{Username: smtpUser, Password: smtpPassword}),
	}
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rules.yaml"), consoleRules)
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%q]
store: {path: %s}
rules: [rules.yaml]
sinks:
  - {name: chat, type: slack, token: "${E2E_SLACK_TOKEN}", channel: "#compliance", api_url: %s}
  - {name: pager, type: pagerduty, routing_key: "${E2E_PD_KEY}", events_url: %s}
  - name: legal
    type: email
    host: %s
    port: %d
    tls: none
    username: %s
    password: ${E2E_SMTP_PASSWORD}
    from: wabarouter@example.com
    to: [legal@example.com]
accounts:
  - waba_id: "102290129340398"
    name: Acme Retail EU
    phones: {"16505551111": support line}
console:
  session_key: "${E2E_CONSOLE_KEY}"
  users:
    - {name: ana, role: editor, password_hash: %q}
    - {name: bo, role: viewer, password_hash: %q}
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), cr.slack.APIURL(), cr.pd.URL(), cr.mail.Host(), cr.mail.Port(), smtpUser,
		hash("ana-password"), hash("bo-password"))
	cr.r = e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg, Env: []string{
		"E2E_SLACK_TOKEN=" + slackToken, "E2E_PD_KEY=" + pdRoutingKey, "E2E_SMTP_PASSWORD=" + smtpPassword,
		"E2E_CONSOLE_KEY=console-session-key-0123456789abcdef"}})
	cr.p = cr.r.Start(t)
	return cr
}

// feed posts every fixture of testdata/webhooks, as Meta would, and waits
// until the router has sent all it will.
func (cr *consoleRouter) feed(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob("../../testdata/webhooks/*.json")
	if err != nil || len(files) < 20 {
		t.Fatalf("the fixtures: %d files, %v", len(files), err)
	}
	accepted := 0
	for _, f := range files {
		if code, _ := cr.p.PostSigned(t, appSecret, readFile(t, f)); code == http.StatusOK {
			accepted++
		}
	}
	cr.p.WaitDrained(t)
	return accepted
}

// browser is one headless Chromium with a fresh profile, driving the
// console; a failed step saves a screenshot and names it.
type browser struct {
	t         *testing.T
	ctx       context.Context
	base      string
	artifacts string
	pictures  string // "" unless updateScreenshots is set
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("the console's browser tests need Debian's chromium at %s (apt-get install chromium): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	// Artifacts outlive the test, unlike t.TempDir: they are what is left
	// to look at after a failure.
	artifacts := os.Getenv("WABAROUTER_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(os.TempDir(), "wabarouter-console-artifacts")
	}
	b := &browser{t: t, ctx: ctx, base: base, artifacts: filepath.Join(artifacts, strings.ReplaceAll(t.Name(), "/", "_"))}
	if os.Getenv(updateScreenshots) == "1" {
		b.pictures = filepath.Join("..", "..", "docs", "pictures", "console")
	}
	b.run("starting Chromium", chromedp.EmulateViewport(1100, 900))
	return b
}

// run runs actions; on failure it saves a screenshot and fails the test.
func (b *browser) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail("%s: %v", step, err)
	}
}

// fail saves a screenshot of the page and the page's text, then fails.
func (b *browser) fail(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	url, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil && os.MkdirAll(b.artifacts, 0o755) == nil {
		name := filepath.Join(b.artifacts, fmt.Sprintf("failure-%d.png", time.Now().UnixNano()))
		if os.WriteFile(name, png, 0o644) == nil {
			msg += "\nscreenshot: " + name
		}
	}
	b.t.Fatalf("%s\npage %s:\n%s", msg, url, text)
}

// open navigates to a console path and waits for its main heading.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run("opening "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.fail("reading %s: %v", sel, err)
	}
	return s
}

// evaluate runs js in the page, awaiting a promise it gives.
func evaluate[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("evaluating %s: %v", js, err)
	}
	return v
}

// waitText waits until the element's text contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	js := fmt.Sprintf(`new Promise(function (resolve) {
  function look() { var e = document.querySelector(%q); if (e && e.innerText.indexOf(%q) >= 0) { resolve(true); } else { setTimeout(look, 50); } }
  look();
})`, sel, want)
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise)); err != nil {
		b.fail("waiting for %s to say %q: %v", sel, want, err)
	}
}

// typeInto replaces a field's text as a person types it, so the page
// hears every keystroke. The keys go to the focused field: chromedp's
// SendKeys reads the node's attributes unlocked while its DOM events
// change them (a data race the race detector caught in CI, as the page
// marks the field while it is typed into).
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	if !evaluate[bool](b, fmt.Sprintf(`(function () { var e = document.querySelector(%q); e.value = ""; e.focus(); return document.activeElement === e; })()`, sel)) {
		b.fail("%s did not take the focus to be typed into", sel)
	}
	b.run("typing into "+sel, chromedp.KeyEvent(text))
}

func (b *browser) signIn(name, password string) {
	b.t.Helper()
	b.open("/console/login")
	b.run("signing in as "+name, chromedp.SetValue(chromedp.CSS(`#name`), name), chromedp.SetValue(chromedp.CSS(`#password`), password),
		chromedp.Submit(chromedp.CSS(`#password`)), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
}

// noHorizontalScroll checks the page fits the viewport's width.
func (b *browser) noHorizontalScroll(width int) {
	b.t.Helper()
	w := evaluate[int](b, `document.documentElement.scrollWidth`)
	if w > width {
		wide := evaluate[string](b, `Array.from(document.querySelectorAll("body *")).filter(function (e) { return e.getBoundingClientRect().right > `+fmt.Sprint(width)+`; }).slice(0, 5).map(function (e) { return e.tagName + "." + e.className + "#" + e.id; }).join(", ")`)
		b.fail("the page is %d px wide at %d px: it scrolls sideways (too wide: %s)", w, width, wide)
	}
}

// shot writes a docs picture of the page when updateScreenshots is set.
func (b *browser) shot(name string) {
	b.t.Helper()
	if b.pictures == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.fail("taking the picture %s: %v", name, err)
	}
	if err := os.MkdirAll(b.pictures, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.pictures, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestConsoleInABrowser drives the console in headless Chromium against
// a router fed with every fixture of testdata/webhooks: sign-in is
// refused with a wrong password and accepted with the right one; every
// page loads; in the playground a typo is told at its line and column and
// fixing it shows the match, the incident key and the Slack preview; a
// silence added after its preview hides the next matching event from
// every sink; a test notification reaches Slack; a viewer sees no write
// buttons and is refused a write; and every page fits 400 px.
func TestConsoleInABrowser(t *testing.T) {
	t.Parallel()
	cr := startConsoleRouter(t)
	b := newBrowser(t, "http://"+cr.p.Addr())
	if n := cr.feed(t); n < 20 {
		t.Fatalf("only %d fixtures accepted", n)
	}

	// Sign-in: a wrong password is refused, the right one lets in and
	// goes where the reader was going.
	b.run("opening the console signed out", chromedp.Navigate(b.base+"/console/rules"), chromedp.WaitVisible(chromedp.CSS(`#password`)))
	b.shot("login")
	b.run("signing in wrongly", chromedp.SetValue(chromedp.CSS(`#name`), "ana"), chromedp.SetValue(chromedp.CSS(`#password`), "wrong"),
		chromedp.Submit(chromedp.CSS(`#password`)), chromedp.WaitVisible(chromedp.CSS(`#login-error`)))
	if got := b.text(`#login-error`); !strings.Contains(got, "do not match") {
		b.fail("the refusal says %q", got)
	}
	b.run("signing in", chromedp.SetValue(chromedp.CSS(`#password`), "ana-password"),
		chromedp.Submit(chromedp.CSS(`#password`)), chromedp.WaitVisible(chromedp.CSS(`#rule-list`)))
	if got := b.text(`#whoami`); got != "ana (editor)" {
		b.fail("signed in as %q", got)
	}

	// Every page loads with what the fixtures made of it.
	b.open("/console/incidents")
	b.waitText(`#incident-list`, "banned")
	b.shot("incidents")
	incident := evaluate[string](b, `document.querySelector("#incident-list a").getAttribute("href")`)
	b.open(incident)
	b.waitText(`.timeline`, "Event 1")
	b.waitText(`#incident-links`, "WhatsApp Manager")
	b.shot("incident")
	b.open("/console/events")
	b.waitText(`#event-list`, "account_update/DISABLED_UPDATE")
	b.shot("events")
	b.open("/console/events?field=message_template_status_update&event=REJECTED")
	b.waitText(`#event-list`, "matched template-problem")
	event := evaluate[string](b, `document.querySelector("#event-list h2 a").getAttribute("href")`)
	b.open(event)
	b.waitText(`main`, "Decision trace")
	b.waitText(`main`, "queued to chat")
	b.shot("event")
	b.open("/console/rules")
	b.waitText(`#rule-account-banned .matches`, "event")
	if got := b.text(`#rule-account-banned .matches`); strings.HasPrefix(got, "0 ") {
		b.fail("account-banned matched nothing over 24 h: %q", got)
	}
	b.shot("rules")
	b.open("/console/sinks")
	b.waitText(`#sink-chat`, "pending")
	b.open("/console/silences")
	b.waitText(`main`, "Add a silence")

	// The playground: a typo is told at its place; fixed, the rule
	// matches and the previews show what Slack would get.
	b.open("/console/playground?sample=seed_account_violation")
	b.waitText(`#pg-status`, "Matches")
	b.typeInto(`#pg-when`, `event == "ACCOUNT_VIOLATION" and feild == "account_update"`)
	b.waitText(`#diag-when`, "at line 1, column 34 (1:34)")
	b.waitText(`#diag-when`, `unknown name "feild"`)
	b.waitText(`#diag-when`, `did you mean "field"?`)
	b.waitText(`#pg-status`, "does not load")
	invalid := evaluate[string](b, `document.getElementById("pg-when").getAttribute("aria-invalid")`)
	if invalid != "true" {
		b.fail("the when field with a typo has aria-invalid %q", invalid)
	}
	evaluate[bool](b, `(document.getElementById("pg-when").scrollIntoView({block: "center"}), true)`)
	b.shot("playground-typo")
	b.typeInto(`#pg-when`, `event == "ACCOUNT_VIOLATION" and field == "account_update"`)
	b.typeInto(`#pg-title`, `{{.account.name}} broke a policy ({{.violation_type}})`)
	b.waitText(`#pg-status`, "Matches")
	b.waitText(`#pg-events`, "Incident opened under key 102290129340398/violation/ADULT")
	slackPreview := evaluate[string](b, `new Promise(function (resolve) {
  function look() { var s = document.getElementById("preview-slack").srcdoc; if (s.indexOf("Acme Retail EU broke a policy (ADULT)") >= 0) { resolve(s); } else { setTimeout(look, 50); } }
  look();
})`)
	if !strings.Contains(slackPreview, `class="block header"`) {
		b.fail("the Slack preview has no header block")
	}
	b.run("drawing the Slack preview", chromedp.WaitVisible(chromedp.CSS(`#preview-slack[data-shown="true"]`)))
	ruleYAML := evaluate[string](b, `document.getElementById("rule-yaml").value`)
	if !strings.Contains(ruleYAML, "- name: my-new-rule") || !strings.Contains(ruleYAML, `field == "account_update"`) {
		b.fail("the rule's YAML is\n%s", ruleYAML)
	}
	saveDisabled := evaluate[bool](b, `document.getElementById("save-test").disabled`)
	if saveDisabled {
		b.fail("save as test is disabled on a rule that loads and runs")
	}
	evaluate[bool](b, `(document.getElementById("pg-title").scrollIntoView({block: "center"}), true)`)
	b.shot("playground")

	// A silence, added after its preview, hides the next matching event
	// from every sink.
	b.open("/console/silences")
	b.typeInto(`#sil-when`, `field == "phone_number_quality_update"`)
	b.typeInto(`#sil-comment`, "number migration OPS-42")
	b.run("previewing the silence", chromedp.Click(chromedp.CSS(`#sil-preview`)), chromedp.WaitVisible(chromedp.CSS(`#silence-preview`)))
	b.waitText(`#silence-preview`, "phone_number_quality_update/")
	if got := b.text(`#preview-heading`); strings.Contains(got, "hidden 0 events") {
		b.fail("the preview hides nothing: %q", got)
	}
	listed := evaluate[int](b, `document.querySelectorAll("#silence-list .card").length`)
	if listed != 0 {
		b.fail("previewing added a silence")
	}
	b.shot("silences-preview")
	b.run("adding the silence", chromedp.Click(chromedp.CSS(`#sil-add`)), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	b.waitText(`.flash`, "added until")
	b.waitText(`#silence-list`, "number migration OPS-42")
	b.shot("silences")
	chatBefore := cr.slack.Len()
	cr.p.PostSigned(t, appSecret, numbers(time.Now().Unix(), [2]string{"16505559999", "FLAGGED"}))
	cr.p.WaitDrained(t)
	if cr.slack.Len() != chatBefore {
		t.Fatalf("the silenced quality change reached Slack:\n%s", cr.slack.Report())
	}
	b.open("/console/events?field=phone_number_quality_update")
	b.waitText(`#event-list`, "1 silenced")
	b.open("/console/events?field=console")
	b.waitText(`#event-list`, "Console: SILENCE_ADD by ana (editor)")

	// A test notification reaches Slack and is in the decision log.
	b.open("/console/sinks")
	b.shot("sinks")
	b.run("sending a test to chat", chromedp.Click(chromedp.CSS(`#sink-chat form button`)), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	b.waitText(`.flash`, "Sink chat answered")
	cr.slack.AwaitCount(t, chatBefore+1)
	b.open("/console/events?field=console&event=TEST_SEND")
	b.waitText(`#event-list`, "TEST_SEND by ana")

	// Every page fits 400 px: nothing scrolls sideways.
	b.run("narrowing the window", chromedp.EmulateViewport(400, 800))
	for _, path := range []string{"/console/incidents", incident, "/console/events", event, "/console/rules", "/console/silences", "/console/sinks"} {
		b.open(path)
		b.noHorizontalScroll(400)
	}
	b.open("/console/playground?sample=seed_disabled_update_disable")
	b.waitText(`#pg-status`, "")
	b.typeInto(`#pg-when`, `field == "account_update"`)
	b.waitText(`#pg-status`, "Matches")
	b.noHorizontalScroll(400)
	b.shot("playground-400px")
	b.run("widening the window", chromedp.EmulateViewport(1100, 900))

	// A viewer reads but cannot write: no write buttons, and a write
	// sent anyway is refused with 403.
	b.run("signing out", chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.CSS(`#password`)))
	b.signIn("bo", "bo-password")
	if got := b.text(`#whoami`); got != "bo (viewer)" {
		b.fail("signed in as %q", got)
	}
	b.open("/console/silences")
	b.waitText(`main`, "You are a viewer")
	buttons := evaluate[int](b, `document.querySelectorAll("#sil-add, #silence-list button").length`)
	if buttons != 0 {
		b.fail("a viewer sees %d silence buttons", buttons)
	}
	b.open("/console/sinks")
	buttons = evaluate[int](b, `document.querySelectorAll("#sink-list form").length`)
	if buttons != 0 {
		b.fail("a viewer sees %d sink forms", buttons)
	}
	status := evaluate[int](b, `fetch("/console/silences", {method: "POST", credentials: "same-origin",
  body: new URLSearchParams({csrf: document.querySelector('meta[name="csrf-token"]').content, when: 'waba_id == "1"', for: "1h", comment: "x"})
}).then(function (r) { return r.status; })`)
	if status != http.StatusForbidden {
		b.fail("a viewer's silence was answered %d, want 403", status)
	}
	status = evaluate[int](b, `fetch("/console/sinks/chat/test", {method: "POST", credentials: "same-origin",
  body: new URLSearchParams({csrf: document.querySelector('meta[name="csrf-token"]').content})
}).then(function (r) { return r.status; })`)
	if status != http.StatusForbidden {
		b.fail("a viewer's test send was answered %d, want 403", status)
	}
	if list := cr.r.Run(t, "silence", "list"); strings.Count(list.Stdout, "sil-") != 1 {
		t.Errorf("want the one silence ana added:\n%s", list.Stdout)
	}
}
