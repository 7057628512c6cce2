package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/wabarouter/wabarouter/internal/e2etest"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest/play"
)

// header returns the text of the header block of m's blocks.
func header(m e2etest.SlackMessage) string {
	for _, b := range m.Blocks.BlockSet {
		if h, ok := b.(*slack.HeaderBlock); ok && h.Text != nil {
			return h.Text.Text
		}
	}
	return ""
}

// rendered is every text of a message, as Slack reads it.
func rendered(m e2etest.SlackMessage) string { return m.Rendered() }

func botSink(t *testing.T, f *e2etest.SlackFake, channel string) *Sink {
	t.Helper()
	s, err := New(Config{Token: token, Channel: channel, APIURL: f.APIURL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestBotLifecycle: open → update → escalate → resolve through a bot
// token posts one root message, updates it in place for every later
// transition (state, severity, count, last seen; green and "Resolved"
// at the end) and replies in its thread with what changed, in order.
func TestBotLifecycle(t *testing.T) {
	f := e2etest.ServeSlack(t, token, nil)
	s := botSink(t, f, "#quality")
	ns := sinkstest.Lifecycle()
	receipts := play.Through(t, s, ns)

	posts := f.Received()
	if len(posts) != 4 {
		t.Fatalf("%d messages posted, want a root and 3 replies:\n%s", len(posts), f.Report())
	}
	root := posts[0]
	if root.ThreadTS != "" || root.Channel != "#quality" || !strings.Contains(header(root), "is YELLOW") ||
		!strings.Contains(rendered(root), ":warning: *Warning* · *Open* · 1 event") {
		t.Errorf("root: %s\n%s", root, rendered(root))
	}
	wantThread := root.ChannelID + ":" + root.TS
	if receipts[0].Thread != wantThread || receipts[0].Ref != wantThread {
		t.Errorf("the first receipt %+v, want Thread and Ref %q", receipts[0], wantThread)
	}
	replies := []string{
		"Repeated: 2 events so far",
		"Escalated: severity warning → error; worse: phone_number_quality_update/DOWNGRADE RED",
		"Resolved: ended by phone_number_quality_update/UPGRADE GREEN",
	}
	for i, want := range replies {
		r := posts[i+1]
		if r.ThreadTS != root.TS || r.Channel != root.ChannelID || !strings.Contains(r.Text, want) || !strings.Contains(rendered(r), "*"+want+"*") {
			t.Errorf("reply %d: %s, want in the root's thread (%s) saying %q", i+1, r, root.TS, want)
		}
		if receipts[i+1].Thread != "" || receipts[i+1].Ref != root.ChannelID+":"+r.TS {
			t.Errorf("receipt %d: %+v", i+1, receipts[i+1])
		}
	}
	if c := posts[3].Attachments[0].Color; c != resolvedColor {
		t.Errorf("the resolve's reply is coloured %s, want green", c)
	}

	updates := f.Updates.Received()
	if len(updates) != 3 {
		t.Fatalf("%d updates, want one per later transition:\n%s", len(updates), f.Updates.Report())
	}
	wants := []struct {
		color, header, state string
	}{
		{Color(notification.Warning), "is YELLOW", ":warning: *Warning* · *Open (updated)* · 2 events"},
		{Color(notification.Error), "is RED", ":red_circle: *Error* · *Open (escalated)* · 3 events"},
		{resolvedColor, ":white_check_mark: Resolved: Quality of +1 650-555-1234 is RED", ":white_check_mark: *Resolved* · severity *Error* · 3 events"},
	}
	for i, w := range wants {
		u := updates[i]
		att := u.Attachments[0]
		if u.ChannelID != root.ChannelID || u.TS != root.TS || att.Color != w.color || !strings.Contains(header(u), w.header) ||
			!strings.Contains(u.Rendered(), w.state) || u.Text != Summary(ns[i+1]) {
			t.Errorf("update %d: %s colour %s header %q\n%s\nwant the root (%s) coloured %s, header with %q, state %q",
				i+1, u, att.Color, header(u), u.Rendered(), root.TS, w.color, w.header, w.state)
		}
	}
	if n, reasons := f.Refusals(); n > 0 {
		t.Errorf("posts refused: %q", reasons)
	}
	if n, reasons := f.Updates.Refusals(); n > 0 {
		t.Errorf("updates refused: %q", reasons)
	}
}

// TestBotFirstHearsAtEscalation: a sink that first hears of an incident
// at its escalation (it was below its min_severity before) has no
// Thread, so it posts a root, which the resolve then updates.
func TestBotFirstHearsAtEscalation(t *testing.T) {
	f := e2etest.ServeSlack(t, token, nil)
	s := botSink(t, f, "C0QUALITY")
	all := sinkstest.Lifecycle()
	receipts := play.Through(t, s, all[2:])
	posts, updates := f.Received(), f.Updates.Received()
	if len(posts) != 2 || len(updates) != 1 {
		t.Fatalf("%d posts and %d updates, want a root, a reply and an update:\n%s\n%s", len(posts), len(updates), f.Report(), f.Updates.Report())
	}
	if posts[0].ThreadTS != "" || !strings.Contains(posts[0].Rendered(), "*Error* · *Open (escalated)* · 3 events") ||
		receipts[0].Thread != "C0QUALITY:"+posts[0].TS {
		t.Errorf("root %s, receipt %+v", posts[0], receipts[0])
	}
	if posts[1].ThreadTS != posts[0].TS || updates[0].TS != posts[0].TS || updates[0].Attachments[0].Color != resolvedColor {
		t.Errorf("reply %s, update %s", posts[1], updates[0])
	}
}

// TestBotRootGone: when the root cannot be updated any more (deleted),
// the transition goes out as a new root message instead of failing.
func TestBotRootGone(t *testing.T) {
	f := e2etest.ServeSlack(t, token, nil)
	s := botSink(t, f, "C0QUALITY")
	n := sinkstest.Lifecycle()[2]
	r, err := s.Send(context.Background(), sinks.Delivery{Notification: n, Thread: "C0QUALITY:1700000000.000001"})
	if err != nil {
		t.Fatal(err)
	}
	posts := f.Received()
	if len(posts) != 1 || posts[0].ThreadTS != "" || f.Updates.Len() != 0 || !strings.Contains(r.Detail, "could not be updated (message_not_found)") {
		t.Errorf("receipt %+v, posts:\n%s", r, f.Report())
	}
	if n, reasons := f.Updates.Refusals(); n != 1 || !strings.Contains(reasons[0], "message_not_found") {
		t.Errorf("the fake refused %d updates %q, want the one of the gone root", n, reasons)
	}
}

// TestBotRetriesDoNotRepeatReplies: the root is updated before the reply
// is posted, so a failed update posts nothing and its retry posts one
// reply; a failed reply is retried with the update again (which is the
// same each time) and one reply.
func TestBotRetriesDoNotRepeatReplies(t *testing.T) {
	for _, failing := range []string{e2etest.SlackViaUpdate, "reply"} {
		t.Run(failing, func(t *testing.T) {
			var failed atomic.Bool
			f := e2etest.ServeSlack(t, token, func(_ context.Context, m e2etest.SlackMessage) e2etest.Answer {
				hit := m.Via == failing || failing == "reply" && m.ThreadTS != ""
				if hit && failed.CompareAndSwap(false, true) {
					return e2etest.SlackAPIError("ratelimited")
				}
				return e2etest.Answer{}
			})
			s := botSink(t, f, "C0QUALITY")
			ns := sinkstest.Lifecycle()
			first := play.Through(t, s, ns[:1])
			d := sinks.Delivery{Notification: ns[2], Thread: first[0].Thread}
			_, err := s.Send(context.Background(), d)
			if retry, _ := sinks.IsRetryable(err); err == nil || !retry {
				t.Fatalf("first try: %v, want a retryable error", err)
			}
			if _, err := s.Send(context.Background(), d); err != nil {
				t.Fatalf("retry: %v", err)
			}
			replies := 0
			for _, m := range f.Received() {
				if m.ThreadTS != "" {
					replies++
				}
			}
			wantUpdates := 1
			if failing == "reply" {
				wantUpdates = 2
			}
			if replies != 1 || f.Updates.Len() != wantUpdates {
				t.Errorf("%d replies and %d updates, want 1 and %d:\n%s\n%s", replies, f.Updates.Len(), wantUpdates, f.Report(), f.Updates.Report())
			}
		})
	}
}

// TestWebhookFollowUps: an incoming webhook cannot update or thread, so
// every transition after the opening is a message of its own that names
// the incident it follows and what changed; the resolve is green.
func TestWebhookFollowUps(t *testing.T) {
	f := e2etest.ServeSlack(t, token, nil)
	s, err := New(Config{WebhookURL: f.WebhookURL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all := sinkstest.Lifecycle()
	// Routing gives an incoming webhook no updated transitions.
	receipts := play.Through(t, s, []notification.Notification{all[0], all[2], all[3]})
	msgs := f.Received()
	if len(msgs) != 3 || f.Updates.Len() != 0 {
		t.Fatalf("%d messages, %d updates:\n%s", len(msgs), f.Updates.Len(), f.Report())
	}
	if strings.Contains(msgs[0].Rendered(), "Update on") {
		t.Errorf("the opening reads as an update:\n%s", msgs[0].Rendered())
	}
	for i, want := range []string{
		"*Update on the incident opened <!date^1795442523^{date_short_pretty} {time}|2026-11-23 14:02 UTC>: Escalated: severity warning → error; worse: phone_number_quality_update/DOWNGRADE RED*",
		"*Update on the incident opened <!date^1795442523^{date_short_pretty} {time}|2026-11-23 14:02 UTC>: Resolved: ended by phone_number_quality_update/UPGRADE GREEN*",
	} {
		m := msgs[i+1]
		// slack-go's blocks escape < and > in the JSON Rendered writes.
		if m.Via != e2etest.SlackViaWebhook || !strings.Contains(unescapeJSON(m.Rendered()), want) || m.ThreadTS != "" {
			t.Errorf("follow-up %d: %s\n%s\nwant it to say %q", i+1, m, m.Rendered(), want)
		}
	}
	if c := msgs[2].Attachments[0].Color; c != resolvedColor {
		t.Errorf("resolve coloured %s", c)
	}
	for _, r := range receipts {
		if r.Thread != "" {
			t.Errorf("an incoming webhook returned a thread: %+v", r)
		}
	}
}

// TestLifecycleGolden: the root, its thread replies and the incoming
// webhook's follow-ups, for each transition, against testdata.
func TestLifecycleGolden(t *testing.T) {
	for _, n := range sinkstest.Lifecycle() {
		renders := map[string]Message{"root": Root(n)}
		if sinks.FollowUp(n) {
			renders["reply"], renders["followup"] = Reply(n), FollowUp(n)
		}
		for kind, att := range renders {
			name := "lifecycle_" + string(n.Incident.Transition) + "_" + kind
			t.Run(name, func(t *testing.T) {
				got, err := json.MarshalIndent(att, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, name, append(got, '\n'))
			})
		}
	}
}

// TestNoLiveMentionsInFollowUps: what a transition says changed and why
// an incident resolved quote Meta's texts; they reach Slack escaped in
// the updated root, the thread replies and a webhook's follow-ups.
func TestNoLiveMentionsInFollowUps(t *testing.T) {
	ns := sinkstest.Lifecycle()
	for i := range ns {
		inc := *ns[i].Incident
		inc.Changes = []string{"worse: " + hostile}
		inc.Reason = "ended by " + hostile
		ns[i].Incident = &inc
		ns[i].Body = hostile
	}
	f := e2etest.ServeSlack(t, token, nil)
	play.Through(t, botSink(t, f, "C0QUALITY"), ns)
	hook, err := New(Config{WebhookURL: f.WebhookURL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	play.Through(t, hook, ns)
	msgs := append(f.Received(), f.Updates.Received()...)
	if len(msgs) != 4+3+4 {
		t.Fatalf("%d messages and updates, want 11", len(msgs))
	}
	for _, m := range msgs {
		texts := []string{m.Text}
		for _, part := range []any{m.Attachments, m.Blocks} {
			raw, err := json.Marshal(part)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			strs(v, &texts)
		}
		t.Run(m.Via+"_"+m.TS, func(t *testing.T) { assertNothingLive(t, texts) })
	}
}

// TestIncidentLineEscapedOnce: the incident's times line escapes what it
// quotes once, and stays within a context element's limit however long
// the incident's id.
func TestIncidentLineEscapedOnce(t *testing.T) {
	n := sinkstest.Lifecycle()[2]
	inc := *n.Incident
	inc.ID = "inc-a&b<c>" + strings.Repeat("é", 5000)
	n.Incident = &inc
	line := timesLine(n)
	if !strings.Contains(line, "Incident inc-a&amp;b&lt;c&gt;éé") || strings.Contains(line, "&amp;amp;") || strings.Contains(line, "&amp;lt;") {
		t.Errorf("line %.300q", line)
	}
	if l := units(line); l > maxSection {
		t.Errorf("line is %d long, limit %d", l, maxSection)
	}
}

// TestResentOpeningFindsItsRoot: the router died while the opening's
// root was being posted, so the row is handed again, marked resent. The
// sink finds the root the earlier attempt posted (by the incident in its
// metadata) instead of posting a second one, and the next transition
// threads under it; a resent opening whose root never landed posts one.
func TestResentOpeningFindsItsRoot(t *testing.T) {
	f := e2etest.ServeSlack(t, token, nil)
	s := botSink(t, f, "C0QUALITY")
	ns := sinkstest.Lifecycle()
	now := time.Now().UTC()
	for i := range ns {
		ns[i].Incident.OpenedAt = now
	}
	open, update := ns[0], ns[1]
	first, err := s.Send(context.Background(), sinks.Delivery{Notification: open})
	if err != nil {
		t.Fatal(err)
	}
	// The answer was lost with the process: the same delivery again.
	again, err := s.Send(context.Background(), sinks.Delivery{Notification: open, Resent: true})
	if err != nil {
		t.Fatal(err)
	}
	if roots := f.Len(); roots != 1 {
		t.Fatalf("%d messages posted, want the one root:\n%s", roots, f.Report())
	}
	if again.Thread != first.Thread || again.Thread == "" {
		t.Errorf("the resent opening's thread %q, want the first attempt's %q", again.Thread, first.Thread)
	}
	// The update's own answer was lost too, before any thread was kept.
	r, err := s.Send(context.Background(), sinks.Delivery{Notification: update, Resent: true})
	if err != nil {
		t.Fatal(err)
	}
	posts := f.Received()
	if len(posts) != 2 || posts[1].ThreadTS != posts[0].TS || r.Thread != first.Thread {
		t.Errorf("after a resent update: %d posts, the reply under %q (root %q), thread %q; want one reply under the root:\n%s",
			len(posts), posts[len(posts)-1].ThreadTS, posts[0].TS, r.Thread, f.Report())
	}
	// Another incident resent whose root never reached Slack: posted.
	other := ns[0]
	inc := *other.Incident
	inc.ID = "another-incident"
	other.Incident = &inc
	if _, err := s.Send(context.Background(), sinks.Delivery{Notification: other, Resent: true}); err != nil {
		t.Fatal(err)
	}
	if roots := f.Len(); roots != 3 {
		t.Errorf("%d messages, want the third a new root for the other incident:\n%s", roots, f.Report())
	}
}

// TestResentOpeningFindsItsRootPagesBack: the root is older than a page
// of the channel's history (busy channel); the search reads on, page by
// page, rather than post it again.
func TestResentOpeningFindsItsRootPagesBack(t *testing.T) {
	f := e2etest.ServeSlack(t, token, nil)
	s := botSink(t, f, "C0BUSY")
	ns := sinkstest.Lifecycle()
	open := ns[0]
	inc := *open.Incident
	inc.OpenedAt = time.Now().UTC()
	open.Incident = &inc
	first, err := s.Send(context.Background(), sinks.Delivery{Notification: open})
	if err != nil {
		t.Fatal(err)
	}
	// Other incidents' roots after it: more than two pages.
	for i := range 2*historyPage + 50 {
		other := open
		oi := inc
		oi.ID = "other-" + strconv.Itoa(i)
		other.Incident = &oi
		if _, err := s.Send(context.Background(), sinks.Delivery{Notification: other}); err != nil {
			t.Fatal(err)
		}
	}
	before := f.Len()
	again, err := s.Send(context.Background(), sinks.Delivery{Notification: open, Resent: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != before || again.Thread != first.Thread {
		t.Errorf("resent opening: %d new messages, thread %q; want none and the first root %q (%s)", f.Len()-before, again.Thread, first.Thread, again.Detail)
	}
}

// TestResentOpeningWhenHistoryCannotBeRead: when the history cannot be
// read for a reason that may pass (a dropped connection, a 5xx), the
// resent opening is retried rather than posted, since posting may post
// the incident twice; when it cannot be read for a reason that will not
// pass (the bot lacks the scope), the page goes out, saying why.
func TestResentOpeningWhenHistoryCannotBeRead(t *testing.T) {
	for _, tc := range []struct {
		name      string
		history   func(w http.ResponseWriter)
		wantRetry bool
	}{
		{"server error", func(w http.ResponseWriter) { http.Error(w, "upstream timeout", http.StatusBadGateway) }, true},
		{"connection dropped", func(w http.ResponseWriter) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}, true},
		{"rate limited", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
		}, true},
		{"missing scope", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":false,"error":"missing_scope","needed":"channels:history"}`)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var posts atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/conversations.history":
					tc.history(w)
				case "/chat.postMessage":
					posts.Add(1)
					w.Header().Set("Content-Type", "application/json")
					_, _ = io.WriteString(w, `{"ok":true,"channel":"C0SCOPE","ts":"1700000000.000100"}`)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			s, err := New(Config{Token: token, Channel: "C0SCOPE", APIURL: srv.URL}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			r, err := s.Send(context.Background(), sinks.Delivery{Notification: sinkstest.Lifecycle()[0], Resent: true})
			retry, _ := sinks.IsRetryable(err)
			switch {
			case tc.wantRetry && (err == nil || !retry || posts.Load() != 0):
				t.Errorf("err %v (retryable %v), %d posts; want a retryable error and nothing posted", err, retry, posts.Load())
			case !tc.wantRetry && (err != nil || posts.Load() != 1 || !strings.Contains(r.Detail, "missing_scope")):
				t.Errorf("err %v, %d posts, detail %q; want the root posted once, saying the history could not be read", err, posts.Load(), r.Detail)
			}
		})
	}
}
