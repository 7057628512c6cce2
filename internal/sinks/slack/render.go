package slack

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// Slack's Block Kit limits.
const (
	maxHeader  = 150
	maxField   = 2000
	maxSection = 3000
	maxFields  = 10
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

// Title is the header text: severity emoji, "Resolved:" for resolves,
// "[TEST]" for notify-test, then the title, cut to Slack's 150 chars.
func Title(n notification.Notification) string {
	t := Emoji(n.Severity) + " "
	if n.Test {
		t += "[TEST] "
	}
	if n.Action == notification.Resolve {
		t += "Resolved: "
	}
	return sinks.Truncate(t+n.Title, maxHeader)
}

// escape makes text safe inside mrkdwn.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// Blocks renders n as Block Kit blocks.
func Blocks(n notification.Notification) []slack.Block {
	ev := n.Event
	var fields []*slack.TextBlockObject
	for _, f := range sinks.Facts(n) {
		if len(fields) == maxFields {
			break
		}
		fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType,
			sinks.Truncate("*"+f.Name+"*\n"+escape(f.Value), maxField), false, false))
	}

	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, Title(n), true, false)),
	}
	if len(fields) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	}
	if strings.TrimSpace(n.Body) != "" {
		blocks = append(blocks, slack.NewSectionBlock(
			slack.NewTextBlockObject(slack.MarkdownType, sinks.Truncate(escape(n.Body), maxSection), false, false), nil, nil))
	}
	ctx := []string{}
	if !ev.Time.IsZero() {
		ctx = append(ctx, "Event time "+utc(ev.Time))
	}
	if n.Suppressed > 0 {
		s := fmt.Sprintf("%d more", n.Suppressed)
		if !n.SuppressedSince.IsZero() {
			s += " since " + n.SuppressedSince.UTC().Format("15:04 UTC")
		}
		ctx = append(ctx, s)
	}
	ctx = append(ctx, "Notification "+escape(n.ID))
	blocks = append(blocks, slack.NewContextBlock("",
		slack.NewTextBlockObject(slack.MarkdownType, strings.Join(ctx, " · "), false, false)))
	return blocks
}

// Attachment wraps n's blocks in an attachment coloured by severity.
func Attachment(n notification.Notification) slack.Attachment {
	return slack.Attachment{
		Color:    Color(n.Severity),
		Fallback: Title(n),
		Blocks:   slack.Blocks{BlockSet: Blocks(n)},
	}
}
