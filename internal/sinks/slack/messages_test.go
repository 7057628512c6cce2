package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/messagetest"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// fixture is one notification the sweep renders.
type fixture struct {
	Name         string
	Notification notification.Notification
}

// fixtures are every webhook fixture as the router hands it to a sink
// (see messagetest), and notifications built to strain the renderer.
func fixtures(t testing.TB) []fixture {
	t.Helper()
	var fs []fixture
	for _, f := range messagetest.Fixtures(t) {
		fs = append(fs, fixture{f.Name, f.Notification})
	}
	names := make([]string, 0, len(hostileNotifications()))
	for name := range hostileNotifications() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fs = append(fs, fixture{name, hostileNotifications()[name]})
	}
	return fs
}

// directoryAlert is an account alert on an account the directory names,
// with Meta's description and a runbook.
func directoryAlert() notification.Notification {
	n := sinkstest.QualityRed()
	n.Event.Account = event.Account{Name: "Acme Retail EU", Team: "eu-support", PhoneLabel: "support line"}
	n.Event.AlertDescription = "Your phone number's quality rating dropped to low. Messages that users block or report lower it."
	n.Runbook = "https://wiki.example.com/runbooks/quality?step=1&lang=en"
	return n
}

// hostileNotifications are the notifications that strain the renderer:
// a description of several sections, 100 restrictions, bidi controls,
// mrkdwn and mentions everywhere, good news outside any incident, no
// WABA id, a failed message's error details, a runbook that is no URL.
func hostileNotifications() map[string]notification.Notification {
	long := sinkstest.AccountAlert()
	long.Action = notification.Trigger
	long.Severity = notification.Warning
	var b strings.Builder
	for i := 0; b.Len() < 7000; i++ {
		fmt.Fprintf(&b, "Sentence %d of Meta's long explanation, with a&b and <placeholders>.", i)
		if i%9 == 8 {
			b.WriteString("\n\n")
		} else {
			b.WriteString(" ")
		}
	}
	long.Event.AlertDescription = b.String()

	many := sinkstest.Restriction()
	many.Event.Restrictions = nil
	for i := 0; i < 100; i++ {
		many.Event.Restrictions = append(many.Event.Restrictions, event.Restriction{
			Type: fmt.Sprintf("RESTRICTED_KIND_%03d", i), Expiration: sinkstest.Time.Add(time.Duration(i) * time.Hour)})
	}

	bidi := directoryAlert()
	bidi.Title = "Quality \u202eDER si\u202c of +1 650-555-1234"
	bidi.Event.Account.Name = "Acme \u202eUE liateR\u202c"
	bidi.Event.AlertDescription = "Rating \u2067low\u2069 \u200f now"

	change := sinkstest.TemplatePaused()
	change.Action = notification.Change
	change.Severity = notification.Info
	change.Title = "Template order_update (en_US) approved"
	change.Body = "Meta approved the template; it can be sent again."
	change.Event.Event = "APPROVED"
	change.Event.OtherInfo = event.OtherInfo{Title: "FIRST_APPROVAL", Description: "The template passed review."}
	change.Event.Account = event.Account{Name: "Acme Retail EU"}

	noWaba := sinkstest.Ban()
	noWaba.Event.WabaID = ""

	failed := sinkstest.QualityRed()
	failed.Title = "Message to +1 650-555-9999 failed"
	failed.Event.Field = "messages"
	failed.Event.Errors = []event.MessageError{{Code: 131049, Title: "Message not delivered to maintain healthy ecosystem engagement.",
		Details: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."}}

	badRunbook := directoryAlert()
	badRunbook.Runbook = "javascript:alert(1) <!channel>"

	return map[string]notification.Notification{
		"directory":         directoryAlert(),
		"long_description":  long,
		"restrictions_100":  many,
		"bidi":              bidi,
		"mrkdwn_injection":  hostileAlert(),
		"change":            change,
		"no_waba_id":        noWaba,
		"message_failed":    failed,
		"runbook_not_a_url": badRunbook,
	}
}

// hugeAlert is hostileAlert grown past every limit: it cannot be shown
// whole and must be cut.
func hugeAlert() notification.Notification {
	n := hostileAlert()
	n.Title = strings.Repeat("<", 600_000)
	n.Body = strings.Repeat("&description ", 100_000)
	n.Event.AlertDescription = strings.Repeat("Meta & <you> ", 100_000)
	n.Event.TemplateName = strings.Repeat("t&", 300_000)
	n.Event.Reason = strings.Repeat("é", 600_000)
	n.Event.Account = event.Account{Name: strings.Repeat("Acme ", 10_000), Team: strings.Repeat("&", 5000), PhoneLabel: strings.Repeat("😀", 5000)}
	n.Event.PhoneNumber = "16505551234"
	for i := 0; i < 10_000; i++ {
		n.Event.Restrictions = append(n.Event.Restrictions, event.Restriction{Type: "RESTRICTED_" + strings.Repeat("X", 300), Expiration: sinkstest.Time})
	}
	n.ID = strings.Repeat("i", 10_000)
	n.Runbook = "https://wiki.example.com/" + strings.Repeat("a", 5000)
	n.Incident = &notification.Incident{ID: strings.Repeat("&", 5000), Transition: notification.Escalated, State: notification.Open,
		Count: 3, OpenedAt: sinkstest.Time, LastSeen: sinkstest.Time, Changes: []string{strings.Repeat("<!here>", 10_000)}}
	return n
}

// textObject reads a Block Kit text object.
func textObject(v any) (typ, text string, ok bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", "", false
	}
	typ, _ = m["type"].(string)
	text, ok = m["text"].(string)
	return typ, text, ok && (typ == "plain_text" || typ == "mrkdwn")
}

// checkLimits fails t where the message raw (chat.postMessage's or an
// incoming webhook's JSON) breaks one of Slack's limits: top-level text
// present and at most 40,000; at most 50 blocks, in the message and in
// each attachment; a header's plain text at most 150; a section's text
// at most 3,000, its fields at most 10 of 2,000 each; a context's
// elements at most 10 of 3,000; buttons with a plain text of at most
// 75, an http(s) url of at most 3,000 and an action_id unique in the
// message; no empty text anywhere; and all the blocks' text together
// within maxBlocksText, below where Slack answers msg_blocks_too_long.
func checkLimits(t testing.TB, raw []byte) {
	t.Helper()
	var m struct {
		Text        *string          `json:"text"`
		Blocks      []map[string]any `json:"blocks"`
		Attachments []struct {
			Blocks []map[string]any `json:"blocks"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("message %.300s: %v", raw, err)
	}
	if m.Text == nil || *m.Text == "" || slackLen(*m.Text) > maxText {
		t.Errorf("top-level text missing or too long: %.100v", m.Text)
	}
	if len(m.Blocks) == 0 {
		t.Errorf("no blocks at the top level")
	}
	total := 0
	actionIDs := map[string]bool{}
	text := func(where string, v any, wantType string, limit int) {
		typ, s, ok := textObject(v)
		switch {
		case !ok:
			t.Errorf("%s: no text object: %v", where, v)
		case wantType != "" && typ != wantType:
			t.Errorf("%s: a %s text, want %s", where, typ, wantType)
		case s == "" || slackLen(s) > limit:
			t.Errorf("%s: text of %d characters, limit %d: %.80q", where, slackLen(s), limit, s)
		}
		total += slackLen(s)
	}
	blocks := func(where string, bs []map[string]any) {
		if len(bs) > maxBlocks {
			t.Errorf("%s: %d blocks, limit %d", where, len(bs), maxBlocks)
		}
		for i, b := range bs {
			w := fmt.Sprintf("%s block %d (%v)", where, i, b["type"])
			switch b["type"] {
			case "header":
				text(w, b["text"], "plain_text", maxHeader)
			case "section":
				fields, _ := b["fields"].([]any)
				if b["text"] == nil && len(fields) == 0 {
					t.Errorf("%s: neither text nor fields", w)
				}
				if b["text"] != nil {
					text(w, b["text"], "", maxSection)
				}
				if len(fields) > maxFields {
					t.Errorf("%s: %d fields, limit %d", w, len(fields), maxFields)
				}
				for j, f := range fields {
					text(fmt.Sprintf("%s field %d", w, j), f, "", maxField)
				}
			case "context":
				els, _ := b["elements"].([]any)
				if len(els) == 0 || len(els) > 10 {
					t.Errorf("%s: %d elements", w, len(els))
				}
				for j, e := range els {
					text(fmt.Sprintf("%s element %d", w, j), e, "", maxSection)
				}
			case "actions":
				els, _ := b["elements"].([]any)
				if len(els) == 0 || len(els) > 25 {
					t.Errorf("%s: %d elements", w, len(els))
				}
				for j, e := range els {
					ew := fmt.Sprintf("%s element %d", w, j)
					btn, _ := e.(map[string]any)
					if btn["type"] != "button" {
						t.Errorf("%s: %v, want a button", ew, btn["type"])
						continue
					}
					text(ew, btn["text"], "plain_text", maxButtonText)
					id, _ := btn["action_id"].(string)
					if id == "" || actionIDs[id] {
						t.Errorf("%s: action_id %q missing or used twice", ew, id)
					}
					actionIDs[id] = true
					u, _ := btn["url"].(string)
					if p, err := url.Parse(u); err != nil || len(u) > maxButtonURL || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
						t.Errorf("%s: url %.80q (%d characters) Slack would refuse", ew, u, len(u))
					}
				}
			default:
				t.Errorf("%s: a block type the sink does not write", w)
			}
		}
	}
	blocks("message", m.Blocks)
	for i, a := range m.Attachments {
		blocks(fmt.Sprintf("attachment %d", i), a.Blocks)
	}
	if total > maxBlocksText {
		t.Errorf("the blocks' texts are %d characters together, limit %d", total, maxBlocksText)
	}
}

// blocksOf decodes the top-level blocks of a message's JSON.
func blocksOf(t testing.TB, raw []byte) []map[string]any {
	t.Helper()
	var m struct {
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("message %.300s: %v", raw, err)
	}
	return m.Blocks
}

// shown collects the strings of a decoded message Slack displays:
// every one but the buttons' urls, which it does not read as mrkdwn.
func shown(v any, out *[]string) {
	switch t := v.(type) {
	case string:
		*out = append(*out, t)
	case map[string]any:
		for k, x := range t {
			if k != "url" {
				shown(x, out)
			}
		}
	case []any:
		for _, x := range t {
			shown(x, out)
		}
	}
}

var unescape = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// descriptionOf is Meta's description as a message shows it: the text
// of the section opening with its heading and of the sections that
// follow it, joined, unescaped, with runs of white space as one space;
// "" when the message has none.
func descriptionOf(t testing.TB, raw []byte) string {
	t.Helper()
	var parts []string
	in := false
	for _, b := range blocksOf(t, raw) {
		_, s, _ := textObject(b["text"])
		if b["type"] != "section" {
			if in {
				break
			}
			continue
		}
		if rest, ok := strings.CutPrefix(s, descriptionHeading); ok {
			in, s = true, rest
		}
		if in {
			parts = append(parts, s)
		}
	}
	return strings.Join(strings.Fields(unescape.Replace(strings.Join(parts, " "))), " ")
}

// topTexts is every text of the message's top-level blocks, joined.
func topTexts(t testing.TB, raw []byte) string {
	t.Helper()
	var texts []string
	for _, b := range blocksOf(t, raw) {
		var v any = b
		strs(v, &texts)
	}
	return strings.Join(texts, "\n")
}

// buttonURLs are the urls of the message's buttons by action_id.
func buttonURLs(t testing.TB, raw []byte) map[string]string {
	t.Helper()
	urls := map[string]string{}
	for _, b := range blocksOf(t, raw) {
		if b["type"] != "actions" {
			continue
		}
		els, _ := b["elements"].([]any)
		for _, e := range els {
			btn, _ := e.(map[string]any)
			id, _ := btn["action_id"].(string)
			urls[id], _ = btn["url"].(string)
		}
	}
	return urls
}

// TestMessagesSweep: for every fixture, the root message (as posted and
// as updated), an incoming webhook's follow-up and a thread reply stay
// within Slack's limits; the root and the follow-up name the account as
// people know it, say the severity in words, carry Meta's description
// whole and offer WhatsApp Manager (and the runbook, when there is one)
// as buttons; a change reads as information, with no incident state.
func TestMessagesSweep(t *testing.T) {
	for _, f := range fixtures(t) {
		n := f.Notification
		t.Run(f.Name, func(t *testing.T) {
			renders := map[string]Message{"root": Root(n)}
			if sinks.FollowUp(n) {
				renders["followup"], renders["reply"] = FollowUp(n), Reply(n)
			}
			for kind, m := range renders {
				raw, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				t.Run(kind, func(t *testing.T) {
					checkLimits(t, raw)
					var v any
					if err := json.Unmarshal(raw, &v); err != nil {
						t.Fatal(err)
					}
					var texts []string
					shown(v, &texts)
					checkInert(t, texts)
					if kind == "reply" {
						return
					}
					checkRoot(t, n, raw)
				})
			}
		})
	}
}

// checkRoot checks what a reader needs of n's message raw.
func checkRoot(t *testing.T, n notification.Notification, raw []byte) {
	t.Helper()
	texts := topTexts(t, raw)
	shown := unescape.Replace(texts)
	who := n.Event.Account.Name
	if who == "" {
		who = "WABA " + n.Event.WabaID
		if n.Event.WabaID == "" {
			who = "WABA (id not sent)"
		}
	}
	if !strings.Contains(shown, sinks.StripBidi(who)) {
		t.Errorf("the message does not name the account %q:\n%s", who, texts)
	}
	if !strings.Contains(texts, "*"+n.Severity.Word()+"*") {
		t.Errorf("the message does not say %q:\n%s", n.Severity.Word(), texts)
	}
	urls := buttonURLs(t, raw)
	if want := sinks.ManagerURL(n); urls["manager"] != want {
		t.Errorf("the WhatsApp Manager button links to %q, want %q", urls["manager"], want)
	}
	if want := n.Runbook; want != "" && buttonURL(want) && urls["runbook"] != want {
		t.Errorf("the runbook button links to %q, want %q", urls["runbook"], want)
	}
	if n.Runbook != "" && !buttonURL(n.Runbook) && (urls["runbook"] != "" || !strings.Contains(shown, sinks.StripBidi(n.Runbook))) {
		t.Errorf("a runbook that is no URL (%q) is a button or not shown at all:\n%s", n.Runbook, texts)
	}
	if want := strings.Join(strings.Fields(sinks.Description(n)), " "); descriptionOf(t, raw) != want {
		t.Errorf("Meta's description arrived as\n%q\nwant it whole:\n%q", descriptionOf(t, raw), want)
	}
	switch {
	case n.Incident != nil && !strings.Contains(texts, events(n.Incident.Count)):
		t.Errorf("the incident's count of events is missing:\n%s", texts)
	case n.Incident == nil && strings.Contains(texts, "*Open"):
		t.Errorf("a notification outside any incident shows an incident state:\n%s", texts)
	case n.Action == notification.Change && !strings.Contains(texts, "for your information, no incident"):
		t.Errorf("a change does not read as information:\n%s", texts)
	}
}

// TestFixturesReachSlack: every fixture, posted by a bot and by an
// incoming webhook to slacktest's server, is accepted and arrives as
// Root renders it: text, blocks and attachments.
func TestFixturesReachSlack(t *testing.T) {
	f := e2etest.ServeSlack(t, token, nil)
	bot := botSink(t, f, "C0ALERTS")
	hook, err := New(Config{WebhookURL: f.WebhookURL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hook.Close()
	fs := fixtures(t)
	for _, fx := range fs {
		n := fx.Notification
		// A fresh incident for each, so the bot posts a root every time.
		if n.Incident != nil {
			inc := *n.Incident
			inc.Transition, inc.ID = notification.Opened, "inc-"+fx.Name
			n.Incident = &inc
		}
		for _, s := range []*Sink{bot, hook} {
			if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
				t.Fatalf("%s: %v", fx.Name, err)
			}
		}
	}
	got := f.Received()
	if len(got) != 2*len(fs) {
		t.Fatalf("%d messages, want %d:\n%s", len(got), 2*len(fs), f.Report())
	}
	for i, m := range got {
		fx := fs[i/2]
		n := fx.Notification
		if n.Incident != nil {
			inc := *n.Incident
			inc.Transition, inc.ID = notification.Opened, "inc-"+fx.Name
			n.Incident = &inc
		}
		received, err := json.Marshal(Message{Text: m.Text, Blocks: m.Blocks.BlockSet, Attachments: m.Attachments})
		if err != nil {
			t.Fatal(err)
		}
		want, err := Payload(n)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fx.Name+"_"+m.Via, func(t *testing.T) {
			sameJSON(t, received, want)
			checkLimits(t, received)
		})
	}
	if n, reasons := f.Refusals(); n > 0 {
		t.Errorf("refused: %q", reasons)
	}
}

// TestChangeIsInformation: good news outside any incident is a green
// post that says so, with no incident state, count or times.
func TestChangeIsInformation(t *testing.T) {
	n := hostileNotifications()["change"]
	m := Root(n)
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	texts := topTexts(t, raw)
	if m.Attachments[0].Color != resolvedColor || !strings.Contains(texts, ":information_source: *Info* · for your information, no incident") ||
		strings.Contains(texts, "Opened") || strings.Contains(texts, "event") {
		t.Errorf("colour %s, blocks:\n%s", m.Attachments[0].Color, texts)
	}
	if m.Text != "Info: Template order_update (en_US) approved — Acme Retail EU" {
		t.Errorf("text %q", m.Text)
	}
}

// TestTimesInReadersZone: every time a message shows is a Slack date
// token with the UTC fallback, never a bare UTC time of the sink's own.
func TestTimesInReadersZone(t *testing.T) {
	n := sinkstest.Lifecycle()[3]
	n.Event.Restrictions = []event.Restriction{{Type: "RESTRICTED_BIZ_INITIATED_MESSAGING", Expiration: time.Date(2026, 11, 30, 14, 2, 3, 0, time.UTC)}}
	raw, err := json.Marshal(FollowUp(n))
	if err != nil {
		t.Fatal(err)
	}
	all := string(raw)
	for _, want := range []string{
		"Opened <!date^1795442523^{date_short_pretty} {time}|2026-11-23 14:02 UTC>",
		"Resolved <!date^1795443123^{date_short_pretty} {time}|2026-11-23 14:12 UTC>",
		"Event time <!date^1795443123^{date_short_pretty} {time}|2026-11-23 14:12 UTC>",
		"RESTRICTED_BIZ_INITIATED_MESSAGING until <!date^1796047323^{date_short_pretty} {time}|2026-11-30 14:02 UTC>",
		"Update on the incident opened <!date^1795442523^",
	} {
		if !strings.Contains(unescapeJSON(all), want) {
			t.Errorf("no %q in\n%s", want, unescapeJSON(all))
		}
	}
	// Times Meta's texts and the rules' bodies quote stay as they are;
	// the sink's own facts and lines write no bare UTC time.
	for _, b := range blocksOf(t, raw) {
		if b["type"] == "context" {
			if s := dateToken.ReplaceAllString(fmt.Sprint(b), ""); strings.Contains(s, " UTC") {
				t.Errorf("a bare UTC time in %s", s)
			}
		}
	}
}

// unescapeJSON undoes encoding/json's escaping of <, > and &.
func unescapeJSON(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(s)
}

// TestPayload: Payload is the root message's JSON, as the bot posts it.
func TestPayload(t *testing.T) {
	n := directoryAlert()
	raw, err := Payload(n)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Text        string            `json:"text"`
		Blocks      []json.RawMessage `json:"blocks"`
		Attachments []json.RawMessage `json:"attachments"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Text != "Error: Quality of +1 650-555-1234 is RED — Acme Retail EU" || len(m.Blocks) < 4 || len(m.Attachments) != 1 {
		t.Errorf("payload %s", raw)
	}
	checkLimits(t, raw)
	reply, err := ReplyPayload(sinkstest.Lifecycle()[2])
	if err != nil {
		t.Fatal(err)
	}
	checkLimits(t, reply)
}
