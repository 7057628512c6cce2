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
	s := "[" + strings.ToUpper(n.Severity.String()) + "] "
	if n.Test {
		s += "[TEST] "
	}
	if n.Action == notification.Resolve {
		s += "Resolved: "
	}
	return sinks.Truncate(strings.Join(strings.Fields(sinks.StripBidi(s+n.Title)), " "), maxSubject-len("Re: "))
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

type row struct{ Name, Value string }

type view struct {
	Subject    string
	Change     string
	Body       string
	Rows       []row
	EventTime  string
	Suppressed string
	ManagerURL string
	ID         string
}

func newView(n notification.Notification) view {
	ev := n.Event
	v := view{Subject: Subject(n), Body: sinks.Truncate(sinks.StripBidi(sinks.Body(n)), maxBody), ID: sinks.Truncate(n.ID, maxFact)}
	if sinks.FollowUp(n) {
		v.Change = sinks.Truncate(sinks.StripBidi(sinks.Change(n)), maxFact)
	}
	v.Rows = append(v.Rows, row{"Severity", n.Severity.String()})
	for _, f := range append(sinks.Facts(n), sinks.IncidentFacts(n)...) {
		v.Rows = append(v.Rows, row{f.Name, sinks.Truncate(sinks.StripBidi(f.Value), maxFact)})
	}
	if !ev.Time.IsZero() {
		v.EventTime = ev.Time.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if n.Suppressed > 0 {
		v.Suppressed = fmt.Sprintf("%d more", n.Suppressed)
		if !n.SuppressedSince.IsZero() {
			v.Suppressed += " since " + n.SuppressedSince.UTC().Format("15:04 UTC")
		}
	}
	if ev.WabaID != "" {
		v.ManagerURL = "https://business.facebook.com/wa/manage/home/?waba_id=" + ev.WabaID
	}
	return v
}

var textTmpl = texttemplate.Must(texttemplate.New("text").Parse(`{{.Subject}}
{{if .Change}}
{{.Change}}
{{end}}{{if .Body}}
{{.Body}}
{{end}}
{{range .Rows}}{{printf "%-13s" (print .Name ":")}} {{.Value}}
{{end}}{{if .EventTime}}Event time:   {{.EventTime}}
{{end}}{{if .Suppressed}}Repeats:      {{.Suppressed}}
{{end}}{{if .ManagerURL}}
Open in WhatsApp Manager: {{.ManagerURL}}
{{end}}
-- 
wabarouter notification {{.ID}}
`))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html>
<body style="font-family: sans-serif">
<h2>{{.Subject}}</h2>
{{if .Change}}<p><b>{{.Change}}</b></p>
{{end}}{{if .Body}}<p>{{.Body}}</p>
{{end}}<table cellpadding="4">
{{range .Rows}}<tr><th align="left">{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}{{if .EventTime}}<tr><th align="left">Event time</th><td>{{.EventTime}}</td></tr>
{{end}}{{if .Suppressed}}<tr><th align="left">Repeats</th><td>{{.Suppressed}}</td></tr>
{{end}}</table>
{{if .ManagerURL}}<p><a href="{{.ManagerURL}}">Open in WhatsApp Manager</a></p>
{{end}}<p style="color: #888">wabarouter notification {{.ID}}</p>
</body>
</html>
`))

// TextBody renders n as plain text.
func TextBody(n notification.Notification) (string, error) {
	var b bytes.Buffer
	if err := textTmpl.Execute(&b, newView(n)); err != nil {
		return "", fmt.Errorf("render text body: %w", err)
	}
	return b.String(), nil
}

// HTMLBody renders n as escaped HTML.
func HTMLBody(n notification.Notification) (string, error) {
	var b bytes.Buffer
	if err := htmlTmpl.Execute(&b, newView(n)); err != nil {
		return "", fmt.Errorf("render HTML body: %w", err)
	}
	return b.String(), nil
}
