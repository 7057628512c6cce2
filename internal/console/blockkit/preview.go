package blockkit

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"regexp"
)

// message is what the preview reads of a chat.postMessage payload.
type message struct {
	Text        string       `json:"text"`
	Blocks      []block      `json:"blocks"`
	Attachments []attachment `json:"attachments"`
}

// attachment is a legacy attachment: the colour bar beside its blocks, or
// beside its title and text when it has none.
type attachment struct {
	Color   string  `json:"color"`
	Pretext string  `json:"pretext"`
	Title   string  `json:"title"`
	Text    string  `json:"text"`
	Blocks  []block `json:"blocks"`
}

// block is any Block Kit block; which fields mean something depends on
// Type.
type block struct {
	Type      string    `json:"type"`
	Text      *text     `json:"text"`
	Fields    []text    `json:"fields"`
	Elements  []element `json:"elements"`
	Accessory *element  `json:"accessory"`
	AltText   string    `json:"alt_text"`
}

// text is a text object, plain_text or mrkdwn.
type text struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji"`
}

// element is an element of a context or actions block, or a section's
// accessory: a text object, a button, an image...
type element struct {
	Type    string `json:"type"`
	Text    any    `json:"text"` // a string for a context's text, a text object for a button
	Emoji   bool   `json:"emoji"`
	URL     string `json:"url"`
	Style   string `json:"style"`
	AltText string `json:"alt_text"`
}

// The views are what the template lays out, every text already HTML.
type (
	pageView struct {
		Text        template.HTML // shown only when there are no blocks, as Slack does
		Blocks      []blockView
		Attachments []attachmentView
	}
	attachmentView struct {
		Color                template.CSS
		Pretext, Title, Text template.HTML
		Blocks               []blockView
	}
	blockView struct {
		Type      string
		Text      template.HTML
		Fields    []template.HTML
		Elements  []elementView
		Accessory *elementView
	}
	elementView struct {
		Type  string
		Text  template.HTML
		URL   string
		Style string
	}
)

//go:embed preview.html
var previewHTML string

var previewTmpl = template.Must(template.New("preview").Parse(previewHTML))

// Preview renders a chat.postMessage payload as a page laid out as Slack
// lays out its blocks and attachments.
func Preview(payload []byte) (string, error) {
	var m message
	if err := json.Unmarshal(payload, &m); err != nil {
		return "", fmt.Errorf("reading the Slack payload: %w", err)
	}
	v := pageView{Blocks: blockViews(m.Blocks)}
	if len(m.Blocks) == 0 {
		v.Text = mrkdwnHTML(m.Text)
	}
	for _, a := range m.Attachments {
		v.Attachments = append(v.Attachments, attachmentView{
			Color:   color(a.Color),
			Pretext: mrkdwnHTML(a.Pretext),
			Title:   mrkdwnHTML(a.Title),
			Text:    mrkdwnHTML(a.Text),
			Blocks:  blockViews(a.Blocks),
		})
	}
	var b bytes.Buffer
	if err := previewTmpl.Execute(&b, v); err != nil {
		return "", fmt.Errorf("laying out the Slack preview: %w", err)
	}
	return b.String(), nil
}

var hexColor = regexp.MustCompile(`^#?[0-9a-fA-F]{6}$`)

// color is an attachment's colour as CSS: Slack's named colours, a hex
// colour with or without its #, and grey for anything else.
func color(c string) template.CSS {
	switch c {
	case "good":
		return "#2eb67d"
	case "warning":
		return "#daa038"
	case "danger":
		return "#a30200"
	}
	if hexColor.MatchString(c) {
		if c[0] != '#' {
			c = "#" + c
		}
		return template.CSS(c)
	}
	return "#dddddd"
}

func blockViews(bs []block) []blockView {
	out := make([]blockView, 0, len(bs))
	for _, b := range bs {
		v := blockView{Type: b.Type}
		switch b.Type {
		case "header":
			v.Text = textHTML(b.Text)
		case "section":
			v.Text = textHTML(b.Text)
			for _, f := range b.Fields {
				v.Fields = append(v.Fields, textHTML(&f))
			}
			if b.Accessory != nil {
				e := elementHTML(*b.Accessory)
				v.Accessory = &e
			}
		case "context", "actions":
			for _, e := range b.Elements {
				v.Elements = append(v.Elements, elementHTML(e))
			}
		case "image":
			v.Text = plainHTML(b.AltText, false)
		case "divider":
		default:
			// Shown as a grey box naming the type, so nothing the
			// payload holds is silently left out of the picture.
			v.Type = "unknown"
			v.Text = plainHTML(b.Type, false)
		}
		out = append(out, v)
	}
	return out
}

// textHTML renders a text object by its type.
func textHTML(t *text) template.HTML {
	if t == nil {
		return ""
	}
	if t.Type == "mrkdwn" {
		return mrkdwnHTML(t.Text)
	}
	return plainHTML(t.Text, t.Emoji)
}

func elementHTML(e element) elementView {
	v := elementView{Type: e.Type}
	switch e.Type {
	case "mrkdwn", "plain_text":
		s, _ := e.Text.(string)
		v.Text = textHTML(&text{Type: e.Type, Text: s, Emoji: e.Emoji})
	case "button":
		v.Text = buttonText(e.Text)
		v.URL = e.URL
		v.Style = e.Style
	case "image":
		v.Text = plainHTML(e.AltText, false)
	default:
		v.Type = "unknown"
		v.Text = plainHTML(e.Type, false)
	}
	return v
}

// buttonText is a button's label, which is a plain_text object.
func buttonText(t any) template.HTML {
	m, ok := t.(map[string]any)
	if !ok {
		return ""
	}
	s, _ := m["text"].(string)
	e, _ := m["emoji"].(bool)
	return plainHTML(s, e)
}
