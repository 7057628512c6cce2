package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// Limits on what a mail carries. The subject is cut to what mail clients
// show anyway (and foldText keeps its lines within RFC 5322's); a
// notification's own subject leaves room for the "Re: " of a follow-up,
// so the conversation keeps one subject. The bodies are cut to what a
// person reads.
const (
	maxSubject = 200
	maxIDPart  = 64
	maxBody    = 20000
	maxFact    = 2000
)

// MessageID is unique per notification: the notification ID (made safe,
// at most 64 characters) and a hash of the dedup key, without angle
// brackets.
func MessageID(n notification.Notification) string {
	id := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, n.ID)
	if len(id) > maxIDPart {
		id = id[:maxIDPart]
	}
	if id == "" {
		id = fmt.Sprintf("t%d", n.CreatedAt.UnixNano())
	}
	sum := sha256.Sum256([]byte(n.DedupKey))
	return id + "." + hex.EncodeToString(sum[:])[:16] + "@wabarouter"
}

// Subject is "[SEVERITY] title", with "Resolved:" for resolves and a
// [TEST] tag for notify-test; line breaks are flattened, bidi controls
// removed (see sinks.StripBidi), and the whole cut to 196 characters,
// 200 with a follow-up's "Re: ".
func Subject(n notification.Notification) string {
	return sinks.Truncate(strings.TrimSpace("["+strings.ToUpper(n.Severity.String())+"] "+heading(n)), maxSubject-len("Re: "))
}

// Priority returns the Importance and X-Priority header values.
func Priority(s notification.Severity) (importance, xPriority string) {
	switch s {
	case notification.Critical, notification.Error:
		return "High", "1"
	case notification.Warning:
		return "Normal", "3"
	default:
		return "Low", "5"
	}
}

// heading is what a mail is about in one line: the title, after
// "Resolved: " for a resolve and a [TEST] tag for notify-test, flattened
// and without bidi controls. Subject puts the severity before it.
func heading(n notification.Notification) string {
	s := ""
	if n.Test {
		s += "[TEST] "
	}
	if n.Action == notification.Resolve {
		s += "Resolved: "
	}
	return strings.Join(strings.Fields(sinks.StripBidi(s+n.Title)), " ")
}

// row is one fact of the details: one value, or several shown as a list
// (a restriction per line).
type row struct {
	Name   string
	Values []string
}

// List reports whether the row is shown as a list.
func (r row) List() bool { return len(r.Values) > 1 }

// colours of a severity: the stripe and badge, and the badge's ink, each
// pair readable (WCAG AA) for the badge's bold small text.
type colours struct{ Paint, Ink htmltemplate.CSS }

var severityColours = map[notification.Severity]colours{
	notification.Critical: {"#a50e0e", "#ffffff"},
	notification.Error:    {"#c5221f", "#ffffff"},
	notification.Warning:  {"#f9ab00", "#202124"},
	notification.Info:     {"#1967d2", "#ffffff"},
}

// goodNews colours a change: news that needs no one.
var goodNews = colours{"#137333", "#ffffff"}

type view struct {
	Subject  string
	Heading  string
	Severity string
	Colours  colours
	Who      string
	Test     bool
	// Info marks a change: good news outside any incident.
	Info bool
	// State is the incident's state and count, "" outside any.
	State       string
	Change      string
	Body        []string
	Description []string
	Runbook     string
	ManagerURL  string
	Links       []sinks.Link
	Rows        []row
	// Items are a group's items, one line each, and ItemsHeading what
	// the group holds; none outside a group.
	Items        []string
	ItemsHeading string
	ID           string
}

