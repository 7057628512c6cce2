package slack

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/words"
)

// Slack's Block Kit limits, in characters (UTF-16 units, as Slack
// counts them).
const (
	maxHeader     = 150   // a header block's text
	maxField      = 2000  // each field of a section
	maxSection    = 3000  // a section's text, and any text object's
	maxFields     = 10    // fields per section
	maxBlocks     = 50    // blocks per message (and per attachment)
	maxButtonText = 75    // a button's text
	maxButtonURL  = 3000  // a button's url
	maxText       = 40000 // a message's top-level text
	// maxBlocksText bounds all the text of a message's blocks together.
	// Slack refuses more with msg_blocks_too_long; the limit is not
	// documented and was seen at 11,000 to 13,000 characters, so stay
	// well below it.
	maxBlocksText = 10000
	// maxSummary bounds the top-level text: a notification's one line.
	maxSummary = 300
	// maxID bounds the notification and incident IDs quoted.
	maxID = 200
	// maxFacts bounds the details' fields together, leaving the rest of
	// maxBlocksText to Meta's description.
	maxFacts = 2500
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

// resolvedEmoji marks what a resolve says, in place of the severity's
// alarm: a reader woken at 3 a.m. sees at once it is good news.
const resolvedEmoji = ":white_check_mark:"

// emoji is n's emoji: its severity's, or a check mark for a resolve.
func emoji(n notification.Notification) string {
	if n.Action == notification.Resolve {
		return resolvedEmoji
	}
	return Emoji(n.Severity)
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

// resolvedColor is the colour of a resolved incident's message, and of
// good news outside any incident: green.
const resolvedColor = "#2eb67d"

// color is the colour bar of n: green once its incident is resolved or
// for a change, else its severity's.
func color(n notification.Notification) string {
	if n.Action == notification.Resolve || n.Action == notification.Change {
		return resolvedColor
	}
	return Color(n.Severity)
}

// Title is the header text, shown once at the top of the message: the
// emoji (a check mark for a resolve), "[TEST]" for notify-test,
// "Resolved:" for resolves, then the title, made safe by Text and cut to
// Slack's 150 characters for a header.
func Title(n notification.Notification) string {
	t := emoji(n) + " "
	if n.Test {
		t += "[TEST] "
	}
	if n.Action == notification.Resolve {
		t += "Resolved: "
	}
	return Text(t+n.Title, maxHeader)
}

// Summary is the message's top-level text, which Slack shows in
// notifications and reads to screen readers instead of the blocks: the
// severity in words (or "Resolved"), the title and the account's name,
// in one short line without emoji.
func Summary(n notification.Notification) string {
	s := ""
	if n.Test {
		s = "[TEST] "
	}
	if n.Action == notification.Resolve {
		s += "Resolved: "
	} else {
		s += n.Severity.Word() + ": "
	}
	s += n.Title
	if name := n.Event.Account.Name; name != "" {
		s += " — " + name
	}
	return Text(s, maxSummary)
}

// Text is the one step every string Slack reads goes through, wherever it
// is placed (top-level text, header, fields, sections, context, button
// text): bidi controls are removed (see sinks.StripBidi), and &, < and >
// become &amp;, &lt; and &gt;, which Slack decodes for display in every
// text, plain or mrkdwn. So no <!channel>, <!here>, <@U123> or
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
		piece := escapeRune(r)
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

// escapeRune is r as Slack must receive it in any text.
func escapeRune(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return string(r)
}

// units counts s as Slack counts characters: in UTF-16 code units.
func units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// Date is t in each reader's own time zone, as Slack's date token shows
// it ("Nov 23, 2026 3:02 PM" for a reader in Paris), falling back to UTC
// in clients that cannot ("2026-11-23 14:02 UTC"). It is markup the sink
// writes itself: put it next to text made safe by Text, never through it.
func Date(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), words.UTC(t))
}

// Message is one Slack message as the sink posts it (chat.postMessage,
// chat.update, an incoming webhook): the top-level text for
// notifications and screen readers, the blocks, and an attachment that
// carries the colour bar beside the details, never repeating the title.
type Message struct {
	Text        string             `json:"text"`
	Blocks      []slack.Block      `json:"blocks"`
	Attachments []slack.Attachment `json:"attachments,omitempty"`
}

