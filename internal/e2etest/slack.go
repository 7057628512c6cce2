package e2etest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// Slack's documented limits that the fake enforces.
const (
	slackMaxText        = 40000
	slackMaxAttachments = 100
)

// Ways a SlackMessage arrived.
const (
	SlackViaAPI     = "chat.postMessage"
	SlackViaWebhook = "incoming webhook"
)

// SlackMessage is one message a SlackFake accepted.
type SlackMessage struct {
	// At is when the request arrived.
	At time.Time
	// Via is SlackViaAPI or SlackViaWebhook.
	Via string
	// Header is the request's header.
	Header http.Header
	// Token is the bot token of a chat.postMessage, from its form or its
	// Authorization header; empty for an incoming webhook.
	Token string
	// Channel is the chat.postMessage channel; empty for a webhook, whose
	// channel is fixed by its URL.
	Channel string
	// Text, ThreadTS, Attachments and Blocks are the message's parts.
	Text        string
	ThreadTS    string
	Attachments []slack.Attachment
	Blocks      slack.Blocks
	// Body is the request's body as sent (a form or JSON).
	Body []byte
}

// Rendered is every string of the message Slack would read for display
// (text, attachments and blocks, as JSON without HTML escaping), for
// checks on what reaches the channel, such as that no "<!channel>" does.
func (m SlackMessage) Rendered() string {
	var b bytes.Buffer
	b.WriteString(m.Text)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m.Attachments)
	_ = enc.Encode(m.Blocks)
	return b.String()
}

// String describes the message in reports.
func (m SlackMessage) String() string {
	return fmt.Sprintf("%s channel=%q text=%.120q attachments=%d", m.Via, m.Channel, m.Text, len(m.Attachments))
}

// SlackAPIError is the answer of a Web API method that failed with code,
// e.g. "channel_not_found": Slack answers 200 with ok false.
func SlackAPIError(code string) Answer {
	return Answer{Status: http.StatusOK, Body: fmt.Sprintf(`{"ok":false,"error":%q}`, code)}
}

// SlackWebhookError is an incoming webhook's refusal: an HTTP status and
// a plain-text code, e.g. 404 "channel_not_found" or 403 "invalid_token".
func SlackWebhookError(status int, code string) Answer {
	return Answer{Status: status, Body: code}
}

// SlackFake is Slack for the slack sink, built on slack-go's slacktest
// server: chat.postMessage with the bot token (form-encoded, as slack-go
// posts it) and one incoming webhook (JSON). It checks the token, that a
// message has text or attachments or blocks and Slack's size limits, and
// records each message it accepted. A request breaking those rules is
// answered as Slack would and recorded as refused, which fails Check.
type SlackFake struct {
	*Collector[SlackMessage]
	token       string
	webhookPath string
	respond     Responder[SlackMessage]
	srv         *slacktest.Server
	seq         atomic.Int64
	attempts    atomic.Int64
}

// ServeSlack serves a fake that accepts the bot token token until t ends;
// respond may be nil. Point a token sink's api_url at APIURL, or a webhook
// sink's webhook_url at WebhookURL.
func ServeSlack(t TB, token string, respond Responder[SlackMessage]) *SlackFake {
	f := &SlackFake{Collector: NewCollector("slack", SlackMessage.String), token: token,
		webhookPath: "/services/TE2E0001/BE2E0001/e2eWebhookSecret", respond: respond}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		// Registered before slacktest's own handlers, which then skip
		// these paths.
		c.Handle("/chat.postMessage", f.postMessage)
		c.Handle("/services/", f.webhook)
	})
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	return f
}

// APIURL is the Web API base, for the sink's api_url.
func (f *SlackFake) APIURL() string { return f.srv.GetAPIURL() }

// Attempts counts the valid messages received by either way, whatever
// they were answered, retries included.
func (f *SlackFake) Attempts() int64 { return f.attempts.Load() }

// WebhookURL is the fake's incoming webhook, for the sink's webhook_url.
func (f *SlackFake) WebhookURL() string {
	return strings.TrimSuffix(f.srv.GetAPIURL(), "/") + f.webhookPath
}