func newView(n notification.Notification) view {
	ev := n.Event
	v := view{
		Subject:    Subject(n),
		Heading:    sinks.Truncate(heading(n), maxFact),
		Severity:   n.Severity.Word(),
		Colours:    severityColours[n.Severity],
		Who:        sinks.Truncate(oneLine(sinks.StripBidi(sinks.Who(n))), maxFact),
		Test:       n.Test,
		Info:       n.Action == notification.Change,
		Runbook:    n.Runbook,
		ManagerURL: sinks.ManagerURL(n),
		Links:      sinks.Links(n),
		ID:         sinks.Truncate(n.ID, maxFact),
	}
	if v.Colours.Paint == "" {
		v.Colours = severityColours[notification.Info]
	}
	if v.Info {
		v.Colours = goodNews
	}
	if sinks.FollowUp(n) {
		v.Change = sinks.Truncate(oneLine(sinks.StripBidi(sinks.Change(n))), maxFact)
	}
	desc := sinks.Truncate(sinks.Description(n), maxBody)
	v.Description = lines(desc)
	// Default texts may say no more than Meta did; say it once.
	if body := sinks.Truncate(sinks.StripBidi(sinks.Body(n)), maxBody); strings.TrimSpace(body) != strings.TrimSpace(desc) {
		v.Body = lines(body)
	}
	if n.Group != nil {
		for _, l := range sinks.GroupLines(n) {
			v.Items = append(v.Items, sinks.Truncate(l, maxFact))
		}
		if more := sinks.GroupMore(n, 0); more != "" {
			v.Items = append(v.Items, more)
		}
		v.ItemsHeading = sinks.GroupHeading(n)
	}
	if inc := n.Incident; inc != nil {
		facts := sinks.IncidentFacts(n)
		v.State = facts[0].Value + ", " + events(inc.Count)
	}
	var facts []sinks.Fact
	if ev.Account.Team != "" {
		facts = append(facts, sinks.Fact{Name: "Team", Value: ev.Account.Team})
	}
	facts = append(facts, sinks.Facts(n)...)
	facts = append(facts, sinks.IncidentFacts(n)...)
	if !ev.Time.IsZero() {
		facts = append(facts, sinks.Fact{Name: "Event time", Value: sinks.UTC(ev.Time)})
	}
	if n.Suppressed > 0 {
		s := fmt.Sprintf("%d more", n.Suppressed)
		if !n.SuppressedSince.IsZero() {
			s += " since " + n.SuppressedSince.UTC().Format("15:04 UTC")
		}
		facts = append(facts, sinks.Fact{Name: "Repeats", Value: s})
	}
	for _, f := range facts {
		if vs := lines(sinks.Truncate(sinks.StripBidi(f.Value), maxFact)); len(vs) > 0 {
			v.Rows = append(v.Rows, row{Name: f.Name, Values: vs})
		}
	}
	return v
}

// lines splits s into its non-blank lines, trimmed.
func lines(s string) []string {
	var ls []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

// oneLine flattens s's line breaks and runs of spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func events(n int) string {
	if n == 1 {
		return "1 event"
	}
	return fmt.Sprintf("%d events", n)
}

// infoLine is what an informational mail says instead of an incident's
// state.
const infoLine = "For your information: good news, no incident was opened and nothing needs doing."

var textTmpl = texttemplate.Must(texttemplate.New("text").Parse(`{{.Heading}}
Severity: {{.Severity}}
Account: {{.Who}}
{{if .State}}Incident: {{.State}}
{{end}}{{if .Info}}` + infoLine + `
{{end}}{{if .Change}}
{{.Change}}
{{end}}{{if .Body}}
{{range .Body}}{{.}}
{{end}}{{end}}{{if .Items}}
Items ({{.ItemsHeading}}):
{{range .Items}}- {{.}}
{{end}}{{end}}{{if .Description}}
Meta's description:
{{range .Description}}{{.}}
{{end}}{{end}}{{if or .Runbook .ManagerURL}}
{{if .Runbook}}What to do: {{.Runbook}}
{{end}}{{if .ManagerURL}}WhatsApp Manager: {{.ManagerURL}}
{{end}}{{end}}
Details
{{range .Rows}}{{if .List}}{{.Name}}:
{{range .Values}}- {{.}}
{{end}}{{else}}{{.Name}}: {{index .Values 0}}
{{end}}{{end}}
-- 
wabarouter notification {{.ID}}
`))