// options are m as slack-go's message options.
func (m Message) options() []slack.MsgOption {
	return []slack.MsgOption{
		slack.MsgOptionText(m.Text, false),
		slack.MsgOptionBlocks(m.Blocks...),
		slack.MsgOptionAttachments(m.Attachments...),
	}
}

// webhook is m as an incoming webhook's JSON.
func (m Message) webhook() *slack.WebhookMessage {
	return &slack.WebhookMessage{Text: m.Text, Blocks: &slack.Blocks{BlockSet: m.Blocks}, Attachments: m.Attachments}
}

// Payload is the JSON of the message the sink posts first for n, and
// that a bot's root message is updated to (text, blocks, attachments;
// no channel), as chat.postMessage takes it: for the docs' pictures of
// what a channel shows.
func Payload(n notification.Notification) ([]byte, error) {
	b, err := json.MarshalIndent(Root(n), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode the Slack message of notification %s: %w", n.ID, err)
	}
	return b, nil
}

// ReplyPayload is the JSON of what a bot posts in an incident's thread
// for n, as Payload is of its root message.
func ReplyPayload(n notification.Notification) ([]byte, error) {
	b, err := json.MarshalIndent(Reply(n), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode the Slack thread reply of notification %s: %w", n.ID, err)
	}
	return b, nil
}

// Root renders n as the message about it: a bot's root message of an
// incident, as first posted and as every later transition updates it,
// and every message of an incoming webhook. Its blocks are the header,
// the severity in words with the incident's state and count and whom it
// is about, the incident's times, the body, Meta's own description in
// full (as far as Slack's limits allow) and buttons to WhatsApp Manager
// and the runbook; its attachment, coloured by severity (green once
// resolved), holds the event's details with their raw ids.
func Root(n notification.Notification) Message {
	return message(n, "")
}

// message is Root(n) with lead, when not "", as a bold line under the
// header.
func message(n notification.Notification, lead string) Message {
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, Title(n), true, false)),
	}
	if lead != "" {
		blocks = append(blocks, section(lead))
	}
	blocks = append(blocks, section(stateLine(n)+"\n"+Text(sinks.Who(n), 500)))
	if times := timesLine(n); times != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(times)))
	}
	if strings.TrimSpace(n.Body) != "" {
		blocks = append(blocks, section(Text(n.Body, maxSection)))
	}
	blocks = append(blocks, groupBlocks(n)...)
	buttons := links(n)
	att := attachment(n)
	used := textUnits(blocks) + textUnits(buttons) + textUnits(att.Blocks.BlockSet)
	room := maxBlocks - len(blocks) - len(buttons)
	blocks = append(blocks, description(sinks.Description(n), maxBlocksText-used, room)...)
	return Message{Text: Summary(n), Blocks: append(blocks, buttons...), Attachments: []slack.Attachment{att}}
}

// stateLine says how loud n is in words and, for an incident, its state
// and count: ":rotating_light: *Critical* · *Open (escalated)* · 3
// events", ":white_check_mark: *Resolved* · severity *Error* · 3 events",
// ":information_source: *Info* · for your information, no incident".
func stateLine(n notification.Notification) string {
	word := "*" + n.Severity.Word() + "*"
	inc := n.Incident
	switch {
	case inc != nil && (inc.State == notification.ResolvedState || n.Action == notification.Resolve):
		return emoji(n) + " *Resolved* · severity " + word + " · " + events(inc.Count)
	case inc != nil:
		state := "Open"
		if inc.Transition != notification.Opened && inc.Transition != "" {
			state += " (" + Text(string(inc.Transition), maxID) + ")"
		}
		return emoji(n) + " " + word + " · *" + state + "* · " + events(inc.Count)
	case n.Action == notification.Change:
		return emoji(n) + " " + word + " · for your information, no incident"
	case n.Action == notification.Resolve:
		return emoji(n) + " *Resolved* · severity " + word
	}
	return emoji(n) + " " + word
}

func events(n int) string {
	if n == 1 {
		return "1 event"
	}
	return fmt.Sprintf("%d events", n)
}

