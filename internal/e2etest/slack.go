package e2etest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
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
	SlackViaUpdate  = "chat.update"
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
	// Channel is the chat.postMessage or chat.update channel as sent;
	// empty for a webhook, whose channel is fixed by its URL.
	Channel string
	// ChannelID is the channel's id, as the fake answered it: Channel
	// itself when it is an id (C…, G…, D…), else one the fake gave the
	// name (Slack answers with the id; chat.update takes only that).
	ChannelID string
	// TS is the message's timestamp: the one the fake gave a posted
	// message, or the one an update names.
	TS string
	// ThreadTS is the timestamp of the message a reply is posted under
	// ("" for a message in the channel).
	ThreadTS string
	// Text, Attachments and Blocks are the message's parts.
	Text        string
	Attachments []slack.Attachment
	Blocks      slack.Blocks
	// Metadata is the message's metadata, as the sender set it.
	Metadata slack.SlackMetadata
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
	s := fmt.Sprintf("%s channel=%q", m.Via, m.Channel)
	if m.TS != "" {
		s += fmt.Sprintf(" ts=%s", m.TS)
	}
	if m.ThreadTS != "" {
		s += fmt.Sprintf(" thread_ts=%s", m.ThreadTS)
	}
	return s + fmt.Sprintf(" text=%.120q attachments=%d", m.Text, len(m.Attachments))
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
// server: chat.postMessage (in a channel, or as a reply with thread_ts)
// and chat.update with the bot token (form-encoded, as slack-go posts
// them), and one incoming webhook (JSON). It checks the token, that a
// message has text or attachments or blocks and Slack's size limits,
// that a reply's thread_ts and an update's ts name a message it posted
// in that channel, and that an update names the channel by its id. It
// records each posted message (roots and replies) in its Collector and
// each update in Updates. A request breaking those rules is answered as
// Slack would and recorded as refused, which fails Check (of the
// Collector for posts and webhooks, of Updates for updates).
type SlackFake struct {
	*Collector[SlackMessage]
	// Updates records each chat.update the fake accepted, with the
	// channel and ts of the message it changed.
	Updates     *Collector[SlackMessage]
	token       string
	webhookPath string
	respond     Responder[SlackMessage]
	srv         *slacktest.Server
	seq         atomic.Int64
	attempts    atomic.Int64

	mu sync.Mutex
	// posted holds, per channel id, the timestamps of the messages
	// posted there.
	posted map[string]map[string]bool
	// ids are the ids given to channels posted to by name.
	ids map[string]string
	// history is every message posted, per channel id, oldest first.
	history map[string][]SlackMessage
}

// ServeSlack serves a fake that accepts the bot token token until t ends;
// respond may be nil. Point a token sink's api_url at APIURL, or a webhook
// sink's webhook_url at WebhookURL.
func ServeSlack(t TB, token string, respond Responder[SlackMessage]) *SlackFake {
	f := &SlackFake{Collector: NewCollector("slack", SlackMessage.String), Updates: NewCollector("slack chat.update", SlackMessage.String),
		token: token, webhookPath: "/services/TE2E0001/BE2E0001/e2eWebhookSecret", respond: respond,
		posted: map[string]map[string]bool{}, ids: map[string]string{}, history: map[string][]SlackMessage{}}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		// Registered before slacktest's own handlers, which then skip
		// these paths.
		c.Handle("/chat.postMessage", f.postMessage)
		c.Handle("/chat.update", f.update)
		c.Handle("/conversations.history", f.conversationHistory)
		c.Handle("/services/", f.webhook)
	})
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	return f
}

// APIURL is the Web API base, for the sink's api_url.
func (f *SlackFake) APIURL() string { return f.srv.GetAPIURL() }

// Attempts counts the valid messages and updates received by any way,
// whatever they were answered, retries included.
func (f *SlackFake) Attempts() int64 { return f.attempts.Load() }

// WebhookURL is the fake's incoming webhook, for the sink's webhook_url.
func (f *SlackFake) WebhookURL() string {
	return strings.TrimSuffix(f.srv.GetAPIURL(), "/") + f.webhookPath
}