func (f *SlackFake) postMessage(w http.ResponseWriter, r *http.Request) {
	m := SlackMessage{At: time.Now(), Via: SlackViaAPI, Header: r.Header}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPeerBody))
	if err != nil {
		f.apiRefuse(w, "invalid_form_data", "reading the body: "+err.Error())
		return
	}
	m.Body = body
	form, err := url.ParseQuery(string(body))
	if err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f.apiRefuse(w, "invalid_form_data", fmt.Sprintf("not a form (%s): %v", r.Header.Get("Content-Type"), err))
		return
	}
	m.Token = form.Get("token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && m.Token == "" {
		m.Token = bearer
	}
	m.Channel, m.Text, m.ThreadTS = form.Get("channel"), form.Get("text"), form.Get("thread_ts")
	if m.Token != f.token {
		f.apiRefuse(w, "invalid_auth", "a token that is not the bot's")
		return
	}
	if m.Channel == "" {
		f.apiRefuse(w, "channel_not_found", "no channel")
		return
	}
	if s := form.Get("attachments"); s != "" {
		if err := json.Unmarshal([]byte(s), &m.Attachments); err != nil {
			f.apiRefuse(w, "invalid_attachments", err.Error())
			return
		}
	}
	if s := form.Get("blocks"); s != "" {
		if err := json.Unmarshal([]byte(s), &m.Blocks); err != nil {
			f.apiRefuse(w, "invalid_blocks", err.Error())
			return
		}
	}
	if code, reason := checkSlackMessage(m); code != "" {
		f.apiRefuse(w, code, reason)
		return
	}
	f.attempts.Add(1)
	a := Answer{}
	if f.respond != nil {
		a = f.respond(r.Context(), m)
	}
	ts := fmt.Sprintf("%d.%06d", time.Now().Unix(), f.seq.Add(1))
	ok := fmt.Sprintf(`{"ok":true,"channel":%q,"ts":%q}`, m.Channel, ts)
	if a.success() && (a.Body == "" || apiOK(a.Body)) {
		f.Add(m)
	}
	a.write(w, http.StatusOK, "application/json", ok)
}

// apiOK reports whether a Web API answer says ok.
func apiOK(body string) bool {
	var v struct {
		OK bool `json:"ok"`
	}
	return json.Unmarshal([]byte(body), &v) == nil && v.OK
}

func (f *SlackFake) apiRefuse(w http.ResponseWriter, code, reason string) {
	f.Refuse("chat.postMessage " + code + ": " + reason)
	SlackAPIError(code).write(w, http.StatusOK, "application/json", "")
}

func (f *SlackFake) webhook(w http.ResponseWriter, r *http.Request) {
	m := SlackMessage{At: time.Now(), Via: SlackViaWebhook, Header: r.Header}
	if r.Method != http.MethodPost || r.URL.Path != f.webhookPath {
		f.Refuse(fmt.Sprintf("%s %s is not the incoming webhook", r.Method, r.URL.Path))
		http.Error(w, "invalid_token", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPeerBody))
	if err != nil {
		f.webhookRefuse(w, "invalid_payload", "reading the body: "+err.Error())
		return
	}
	m.Body = body
	var msg slack.WebhookMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		f.webhookRefuse(w, "invalid_payload", err.Error())
		return
	}
	m.Text, m.Attachments, m.ThreadTS = msg.Text, msg.Attachments, msg.ThreadTimestamp
	if msg.Blocks != nil {
		m.Blocks = *msg.Blocks
	}
	if code, reason := checkSlackMessage(m); code != "" {
		f.webhookRefuse(w, code, reason)
		return
	}
	f.attempts.Add(1)
	a := Answer{}
	if f.respond != nil {
		a = f.respond(r.Context(), m)
	}
	if a.success() {
		f.Add(m)
	}
	a.write(w, http.StatusOK, "text/html", "ok")
}

func (f *SlackFake) webhookRefuse(w http.ResponseWriter, code, reason string) {
	f.Refuse("incoming webhook " + code + ": " + reason)
	http.Error(w, code, http.StatusBadRequest)
}

// checkSlackMessage returns the error code Slack gives a message it
// refuses, and why; "" when Slack would post it.
func checkSlackMessage(m SlackMessage) (code, reason string) {
	switch {
	case m.Text == "" && len(m.Attachments) == 0 && len(m.Blocks.BlockSet) == 0:
		return "no_text", "no text, attachments or blocks"
	case len([]rune(m.Text)) > slackMaxText:
		return "msg_too_long", fmt.Sprintf("text of %d characters", len([]rune(m.Text)))
	case len(m.Attachments) > slackMaxAttachments:
		return "too_many_attachments", fmt.Sprintf("%d attachments", len(m.Attachments))
	}
	return "", ""
}