// timesLine is the incident's times and id in each reader's time zone
// ("Opened … · Last seen … · Resolved … · Incident inc-…"), "" outside
// any incident.
func timesLine(n notification.Notification) string {
	inc := n.Incident
	if inc == nil {
		return ""
	}
	var parts []string
	add := func(name string, t time.Time) {
		if !t.IsZero() {
			parts = append(parts, name+" "+Date(t))
		}
	}
	add("Opened", inc.OpenedAt)
	add("Last seen", inc.LastSeen)
	add("Resolved", inc.ResolvedAt)
	if inc.ID != "" {
		parts = append(parts, "Incident "+Text(inc.ID, maxID))
	}
	return strings.Join(parts, " · ")
}

// attachment is the colour bar and, beside it, the event's details: the
// facts with their raw ids and enum values, then the event's time,
// what dedup held back and the notification's id.
func attachment(n notification.Notification) slack.Attachment {
	blocks := factBlocks(n)
	ev := n.Event
	var ctx []string
	if !ev.Time.IsZero() {
		ctx = append(ctx, "Event time "+Date(ev.Time))
	}
	if n.Suppressed > 0 {
		s := fmt.Sprintf("%d more", n.Suppressed)
		if !n.SuppressedSince.IsZero() {
			s += " since " + Date(n.SuppressedSince)
		}
		ctx = append(ctx, s)
	}
	ctx = append(ctx, "Notification "+Text(n.ID, maxID))
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(strings.Join(ctx, " · "))))
	return slack.Attachment{
		Color:    color(n),
		Fallback: Text("Details: "+sinks.Who(n), maxHeader),
		Blocks:   slack.Blocks{BlockSet: blocks},
	}
}

// factBlocks are n's facts as sections of at most ten fields, all of
// them within maxFacts together: the phone number as people read it,
// times in the reader's zone, every other value as Meta sent it.
func factBlocks(n notification.Notification) []slack.Block {
	ev := n.Event
	facts := sinks.Facts(n)
	if ev.Account.Team != "" {
		facts = append([]sinks.Fact{{Name: "Team", Value: ev.Account.Team}}, facts...)
	}
	budget := maxFacts
	var fields []*slack.TextBlockObject
	for _, f := range facts {
		label := "*" + Text(f.Name, 100) + "*\n"
		room := min(maxField, budget) - units(label)
		if room < 20 {
			break
		}
		var value string
		switch f.Name {
		case "Phone number":
			value = Text(words.Phone(ev.PhoneNumber), room)
		case "Restrictions":
			value = restrictions(n, room)
		case "Ban":
			value = Text(ev.BanState, maxID)
			if !ev.BanDate.IsZero() {
				value += " on " + Date(ev.BanDate)
			}
		}
		if value == "" || units(value) > room {
			value = Text(f.Value, room)
		}
		text := label + value
		budget -= units(text)
		fields = append(fields, mrkdwn(text))
	}
	var blocks []slack.Block
	for len(fields) > 0 {
		k := min(len(fields), maxFields)
		blocks = append(blocks, slack.NewSectionBlock(nil, fields[:k], nil))
		fields = fields[k:]
	}
	return blocks
}

// restrictions lists the event's restrictions, one a line with its end
// in the reader's zone, within room; the ones that do not fit are
// counted ("… and 97 more").
func restrictions(n notification.Notification, room int) string {
	rs := n.Event.Restrictions
	more := func(k int) string { return fmt.Sprintf("… and %d more", k) }
	var lines []string
	used := 0
	for i, r := range rs {
		l := Text(r.Type, maxID)
		if !r.Expiration.IsZero() {
			l += " until " + Date(r.Expiration)
		}
		// Keep room to count the ones after this line.
		need := units(l) + 1
		if i < len(rs)-1 {
			need += units(more(len(rs) - i - 1))
		}
		if used+need > room {
			lines = append(lines, more(len(rs)-i))
			break
		}
		lines = append(lines, l)
		used += units(l) + 1
	}
	return strings.Join(lines, "\n")
}