// htmlTmpl is one column of at most 600 pixels, centred, in nested tables
// with inline styles since Outlook and Gmail ignore much else. Every cell
// wraps long tokens (template names, ids, URLs) rather than widen the
// page on a phone; the severity is a word in a badge, not a colour only.
var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<title>{{.Subject}}</title>
<style>
td, th, p, li, h1, h2, a { overflow-wrap: anywhere; word-break: break-word; }
@media (max-width: 480px) { .facts th, .facts td { display: block; width: auto !important; } .facts td { padding-top: 0 !important; border-top: 0 !important; } }
</style>
</head>
<body style="margin:0; padding:0; background-color:#f1f3f4;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f1f3f4;">
<tr><td align="center" style="padding:16px 8px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px; background-color:#ffffff; border-top:6px solid {{.Colours.Paint}}; font-family:-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; font-size:16px; line-height:1.5; color:#202124;">
<tr><td style="padding:16px 20px; overflow-wrap:anywhere; word-break:break-word;">
<p style="margin:0 0 8px;"><span style="display:inline-block; padding:2px 10px; border-radius:12px; background-color:{{.Colours.Paint}}; color:{{.Colours.Ink}}; font-size:13px; font-weight:bold; letter-spacing:0.5px;">{{.Severity}}</span>{{if .Test}} <span style="display:inline-block; padding:2px 10px; border-radius:12px; border:1px solid #5f6368; color:#5f6368; font-size:13px; font-weight:bold;">Test</span>{{end}}</p>
<h1 style="margin:0 0 8px; font-size:22px; line-height:1.3; overflow-wrap:anywhere; word-break:break-word;">{{.Heading}}</h1>
<p style="margin:0 0 12px; font-weight:bold; overflow-wrap:anywhere; word-break:break-word;">{{.Who}}</p>
{{if .State}}<p style="margin:0 0 12px; color:#3c4043;">Incident: <b>{{.State}}</b></p>
{{end}}{{if .Info}}<p style="margin:0 0 12px; color:#137333;">` + infoLine + `</p>
{{end}}{{if .Change}}<p style="margin:0 0 12px;"><b>{{.Change}}</b></p>
{{end}}{{range .Body}}<p style="margin:0 0 12px; overflow-wrap:anywhere; word-break:break-word;">{{.}}</p>
{{end}}{{if .Items}}<h2 style="margin:16px 0 4px; font-size:16px;">Items ({{.ItemsHeading}})</h2>
<ul style="margin:0 0 12px; padding-left:18px;">{{range .Items}}<li style="overflow-wrap:anywhere; word-break:break-word;">{{.}}</li>{{end}}</ul>
{{end}}{{if .Description}}<h2 style="margin:16px 0 4px; font-size:16px;">Meta's description</h2>
<div style="margin:0 0 12px; padding:8px 12px; border-left:3px solid #dadce0; background-color:#f8f9fa;">
{{range .Description}}<p style="margin:0 0 4px; overflow-wrap:anywhere; word-break:break-word;">{{.}}</p>
{{end}}</div>
{{end}}{{if .Links}}<p style="margin:16px 0 8px;">{{range .Links}}<a href="{{.URL}}" style="display:inline-block; margin:0 8px 8px 0; padding:10px 16px; border-radius:6px; background-color:#0b5c47; color:#ffffff; font-weight:bold; text-decoration:none;">{{.Label}}</a>
{{end}}</p>
{{end}}<h2 style="margin:16px 0 4px; font-size:16px;">Details</h2>
<table class="facts" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse; font-size:14px;">
{{range .Rows}}<tr><th align="left" valign="top" width="35%" style="padding:6px 12px 6px 0; border-top:1px solid #e8eaed; color:#5f6368; font-weight:normal;">{{.Name}}</th><td valign="top" style="padding:6px 0; border-top:1px solid #e8eaed; overflow-wrap:anywhere; word-break:break-word;">{{if .List}}<ul style="margin:0; padding-left:18px;">{{range .Values}}<li>{{.}}</li>{{end}}</ul>{{else}}{{index .Values 0}}{{end}}</td></tr>
{{end}}</table>
<p style="margin:16px 0 0; font-size:12px; color:#5f6368;">wabarouter notification {{.ID}}</p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`))

// TextBody renders n as plain text, whole on its own: what happened, to
// whom, Meta's words, what to do and where, then the facts.
func TextBody(n notification.Notification) (string, error) {
	var b bytes.Buffer
	if err := textTmpl.Execute(&b, newView(n)); err != nil {
		return "", fmt.Errorf("render text body: %w", err)
	}
	return b.String(), nil
}

// HTMLBody renders n as the mail's HTML part, escaped, exactly as the
// sink sends it (the docs' pictures of a mail are taken of it).
func HTMLBody(n notification.Notification) (string, error) {
	var b bytes.Buffer
	if err := htmlTmpl.Execute(&b, newView(n)); err != nil {
		return "", fmt.Errorf("render HTML body: %w", err)
	}
	return b.String(), nil
}
