package slack

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// Slack's Block Kit limits, in characters.
const (
	maxHeader  = 150  // a header block's text
	maxField   = 2000 // each field of a section
	maxSection = 3000 // a section's text, and any text object's
	maxFields  = 10   // fields per section
	// maxID bounds the notification ID quoted in the context line.
	maxID = 200
)

// Emoji returns the shortcode shown for a severity.
func Emoji(s notification.Severity) string {
	switch s {
	case notification.Critical:
		return ":rotating_light:"
	case notification.Error:
		return ":red_circle:"
	case notification.Warning:
		return ":warning:"
	default:
		return ":information_source:"
	}
}

// Color returns the attachment colour for a severity.
func Color(s notification.Severity) string {
	switch s {
	case notification.Critical:
		return "#d00000"
	case notification.Error:
		return "#e8590c"
	case notification.Warning:
		return "#f2c744"
	default:
		return "#2eb67d"
	}
}

// Title is the header text, also the message's top-level text and the
// attachment's fallback: severity emoji, "Resolved:" for resolves,
// "[TEST]" for notify-test, then the title, made safe by Text and cut to
// Slack's 150 characters for a header.
func Title(n notification.Notification) string {
	t := Emoji(n.Severity) + " "
	if n.Test {
		t += "[TEST] "
	}
	if n.Action == notification.Resolve {
		t += "Resolved: "
	}
	return Text(t+n.Title, maxHeader)
}

// Text is the one step every string Slack reads goes through, wherever it
// is placed (top-level text, fallback, header, fields, sections,
// context): bidi controls are removed (see sinks.StripBidi), and &, <
// and > become &amp;, &lt; and &gt;, which Slack decodes for display in
// every text, plain or mrkdwn. So no <!channel>, <!here>, <@U123> or
// <https://evil.example|click here> in text Meta relays can ping anyone
// or disguise a link. The result is at most max characters as Slack
// counts them (UTF-16 units), escaped; when the text is longer it is cut
// between two of its characters, never inside an entity, and ends with
// "…".
func Text(s string, max int) string {
	s = sinks.StripBidi(s)
	var b strings.Builder
	used := 0
	for i, r := range s {
		piece := string(r)
		switch r {
		case '&':
			piece = "&amp;"
		case '<':
			piece = "&lt;"
		case '>':
			piece = "&gt;"
		}
		n := units(piece)
		// Keep room for the ellipsis unless this is the last character.
		room := max - 1
		if i+utf8.RuneLen(r) == len(s) {
			room = max
		}
		if used+n > room {
			if max > 0 {
				b.WriteString("…")
			}
			return b.String()
		}
		b.WriteString(piece)
		used += n
	}
	return b.String()
}

// units counts s as Slack counts characters: in UTF-16 code units.
func units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// Blocks renders n as Block Kit blocks: the header, the incident's state
// when n belongs to one (for an incoming webhook's follow-up, first the
// incident it follows), the event's main fields, the body and a context
// line.
func Blocks(n notification.Notification) []slack.Block {
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, Title(n), true, false)),
	}
	if state := incidentLine(n); state != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(state)))
	}
	return append(blocks, details(n)...)
}

// details are the blocks after the header: the event's fields, the body
// and the context line.
func details(n notification.Notification) []slack.Block {
	ev := n.Event
	var fields []*slack.TextBlockObject
	for _, f := range sinks.Facts(n) {
		if len(fields) == maxFields {
			break
		}
		label := "*" + Text(f.Name, maxField/4) + "*\n"
		fields = append(fields, mrkdwn(label+Text(f.Value, maxField-units(label))))
	}
	var blocks []slack.Block
	if len(fields) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	}
	if strings.TrimSpace(n.Body) != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(Text(n.Body, maxSection)), nil, nil))
	}
	ctx := []string{}
	if !ev.Time.IsZero() {
		ctx = append(ctx, "Event time "+sinks.UTC(ev.Time))
	}
	if n.Suppressed > 0 {
		s := fmt.Sprintf("%d more", n.Suppressed)
		if !n.SuppressedSince.IsZero() {
			s += " since " + n.SuppressedSince.UTC().Format("15:04 UTC")
		}
		ctx = append(ctx, s)
	}
	ctx = append(ctx, "Notification "+Text(n.ID, maxID))
	return append(blocks, slack.NewContextBlock("", mrkdwn(strings.Join(ctx, " · "))))
}

