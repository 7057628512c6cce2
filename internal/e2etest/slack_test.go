package e2etest

import (
	"context"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// TestSlackFakeUpdatesAndThreads: the fake takes a root message, a reply
// under it and an update of it, recording the update apart from the
// posts with the channel id and ts it changed; it refuses an update or a
// reply naming a message it never posted, an update naming the channel
// by name, and an update with another token.
func TestSlackFakeUpdatesAndThreads(t *testing.T) {
	const token = "xoxb-thread-test"
	f := ServeSlack(t, token, nil)
	api := slack.New(token, slack.OptionAPIURL(f.APIURL()))

	channel, rootTS, err := api.PostMessage("#incidents", slack.MsgOptionText("root", false))
	if err != nil || channel == "#incidents" || !strings.HasPrefix(channel, "C") || rootTS == "" {
		t.Fatalf("root: %q %q %v; want the channel's id and a ts", channel, rootTS, err)
	}
	again, _, err := api.PostMessage("incidents", slack.MsgOptionText("another root", false))
	if err != nil || again != channel {
		t.Fatalf("a second post to the same channel by name: %q %v, want %q", again, err, channel)
	}
	_, replyTS, err := api.PostMessage(channel, slack.MsgOptionText("reply", false), slack.MsgOptionTS(rootTS))
	if err != nil || replyTS == "" || replyTS == rootTS {
		t.Fatalf("reply: %q %v", replyTS, err)
	}
	if _, ts, _, err := api.UpdateMessage(channel, rootTS, slack.MsgOptionText("root, resolved", false),
		slack.MsgOptionAttachments(slack.Attachment{Color: "#2eb67d", Text: "resolved"})); err != nil || ts != rootTS {
		t.Fatalf("update: %q %v", ts, err)
	}

	f.Want(1, "the root in #incidents", func(m SlackMessage) bool {
		return m.Via == SlackViaAPI && m.Channel == "#incidents" && m.ChannelID == channel && m.TS == rootTS && m.ThreadTS == "" && m.Text == "root"
	})
	f.Want(1, "the second root", func(m SlackMessage) bool { return m.Text == "another root" && m.ThreadTS == "" })
	f.Want(1, "the reply in the root's thread", func(m SlackMessage) bool {
		return m.Via == SlackViaAPI && m.ThreadTS == rootTS && m.TS == replyTS && m.Text == "reply"
	})
	f.Updates.Want(1, "the root updated in place", func(m SlackMessage) bool {
		return m.Via == SlackViaUpdate && m.Channel == channel && m.ChannelID == channel && m.TS == rootTS &&
			m.Token == token && m.Text == "root, resolved" && len(m.Attachments) == 1 && m.Attachments[0].Color == "#2eb67d"
	})
	f.Check(t)
	f.Updates.Check(t)

	refusals := []struct {
		what string
		call func() error
		code string
	}{
		{"an update of a message never posted", func() error {
			_, _, _, err := api.UpdateMessage(channel, "1.000001", slack.MsgOptionText("x", false))
			return err
		}, "message_not_found"},
		{"an update naming the channel by name", func() error {
			_, _, _, err := api.UpdateMessage("#incidents", rootTS, slack.MsgOptionText("x", false))
			return err
		}, "channel_not_found"},
		{"an update with another token", func() error {
			_, _, _, err := slack.New("xoxb-other", slack.OptionAPIURL(f.APIURL())).UpdateMessage(channel, rootTS, slack.MsgOptionText("x", false))
			return err
		}, "invalid_auth"},
		{"an empty update", func() error {
			_, _, _, err := api.UpdateMessage(channel, rootTS)
			return err
		}, "no_text"},
	}
	for _, r := range refusals {
		if err := r.call(); err == nil || err.Error() != r.code {
			t.Errorf("%s: %v, want %s", r.what, err, r.code)
		}
	}
	if n, reasons := f.Updates.Refusals(); n != len(refusals) {
		t.Errorf("update refusals %d %q, want %d", n, reasons, len(refusals))
	}
	if _, _, err := api.PostMessage(channel, slack.MsgOptionText("x", false), slack.MsgOptionTS("1.000002")); err == nil || err.Error() != "thread_not_found" {
		t.Errorf("a reply under a message never posted: %v, want thread_not_found", err)
	}
	if n, _ := f.Refusals(); n != 1 {
		t.Errorf("post refusals %d, want the reply under nothing", n)
	}
	if f.Updates.Len() != 1 || f.Len() != 3 {
		t.Errorf("recorded %d updates and %d posts, want 1 and 3", f.Updates.Len(), f.Len())
	}
}

// TestSlackFakeFailedUpdate: an update the test's responder fails is
// answered with the failure and not recorded.
func TestSlackFakeFailedUpdate(t *testing.T) {
	const token = "xoxb-thread-test"
	f := ServeSlack(t, token, func(_ context.Context, m SlackMessage) Answer {
		if m.Via == SlackViaUpdate {
			return SlackAPIError("ratelimited")
		}
		return Answer{}
	})
	api := slack.New(token, slack.OptionAPIURL(f.APIURL()))
	channel, ts, err := api.PostMessage("C1", slack.MsgOptionText("root", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessage(channel, ts, slack.MsgOptionText("x", false)); err == nil || err.Error() != "ratelimited" {
		t.Errorf("update: %v, want ratelimited", err)
	}
	if f.Updates.Len() != 0 || f.Attempts() != 2 {
		t.Errorf("%d updates recorded, %d attempts; want none and 2", f.Updates.Len(), f.Attempts())
	}
}