// channelID is the id Slack answers for channel: channel itself when it
// is an id, else the one the fake gave the name. Only what postMessage
// may name gets an id; lookup only finds one given before.
func (f *SlackFake) channelID(channel string, give bool) (string, bool) {
	if isChannelID(channel) {
		return channel, true
	}
	if !give {
		return "", false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := strings.TrimPrefix(channel, "#")
	id, ok := f.ids[name]
	if !ok {
		id = fmt.Sprintf("CNAMED%04d", len(f.ids)+1)
		f.ids[name] = id
	}
	return id, true
}

// isChannelID reports whether s looks like a Slack conversation id.
func isChannelID(s string) bool {
	if len(s) < 2 || !strings.ContainsRune("CGD", rune(s[0])) {
		return false
	}
	return strings.ToUpper(s) == s && !strings.ContainsAny(s, "#- ")
}

// wasPosted reports whether a message with ts was posted in channel id.
func (f *SlackFake) wasPosted(id, ts string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posted[id][ts]
}

func (f *SlackFake) remember(id, ts string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.posted[id] == nil {
		f.posted[id] = map[string]bool{}
	}
	f.posted[id][ts] = true
}

// apiMessage reads a Web API method's form into m, and returns the form;
// on a form that cannot be read, a wrong token or a message Slack would
// refuse, it answers and returns ok false.
func (f *SlackFake) apiMessage(w http.ResponseWriter, r *http.Request, m *SlackMessage) (url.Values, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPeerBody))
	if err != nil {
		f.apiRefuse(w, m.Via, "invalid_form_data", "reading the body: "+err.Error())
		return nil, false
	}
	m.Body = body
	form, err := url.ParseQuery(string(body))
	if err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f.apiRefuse(w, m.Via, "invalid_form_data", fmt.Sprintf("not a form (%s): %v", r.Header.Get("Content-Type"), err))
		return nil, false
	}
	m.Token = form.Get("token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && m.Token == "" {
		m.Token = bearer
	}
	m.Channel, m.Text, m.ThreadTS = form.Get("channel"), form.Get("text"), form.Get("thread_ts")
	if m.Token != f.token {
		f.apiRefuse(w, m.Via, "invalid_auth", "a token that is not the bot's")
		return nil, false
	}
	if m.Channel == "" {
		f.apiRefuse(w, m.Via, "channel_not_found", "no channel")
		return nil, false
	}
	if s := form.Get("attachments"); s != "" {
		if err := json.Unmarshal([]byte(s), &m.Attachments); err != nil {
			f.apiRefuse(w, m.Via, "invalid_attachments", err.Error())
			return nil, false
		}
	}
	if s := form.Get("metadata"); s != "" {
		if err := json.Unmarshal([]byte(s), &m.Metadata); err != nil {
			f.apiRefuse(w, m.Via, "invalid_metadata_format", err.Error())
			return nil, false
		}
	}
	if s := form.Get("blocks"); s != "" {
		if err := json.Unmarshal([]byte(s), &m.Blocks); err != nil {
			f.apiRefuse(w, m.Via, "invalid_blocks", err.Error())
			return nil, false
		}
	}
	if code, reason := checkSlackMessage(*m); code != "" {
		f.apiRefuse(w, m.Via, code, reason)
		return nil, false
	}
	return form, true
}

func (f *SlackFake) postMessage(w http.ResponseWriter, r *http.Request) {
	m := SlackMessage{At: time.Now(), Via: SlackViaAPI, Header: r.Header}
	if _, ok := f.apiMessage(w, r, &m); !ok {
		return
	}
	m.ChannelID, _ = f.channelID(m.Channel, true)
	if m.ThreadTS != "" && !f.wasPosted(m.ChannelID, m.ThreadTS) {
		f.apiRefuse(w, m.Via, "thread_not_found", fmt.Sprintf("thread_ts %s names no message posted in %s", m.ThreadTS, m.Channel))
		return
	}
	f.attempts.Add(1)
	m.TS = fmt.Sprintf("%d.%06d", time.Now().Unix(), f.seq.Add(1))
	a := Answer{}
	if f.respond != nil {
		a = f.respond(r.Context(), m)
	}
	ok := fmt.Sprintf(`{"ok":true,"channel":%q,"ts":%q}`, m.ChannelID, m.TS)
	if a.success() && (a.Body == "" || apiOK(a.Body)) {
		f.remember(m.ChannelID, m.TS)
		f.mu.Lock()
		f.history[m.ChannelID] = append(f.history[m.ChannelID], m)
		f.mu.Unlock()
		f.Add(m)
	}
	a.write(w, http.StatusOK, "application/json", ok)
}