// incidentLine is the incident's state as one mrkdwn line ("*State* Open
// (escalated) · *Severity* error · *Events* 3 · …"), "" outside any
// incident. Each value is
// escaped and cut once; the names are sinks.IncidentFacts' own few short
// words, so the line stays far within a context element's 3,000.
func incidentLine(n notification.Notification) string {
	facts := sinks.IncidentFacts(n)
	if len(facts) == 0 {
		return ""
	}
	parts := make([]string, 0, len(facts)+1)
	for i, f := range facts {
		parts = append(parts, "*"+Text(f.Name, maxID)+"* "+Text(f.Value, maxID))
		if i == 0 {
			parts = append(parts, "*Severity* "+n.Severity.String())
		}
	}
	return strings.Join(parts, " · ")
}

// mrkdwn is a mrkdwn text object for text already made safe by Text.
// Verbatim stops Slack from turning bare channel names, @mentions and
// URLs in it into live ones.
func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, true)
}

// resolvedColor is the colour of a resolved incident's message: green.
const resolvedColor = "#2eb67d"

// color is the attachment colour of n: green once its incident is
// resolved, else its severity's.
func color(n notification.Notification) string {
	if n.Action == notification.Resolve {
		return resolvedColor
	}
	return Color(n.Severity)
}

// Attachment wraps n's blocks in an attachment coloured by severity, or
// green for a resolve. It is a bot's root message about an incident, as
// first posted and as every later transition updates it, and every
// message of an incoming webhook.
func Attachment(n notification.Notification) slack.Attachment {
	return slack.Attachment{
		Color:    color(n),
		Fallback: Title(n),
		Blocks:   slack.Blocks{BlockSet: Blocks(n)},
	}
}

// Reply is what a bot posts in an incident's thread for a later
// transition: what changed (the change is also its text, which Slack
// shows in notifications), the body, and the context line.
func Reply(n notification.Notification) slack.Attachment {
	change := Text(sinks.Change(n), maxSection-2)
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn("*"+change+"*"), nil, nil)}
	if body := sinks.Body(n); body != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(Text(body, maxSection)), nil, nil))
	}
	ctx := []string{}
	if inc := n.Incident; inc != nil {
		ctx = append(ctx, fmt.Sprintf("Events %d", inc.Count))
		if !inc.LastSeen.IsZero() {
			ctx = append(ctx, "Last seen "+sinks.UTC(inc.LastSeen))
		}
	}
	ctx = append(ctx, "Notification "+Text(n.ID, maxID))
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(strings.Join(ctx, " · "))))
	return slack.Attachment{
		Color:    color(n),
		Fallback: replyText(n),
		Blocks:   slack.Blocks{BlockSet: blocks},
	}
}

// replyText is a thread reply's top-level text: the severity's emoji (a
// check mark for the resolve) and what changed, cut as a header is.
func replyText(n notification.Notification) string {
	emoji := Emoji(n.Severity)
	if n.Action == notification.Resolve {
		emoji = ":white_check_mark:"
	}
	return Text(emoji+" "+sinks.Change(n), maxHeader)
}

// FollowUp is what an incoming webhook, which can neither update nor
// thread, posts for a later transition: the message Attachment renders,
// opening with a line naming the incident it follows ("Update on the
// incident opened 2026-11-23 14:02:03 UTC: Escalated: …"). For the
// opening, or outside any incident, it is Attachment(n).
func FollowUp(n notification.Notification) slack.Attachment {
	att := Attachment(n)
	inc := n.Incident
	if !sinks.FollowUp(n) {
		return att
	}
	line := "Update on the incident opened " + sinks.UTC(inc.OpenedAt) + ": " + sinks.Change(n)
	if inc.OpenedAt.IsZero() {
		line = "Update on incident " + inc.ID + ": " + sinks.Change(n)
	}
	lead := slack.NewSectionBlock(mrkdwn("*"+Text(line, maxSection-2)+"*"), nil, nil)
	blocks := att.Blocks.BlockSet
	att.Blocks.BlockSet = append([]slack.Block{blocks[0], lead}, blocks[1:]...)
	return att
}
