package blockkit

import (
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/messagetest"
	slacksink "github.com/wabarouter/wabarouter/internal/sinks/slack"
)

func TestMrkdwn(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"bold", "*bold*", "<b>bold</b>"},
		{"italic", "_it_", "<i>it</i>"},
		{"strike", "~gone~", "<s>gone</s>"},
		{"nested", "*bold _and italic_*", "<b>bold <i>and italic</i></b>"},
		{"markers inside a word stay", "a*b*c snake_case_name", "a*b*c snake_case_name"},
		{"a marker before a space opens nothing", "* not bold*", "* not bold*"},
		{"a marker does not pair across lines", "*one\ntwo*", "*one<br>two*"},
		{"code keeps its text literal", "`*x* &lt; y`", "<code>*x* &lt; y</code>"},
		{"pre", "```a *b*\nc```", "<pre>a *b*\nc</pre>"},
		{"newlines", "line 1\nline 2", "line 1<br>line 2"},
		{"link with text", "<https://example.com/?a=1&amp;b=2|Open it>", `<a href="https://example.com/?a=1&amp;b=2">Open it</a>`},
		{"bare link", "<https://example.com/x>", `<a href="https://example.com/x">https://example.com/x</a>`},
		{"date shows its fallback", "until <!date^1795478400^{date_short_pretty} {time}|2026-11-24 00:00 UTC>", `until <span class="date">2026-11-24 00:00 UTC</span>`},
		{"mention", "<!here> and <@U123>", `<span class="mention">@here</span> and <span class="mention">@U123</span>`},
		{"Slack's escapes are shown as what they stand for", "WABA banned &lt;DISABLE&gt; &amp; more", "WABA banned &lt;DISABLE&gt; &amp; more"},
		{"decoded once only", "&amp;lt;", "&amp;lt;"},
		{"escaped script stays text", "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"raw script is no control and stays text", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"a javascript link is no link", "<javascript:alert(1)|click>", "&lt;javascript:alert(1)|click&gt;"},
		{"a link's text is escaped", `<https://example.com|" onmouseover="x>`, `<a href="https://example.com">&#34; onmouseover=&#34;x</a>`},
		{"a link's address is escaped", `<https://example.com/"onclick="x|y>`, `<a href="https://example.com/&#34;onclick=&#34;x">y</a>`},
		{"a control ends at the first >", `<https://example.com|a><img src=x>`, `<a href="https://example.com">a</a>&lt;img src=x&gt;`},
		{"quotes", `"a" 'b'`, "&#34;a&#34; &#39;b&#39;"},
		{"known emoji", ":warning: low", `<span class="emoji" style="color:#e8a400">&#x26a0;</span> low`},
		{"unknown shortcode and times stay text", ":tada: at 14:02:03", ":tada: at 14:02:03"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(mrkdwnHTML(tc.in)); got != tc.want {
				t.Errorf("mrkdwn %q:\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestPreviewBlocks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		want    []string // in this order
		not     []string
	}{
		{"header is plain text with emoji",
			`{"blocks":[{"type":"header","text":{"type":"plain_text","text":":red_circle: Ban *x* &lt;b&gt;","emoji":true}}]}`,
			[]string{`<div class="block header"><span class="emoji" style="background:#e01e1e;border-radius:50%"></span> Ban *x* &lt;b&gt;</div>`}, nil},
		{"plain text without emoji keeps the shortcode",
			`{"blocks":[{"type":"header","text":{"type":"plain_text","text":":warning: x"}}]}`,
			[]string{`<div class="block header">:warning: x</div>`}, nil},
		{"section text is mrkdwn",
			`{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*Error*\nWABA 1"}}]}`,
			[]string{`<div class="block section"><div class="content"><div><b>Error</b><br>WABA 1</div></div></div>`}, nil},
		{"section fields in two columns",
			`{"blocks":[{"type":"section","fields":[{"type":"mrkdwn","text":"*WABA*\n1"},{"type":"plain_text","text":"*Rule*"}]}]}`,
			[]string{`grid-template-columns: minmax(0, 1fr) minmax(0, 1fr)`, `<div class="fields"><div><b>WABA</b><br>1</div><div>*Rule*</div></div>`}, nil},
		{"section accessory button",
			`{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"x"},"accessory":{"type":"button","text":{"type":"plain_text","text":"Go"},"url":"https://example.com/"}}]}`,
			[]string{`<div>x</div></div><div><a class="button" href="https://example.com/">Go</a></div>`}, nil},
		{"context is small and grey",
			`{"blocks":[{"type":"context","elements":[{"type":"mrkdwn","text":"Event time *1*"},{"type":"plain_text","text":"b"}]}]}`,
			[]string{`.context {`, `color: #616061; font-size: 12px`, `<div class="block context"><span>Event time <b>1</b></span><span>b</span></div>`}, nil},
		{"divider",
			`{"blocks":[{"type":"divider"}]}`,
			[]string{`<hr class="divider">`}, nil},
		{"buttons with their styles",
			`{"blocks":[{"type":"actions","elements":[
				{"type":"button","text":{"type":"plain_text","text":"Manager"},"url":"https://business.facebook.com/?a=1&b=2","style":"primary"},
				{"type":"button","text":{"type":"plain_text","text":"Stop &lt;now&gt;"},"url":"https://example.com/stop","style":"danger"},
				{"type":"button","text":{"type":"plain_text","text":"Runbook"},"url":"https://example.com/runbook"},
				{"type":"button","text":{"type":"plain_text","text":"Ack"},"action_id":"ack"}]}]}`,
			[]string{
				`<div class="block actions"><a class="button primary" href="https://business.facebook.com/?a=1&amp;b=2">Manager</a>`,
				`<a class="button danger" href="https://example.com/stop">Stop &lt;now&gt;</a>`,
				`<a class="button" href="https://example.com/runbook">Runbook</a>`,
				`<a class="button">Ack</a></div>`}, nil},
		{"a button's javascript URL is neutralised",
			`{"blocks":[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"x"},"url":"javascript:alert(1)"}]}]}`,
			[]string{`href="#ZgotmplZ"`}, []string{"javascript:"}},
		{"attachment with its colour bar holds its blocks",
			`{"text":"fallback","attachments":[{"color":"#e8590c","blocks":[{"type":"header","text":{"type":"plain_text","text":"In the bar"}}]}]}`,
			[]string{`<div class="block">fallback</div>`, `<div class="attachment"><div class="bar" style="background: #e8590c"></div><div class="inner">`, `<div class="block header">In the bar</div>`}, nil},
		{"the text is not shown beside blocks",
			`{"text":"the fallback","blocks":[{"type":"divider"}]}`,
			[]string{`<hr class="divider">`}, []string{"the fallback"}},
		{"attachment colours: named, bare hex, nonsense",
			`{"attachments":[{"color":"good"},{"color":"d00000"},{"color":"red;background:url(https://evil.example/)"}]}`,
			[]string{`background: #2eb67d`, `background: #d00000`, `background: #dddddd`}, []string{"evil"}},
		{"a legacy attachment's title and text",
			`{"attachments":[{"color":"#000000","title":"T *1*","text":"body"}]}`,
			[]string{`<div class="block"><b>T <b>1</b></b></div>`, `<div class="block">body</div>`}, nil},
		{"unknown block types are named, not dropped",
			`{"blocks":[{"type":"rich_text","elements":[]},{"type":"input"}]}`,
			[]string{`<span class="stub">rich_text block (not drawn by this preview)</span>`, `<span class="stub">input block (not drawn by this preview)</span>`}, nil},
		{"unknown elements are named, not dropped",
			`{"blocks":[{"type":"actions","elements":[{"type":"static_select"}]},{"type":"context","elements":[{"type":"image","alt_text":"logo","image_url":"https://example.com/a.png"}]}]}`,
			[]string{`<span class="stub">static_select element (not drawn by this preview)</span>`, `<span class="stub">image: logo</span>`}, []string{"example.com/a.png"}},
		{"an image block is not loaded",
			`{"blocks":[{"type":"image","image_url":"https://example.com/a.png","alt_text":"chart &lt;1&gt;"}]}`,
			[]string{`<span class="stub">image: chart &lt;1&gt;</span>`}, []string{"example.com", "<img"}},
		{"script in any text stays text",
			`{"text":"<script>alert(1)</script>","attachments":[{"color":"#000000","blocks":[{"type":"section","fields":[{"type":"plain_text","text":"<script>x</script>"}]},{"type":"<script>"}]}]}`,
			[]string{`&lt;script&gt;alert(1)&lt;/script&gt;`, `&lt;script&gt;x&lt;/script&gt;`, `&lt;script&gt; block`}, []string{"<script"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Preview([]byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("want %s\nafter the earlier wants, in:\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("has %q:\n%s", n, got)
				}
			}
			for _, always := range []string{
				`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;">`,
				"not a screenshot of Slack",
			} {
				if !strings.Contains(got, always) && !strings.Contains(got, strings.ReplaceAll(always, "&#39;", "'")) {
					t.Errorf("no %s in:\n%s", always, got)
				}
			}
		})
	}
}

func TestPreviewRefusesBadJSON(t *testing.T) {
	if _, err := Preview([]byte(`{"blocks": [`)); err == nil || !strings.Contains(err.Error(), "Slack payload") {
		t.Errorf("err = %v", err)
	}
}

// TestPreviewDrawsEveryFixture: the preview draws every block and
// element the Slack sink posts for the sample notifications, and nothing
// in them loads from elsewhere.
func TestPreviewDrawsEveryFixture(t *testing.T) {
	for _, fx := range messagetest.Fixtures(t) {
		payload, err := slacksink.Payload(fx.Notification)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Preview(payload)
		if err != nil {
			t.Fatalf("%s: %v", fx.Name, err)
		}
		for _, bad := range []string{"not drawn by this preview", "image: ", "<img", "src=", "url(", "<script", "@import"} {
			if strings.Contains(got, bad) {
				t.Errorf("%s: the preview has %q", fx.Name, bad)
			}
		}
		if !strings.Contains(got, `class="block header"`) {
			t.Errorf("%s: no header", fx.Name)
		}
	}
}