// update serves chat.update: ts must name a message posted in the
// channel, given by its id.
func (f *SlackFake) update(w http.ResponseWriter, r *http.Request) {
	m := SlackMessage{At: time.Now(), Via: SlackViaUpdate, Header: r.Header}
	form, ok := f.apiMessage(w, r, &m)
	if !ok {
		return
	}
	m.TS = form.Get("ts")
	id, known := f.channelID(m.Channel, false)
	switch {
	case !known:
		f.apiRefuse(w, m.Via, "channel_not_found", fmt.Sprintf("channel %q is not an id; chat.update takes the id chat.postMessage answered", m.Channel))
		return
	case m.TS == "" || !f.wasPosted(id, m.TS):
		f.apiRefuse(w, m.Via, "message_not_found", fmt.Sprintf("ts %q names no message posted in %s", m.TS, m.Channel))
		return
	}
	m.ChannelID = id
	f.attempts.Add(1)
	a := Answer{}
	if f.respond != nil {
		a = f.respond(r.Context(), m)
	}
	if a.success() && (a.Body == "" || apiOK(a.Body)) {
		f.Updates.Add(m)
	}
	a.write(w, http.StatusOK, "application/json",
		fmt.Sprintf(`{"ok":true,"channel":%q,"ts":%q,"text":%q}`, m.ChannelID, m.TS, m.Text))
}

// apiOK reports whether a Web API answer says ok.
func apiOK(body string) bool {
	var v struct {
		OK bool `json:"ok"`
	}
	return json.Unmarshal([]byte(body), &v) == nil && v.OK
}

// apiRefuse answers a Web API request of method via with Slack's error
// code and records the refusal where that method's messages are kept.
func (f *SlackFake) apiRefuse(w http.ResponseWriter, via, code, reason string) {
	if via == SlackViaUpdate {
		f.Updates.Refuse(via + " " + code + ": " + reason)
	} else {
		f.Refuse(via + " " + code + ": " + reason)
	}
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

// conversationHistory serves conversations.history: the channel, by its
// id, newest first, from oldest on, a page at a time, with each message's
// metadata when include_all_metadata is set.
func (f *SlackFake) conversationHistory(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.apiRefuse(w, "conversations.history", "invalid_form_data", err.Error())
		return
	}
	token := r.Form.Get("token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && token == "" {
		token = bearer
	}
	channel := r.Form.Get("channel")
	if token != f.token {
		f.apiRefuse(w, "conversations.history", "invalid_auth", "a token that is not the bot's")
		return
	}
	if !isChannelID(channel) {
		f.apiRefuse(w, "conversations.history", "channel_not_found", fmt.Sprintf("channel %q is not an id", channel))
		return
	}
	oldest, _ := strconv.ParseFloat(r.Form.Get("oldest"), 64)
	withMeta := r.Form.Get("include_all_metadata") == "true" || r.Form.Get("include_all_metadata") == "1"
	type msg struct {
		Type     string               `json:"type"`
		TS       string               `json:"ts"`
		ThreadTS string               `json:"thread_ts,omitempty"`
		Text     string               `json:"text"`
		Metadata *slack.SlackMetadata `json:"metadata,omitempty"`
	}
	f.mu.Lock()
	posted := append([]SlackMessage(nil), f.history[channel]...)
	f.mu.Unlock()
	var out []msg
	for i := len(posted) - 1; i >= 0; i-- {
		m := posted[i]
		if ts, _ := strconv.ParseFloat(m.TS, 64); ts < oldest {
			continue
		}
		if m.ThreadTS != "" && m.ThreadTS != m.TS {
			continue // replies are in conversations.replies, as in Slack
		}
		one := msg{Type: "message", TS: m.TS, ThreadTS: m.ThreadTS, Text: m.Text}
		if withMeta && m.Metadata.EventType != "" {
			md := m.Metadata
			one.Metadata = &md
		}
		out = append(out, one)
	}
	// Pages as Slack does: limit messages (100 unless asked, at most
	// 999), and a cursor for the rest; the fake's cursor is the offset.
	limit := 100
	if l, err := strconv.Atoi(r.Form.Get("limit")); err == nil && l > 0 {
		limit = min(l, 999)
	}
	from := 0
	if c := r.Form.Get("cursor"); c != "" {
		off, err := strconv.Atoi(strings.TrimPrefix(c, "offset:"))
		if err != nil || off < 0 || !strings.HasPrefix(c, "offset:") {
			f.apiRefuse(w, "conversations.history", "invalid_cursor", fmt.Sprintf("cursor %q", c))
			return
		}
		from = min(off, len(out))
	}
	page := out[from:min(from+limit, len(out))]
	answer := map[string]any{"ok": true, "messages": page, "has_more": from+len(page) < len(out)}
	if from+len(page) < len(out) {
		answer["response_metadata"] = map[string]string{"next_cursor": "offset:" + strconv.Itoa(from+len(page))}
	}
	body, _ := json.Marshal(answer)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