// links are the buttons to WhatsApp Manager and to the runbook, in an
// actions block; none when n has neither. A runbook that is no http(s)
// URL Slack would take as a button's is named in a context line instead.
func links(n notification.Notification) []slack.Block {
	var buttons []slack.BlockElement
	var notes []slack.MixedElement
	for i, l := range sinks.Links(n) {
		if !buttonURL(l.URL) {
			notes = append(notes, mrkdwn(Text(l.Label+": "+l.URL, 300)))
			continue
		}
		// Links puts WhatsApp Manager first, when there is a page for n.
		id := "runbook"
		if i == 0 && sinks.ManagerURL(n) != "" {
			id = "manager"
		}
		b := slack.NewButtonBlockElement(id, "", slack.NewTextBlockObject(slack.PlainTextType, Text(l.Label, maxButtonText), true, false)).WithURL(l.URL)
		if id == "manager" {
			b = b.WithStyle(slack.StylePrimary)
		}
		buttons = append(buttons, b)
	}
	var blocks []slack.Block
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("", buttons...))
	}
	if len(notes) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", notes...))
	}
	return blocks
}

// buttonURL reports whether Slack takes u as a button's url: absolute
// http(s), at most 3,000 characters, nothing it would have to escape.
func buttonURL(u string) bool {
	if u == "" || len(u) > maxButtonURL || strings.ContainsFunc(u, func(r rune) bool { return r > unicode.MaxASCII || r <= ' ' || r == '<' || r == '>' }) {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
}

// A group's items take at most maxItemsText characters in at most
// maxItemSections sections, each line at most maxItemLine: what is left
// of a message's blocks leaves room for the rest.
const (
	maxItemsText    = 6000
	maxItemSections = 8
	maxItemLine     = 300
)

// groupBlocks list the items of n's group, one a line, in sections of at
// most 3,000 characters; the items that do not fit, and those beyond the
// rule's group.max, are counted ("and 12 more"). None outside a group.
func groupBlocks(n notification.Notification) []slack.Block {
	lines := sinks.GroupLines(n)
	if lines == nil {
		return nil
	}
	var blocks []slack.Block
	text := "*Items* · " + Text(sinks.GroupHeading(n), maxID)
	budget := maxItemsText - units(text)
	for i, l := range lines {
		line := "\n• " + Text(l, maxItemLine)
		// Keep room to count what does not fit, in the last section.
		reserve := 0
		if i < len(lines)-1 || n.Group.More() > 0 {
			reserve = units("\n" + sinks.GroupMore(n, len(lines)))
		}
		full := units(text)+units(line)+reserve > maxSection
		if full && len(blocks) < maxItemSections-1 && budget-units(line)-reserve >= 0 {
			blocks = append(blocks, section(text))
			text = strings.TrimPrefix(line, "\n")
			budget -= units(text)
			continue
		}
		if full || budget-units(line)-reserve < 0 {
			text += "\n" + sinks.GroupMore(n, len(lines)-i)
			return append(blocks, section(text))
		}
		text += line
		budget -= units(line)
	}
	if more := sinks.GroupMore(n, 0); more != "" {
		text += "\n" + more
	}
	return append(blocks, section(text))
}

// descriptionHeading opens Meta's description.
const descriptionHeading = "*What Meta says*\n"

// description is Meta's own description of the event as sections of at
// most 3,000 characters each, split between words, at most maxSections
// of them and budget characters together. What does not fit is cut with
// a note saying so; none for an empty description.
func description(desc string, budget, maxSections int) []slack.Block {
	if strings.TrimSpace(desc) == "" || maxSections < 1 {
		return nil
	}
	budget = max(budget, 1000)
	const cutNote = " … (cut to fit Slack; Meta's whole text is in WhatsApp Manager)"
	var blocks []slack.Block
	rest := desc
	for first := true; rest != "" && len(blocks) < maxSections; first = false {
		head := ""
		if first {
			head = descriptionHeading
		}
		room := min(maxSection, budget) - units(head)
		// The last section the budget allows ends with the note when
		// Meta's text goes on.
		last := len(blocks) == maxSections-1 || budget-maxSection < 200
		if last {
			room -= units(cutNote)
		}
		if room < 1 {
			break
		}
		chunk, after := split(rest, room)
		if chunk == "" {
			break
		}
		text := head + escape(chunk)
		if after != "" && last {
			text += cutNote
			after = ""
		}
		blocks = append(blocks, section(text))
		budget -= units(text)
		rest = after
	}
	return blocks
}

// split cuts s after at most room characters once escaped, at the last
// space or line break within them when there is one, so no word is cut
// in two; it returns the two parts.
func split(s string, room int) (string, string) {
	used, cut, lastSpace := 0, len(s), -1
	for i, r := range s {
		n := units(escapeRune(r))
		if used+n > room {
			cut = i
			break
		}
		used += n
		if unicode.IsSpace(r) {
			lastSpace = i + utf8.RuneLen(r)
		}
	}
	if cut < len(s) && lastSpace > 0 {
		cut = lastSpace
	}
	return s[:cut], s[cut:]
}

// escape is Text without a limit.
func escape(s string) string {
	s = sinks.StripBidi(s)
	var b strings.Builder
	for _, r := range s {
		b.WriteString(escapeRune(r))
	}
	return b.String()
}

// section is a section block of mrkdwn text already made safe.
func section(text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(text), nil, nil)
}

// mrkdwn is a mrkdwn text object for text already made safe by Text.
// Verbatim stops Slack from turning bare channel names, @mentions and
// URLs in it into live ones; the date tokens the sink writes itself
// still work.
func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, true)
}

// textUnits counts the text of blocks as Slack counts it toward its
// limit on a message's blocks.
func textUnits(blocks []slack.Block) int {
	b, err := json.Marshal(blocks)
	if err != nil {
		return maxBlocksText
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return maxBlocksText
	}
	return textOf(v)
}

// textOf sums the lengths of the "text" strings in a decoded JSON value.
func textOf(v any) int {
	n := 0
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok && k == "text" {
				n += units(s)
			} else {
				n += textOf(x)
			}
		}
	case []any:
		for _, x := range t {
			n += textOf(x)
		}
	}
	return n
}

// Reply is what a bot posts in an incident's thread for a later
// transition: what changed (also its top-level text, which Slack shows
// in notifications), the body, and an attachment coloured as the root
// holding the severity, the count, when it was last seen and the
// notification's id.
func Reply(n notification.Notification) Message {
	change := Text(sinks.Change(n), maxSection-100)
	blocks := []slack.Block{section(emoji(n) + " *" + change + "*")}
	if body := sinks.Body(n); body != "" {
		blocks = append(blocks, section(Text(body, maxSection)))
	}
	ctx := []string{"Severity " + n.Severity.Word()}
	if inc := n.Incident; inc != nil {
		ctx = append(ctx, "Events "+fmt.Sprint(inc.Count))
		if !inc.LastSeen.IsZero() {
			ctx = append(ctx, "Last seen "+Date(inc.LastSeen))
		}
	}
	ctx = append(ctx, "Notification "+Text(n.ID, maxID))
	att := slack.Attachment{
		Color:  color(n),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewContextBlock("", mrkdwn(strings.Join(ctx, " · ")))}},
	}
	return Message{Text: replyText(n), Blocks: blocks, Attachments: []slack.Attachment{att}}
}

// replyText is a thread reply's top-level text: the emoji and what
// changed, cut as a header is.
func replyText(n notification.Notification) string {
	return Text(emoji(n)+" "+sinks.Change(n), maxHeader)
}

// FollowUp is what an incoming webhook, which can neither update nor
// thread, posts for a later transition: the message Root renders, with
// a line under the header naming the incident it follows ("Update on
// the incident opened <date>: Escalated: …"). For the opening, or
// outside any incident, it is Root(n).
func FollowUp(n notification.Notification) Message {
	if !sinks.FollowUp(n) {
		return Root(n)
	}
	inc := n.Incident
	change := Text(sinks.Change(n), 1000)
	line := "Update on the incident opened " + Date(inc.OpenedAt) + ": " + change
	if inc.OpenedAt.IsZero() {
		line = "Update on incident " + Text(inc.ID, maxID) + ": " + change
	}
	return message(n, "*"+line+"*")
}
