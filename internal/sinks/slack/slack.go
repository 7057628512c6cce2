package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// Config is a Slack sink's settings: either WebhookURL, or Token and
// Channel. APIURL overrides Slack's API base URL (tests).
type Config struct {
	WebhookURL string
	Token      string
	Channel    string
	APIURL     string
}

// Sink posts notifications to Slack.
type Sink struct {
	cfg     Config
	http    *http.Client
	api     *slack.Client
	secrets sinks.Secrets
}

// New validates cfg: exactly one of webhook_url or token+channel. A nil
// httpClient means a client of the sink's own (sinks.NewHTTPClient).
func New(cfg Config, httpClient *http.Client) (*Sink, error) {
	hasHook := cfg.WebhookURL != ""
	hasBot := cfg.Token != "" || cfg.Channel != ""
	switch {
	case hasHook && hasBot:
		return nil, errors.New("slack sink: set either webhook_url or token and channel, not both")
	case !hasHook && !hasBot:
		return nil, errors.New("slack sink: set webhook_url, or token and channel")
	case hasBot && (cfg.Token == "" || cfg.Channel == ""):
		return nil, errors.New("slack sink: token and channel go together; set both")
	}
	if hasHook {
		u, err := url.Parse(cfg.WebhookURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("slack sink: webhook_url %s is not an http(s) URL", sinks.RedactURL(cfg.WebhookURL))
		}
	}
	// Everything that would let someone post as this sink: the token,
	// the webhook URL, its path and the path's last part (the webhook's
	// own secret).
	secretTexts := []string{cfg.Token, cfg.WebhookURL}
	if u, err := url.Parse(cfg.WebhookURL); err == nil && len(u.Path) > 1 {
		secretTexts = append(secretTexts, u.Path)
		if last := path.Base(u.Path); len(last) >= 8 {
			secretTexts = append(secretTexts, last)
		}
	}
	secrets := sinks.NewSecrets(secretTexts...)
	// Record each exchange so errors can carry Slack's answer and
	// Retry-After, which slack-go drops for non-200 answers.
	rec := sinks.RecordingClient(httpClient, secrets)
	s := &Sink{cfg: cfg, http: rec, secrets: secrets}
	if !hasHook {
		opts := []slack.Option{slack.OptionHTTPClient(rec)}
		if cfg.APIURL != "" {
			api := cfg.APIURL
			if !strings.HasSuffix(api, "/") {
				api += "/"
			}
			opts = append(opts, slack.OptionAPIURL(api))
		}
		s.api = slack.New(cfg.Token, opts...)
	}
	return s, nil
}

// Close gives back the sink's idle connections.
func (s *Sink) Close() error {
	s.http.CloseIdleConnections()
	return nil
}

// Send posts n. With a bot token, the first send about an incident posts
// its root message and returns it ("channel:ts") as the receipt's Thread;
// each later one, handed that Thread, updates the root in place
// (chat.update) and replies in its thread with what changed. An incoming
// webhook can do neither, so every transition is a message of its own,
// a follow-up naming the incident it follows.
func (s *Sink) Send(ctx context.Context, d sinks.Delivery) (sinks.Receipt, error) {
	n := d.Notification
	if s.api == nil {
		return s.postWebhook(ctx, n)
	}
	if channel, ts, ok := strings.Cut(d.Thread, ":"); ok && n.Incident != nil && channel != "" && ts != "" {
		return s.followUp(ctx, n, channel, ts)
	}
	if d.Resent && n.Incident != nil {
		// An earlier attempt may have posted the root and died before it
		// was recorded: find it rather than post a second one.
		channel, ts, found, err := s.findRoot(ctx, n.Incident)
		if retry, _ := sinks.IsRetryable(err); err != nil && retry {
			// Slack could not be asked (a dropped connection, a 5xx, a
			// rate limit): asking again soon costs seconds, where
			// posting now may post the incident twice.
			return sinks.Receipt{}, err
		}
		if found {
			if n.Incident.Transition == notification.Opened {
				ref := channel + ":" + ts
				return sinks.Receipt{Ref: ref, Thread: ref, Detail: "ok: the incident's message was posted by an earlier attempt at " + ts + "; not posted again"}, nil
			}
			r, err := s.followUp(ctx, n, channel, ts)
			if err == nil && r.Thread == "" {
				r.Thread = channel + ":" + ts
			}
			return r, err
		}
		note := "no earlier message of the incident in the channel; "
		if err != nil {
			// Asking again will not help (no id, no scope): the page
			// goes out, perhaps a second time, rather than not at all.
			note = "could not look for an earlier message of the incident (" + err.Error() + "); "
		}
		return s.postRoot(ctx, n, note)
	}
	return s.postRoot(ctx, n, "")
}

// metadataType marks a root message as an incident's, in Slack's message
// metadata, so a later attempt can find it in the channel's history.
const metadataType = "wabarouter_incident"

// Slack's history is read this many messages a page, up to so many
// pages: enough for a root a few thousand messages back in a busy
// channel, while a retry never reads a channel's whole past.
const (
	historyPage     = 200
	historyMaxPages = 10
)

// findRoot looks among the channel's messages since the incident opened
// for the root an earlier attempt posted, newest first, page by page. It
// needs the channel's id (C…, G…), since conversations.history takes no
// name, and the bot's channels:history (or groups:history) scope; the
// error says which is missing, and is retryable when asking again can
// help.
func (s *Sink) findRoot(ctx context.Context, inc *notification.Incident) (channel, ts string, found bool, err error) {
	if !isChannelID(s.cfg.Channel) {
		return "", "", false, sinks.Permanent(fmt.Errorf("channel %q is a name, and conversations.history takes an id", s.cfg.Channel))
	}
	params := &slack.GetConversationHistoryParameters{ChannelID: s.cfg.Channel, Limit: historyPage, IncludeAllMetadata: true}
	if !inc.OpenedAt.IsZero() {
		params.Oldest = strconv.FormatInt(inc.OpenedAt.Add(-time.Minute).Unix(), 10)
	}
	for range historyMaxPages {
		hctx, ex := sinks.Recording(ctx)
		h, err := s.api.GetConversationHistoryContext(hctx, params)
		if err != nil {
			return "", "", false, s.secrets.Error(s.classify(ex, err, "conversations.history"))
		}
		for _, m := range h.Messages {
			root := m.ThreadTimestamp == "" || m.ThreadTimestamp == m.Timestamp
			if root && m.Metadata.EventType == metadataType && m.Metadata.EventPayload["incident_id"] == inc.ID {
				return s.cfg.Channel, m.Timestamp, true, nil
			}
		}
		if !h.HasMore || h.ResponseMetaData.NextCursor == "" {
			return "", "", false, nil
		}
		params.Cursor = h.ResponseMetaData.NextCursor
	}
	return "", "", false, nil
}

// isChannelID reports whether channel is an id rather than a name.
func isChannelID(channel string) bool {
	if len(channel) < 2 || strings.HasPrefix(channel, "#") {
		return false
	}
	switch channel[0] {
	case 'C', 'G', 'D':
		return strings.ToUpper(channel) == channel
	}
	return false
}

// postWebhook posts n through the incoming webhook.
func (s *Sink) postWebhook(ctx context.Context, n notification.Notification) (sinks.Receipt, error) {
	ctx, ex := sinks.Recording(ctx)
	err := slack.PostWebhookCustomHTTPContext(ctx, s.cfg.WebhookURL, s.http, FollowUp(n).webhook())
	if err != nil {
		return sinks.Receipt{}, s.secrets.Error(s.classify(ex, err, sinks.RedactURL(s.cfg.WebhookURL)))
	}
	answer := sinks.Truncate(strings.TrimSpace(string(ex.Body)), 300)
	return sinks.Receipt{Ref: n.ID, Detail: "Slack answered: " + answer}, nil
}

// postRoot posts n as an incident's root message; note says why it is a
// new root when it replaces one that could not be updated. The receipt's
// Ref and, for a notification of an incident, Thread are channel:ts.
func (s *Sink) postRoot(ctx context.Context, n notification.Notification, note string) (sinks.Receipt, error) {
	ctx, ex := sinks.Recording(ctx)
	opts := Root(n).options()
	if n.Incident != nil {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: metadataType,
			EventPayload: map[string]any{"incident_id": n.Incident.ID, "episode": n.Incident.Episode}}))
	}
	channel, ts, err := s.api.PostMessageContext(ctx, s.cfg.Channel, opts...)
	if err != nil {
		return sinks.Receipt{}, s.secrets.Error(s.classify(ex, err, "chat.postMessage"))
	}
	ref := channel + ":" + ts
	r := sinks.Receipt{Ref: ref, Detail: s.secrets.Redact(note + "ok: posted to " + channel + " at " + ts)}
	if n.Incident != nil {
		r.Thread = ref
	}
	return r, nil
}

// cannotUpdate are the chat.update error codes after which the root
// cannot be updated any more: it was deleted, was not posted by this
// app, or the workspace's edit window closed. The transition then goes
// out as a new root message.
var cannotUpdate = map[string]bool{"message_not_found": true, "cant_update_message": true, "edit_window_closed": true}

// followUp updates the incident's root message at channel and ts to n's
// state, then replies in its thread with what changed. The update comes
// first: it is the same whenever it is repeated, so a retry after a
// failed reply does not post the reply twice.
func (s *Sink) followUp(ctx context.Context, n notification.Notification, channel, ts string) (sinks.Receipt, error) {
	uctx, ex := sinks.Recording(ctx)
	_, _, _, err := s.api.UpdateMessageContext(uctx, channel, ts, Root(n).options()...)
	var ser slack.SlackErrorResponse
	if errors.As(err, &ser) && cannotUpdate[ser.Err] {
		return s.postRoot(ctx, n, "the incident's message could not be updated ("+ser.Err+"), so a new one was posted; ")
	}
	if err != nil {
		return sinks.Receipt{}, s.secrets.Error(s.classify(ex, err, "chat.update"))
	}
	rctx, ex := sinks.Recording(ctx)
	_, replyTS, err := s.api.PostMessageContext(rctx, channel, append(Reply(n).options(), slack.MsgOptionTS(ts))...)
	if err != nil {
		return sinks.Receipt{}, s.secrets.Error(s.classify(ex, err, "chat.postMessage in the incident's thread"))
	}
	detail := "ok: updated " + channel + " at " + ts + " and replied in its thread at " + replyTS
	return sinks.Receipt{Ref: channel + ":" + replyTS, Detail: s.secrets.Redact(detail)}, nil
}

// hint says what to do about a Slack error code retrying will not fix;
// ok is false for codes it does not know.
func hint(code, channel string) (string, bool) {
	switch code {
	case "invalid_auth", "not_authed":
		return "the bot token is not valid; fix `token`", true
	case "token_revoked", "token_expired":
		return "the bot token was revoked; reinstall the Slack app and update `token`", true
	case "account_inactive":
		return "the token belongs to a deactivated user or workspace; use a token of an active bot", true
	case "channel_not_found", "not_in_channel", "is_archived", "channel_is_archived":
		if channel == "" {
			return "the incoming webhook's channel is gone or archived; create a new webhook and fix `webhook_url`", true
		}
	}
	switch code {
	case "channel_not_found":
		return fmt.Sprintf("invite the bot to %s or fix `channel`", channelRef(channel)), true
	case "not_in_channel":
		return fmt.Sprintf("invite the bot to %s (/invite @your-bot) or fix `channel`", channelRef(channel)), true
	case "is_archived", "channel_is_archived":
		return fmt.Sprintf("%s is archived; unarchive it or fix `channel`", channelRef(channel)), true
	case "missing_scope":
		return "the bot lacks the chat:write scope; add it and reinstall the app", true
	case "invalid_token", "no_service", "no_team", "team_disabled":
		return "the incoming webhook is disabled or wrong; create a new one and fix `webhook_url`", true
	case "action_prohibited", "posting_to_general_channel_denied":
		return "an admin restricted posting to this channel; pick another channel", true
	}
	return "", false
}

// retryableCodes are Slack error codes worth retrying.
var retryableCodes = map[string]bool{
	"ratelimited": true, "rate_limited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true,
}

func channelRef(ch string) string {
	if ch == "" {
		return "the webhook's channel"
	}
	if strings.HasPrefix(ch, "#") || strings.HasPrefix(ch, "C") || strings.HasPrefix(ch, "G") {
		return ch
	}
	return "#" + ch
}

// classify turns a slack-go error from a request to target into a
// classified error, preferring what the exchange recorded; Send cuts the
// secrets out of it.
func (s *Sink) classify(rec *sinks.Exchange, err error, target string) error {
	var rl *slack.RateLimitedError
	var ser slack.SlackErrorResponse
	var sce slack.StatusCodeError
	var out error
	switch {
	case rec.Status == http.StatusTooManyRequests:
		// slack-go only understands Retry-After in seconds; read the
		// header ourselves so an HTTP date works too.
		out = sinks.Retryable(fmt.Errorf("slack sink: rate limited: %w", err), sinks.RetryAfter(rec.Header, time.Now()))
	case errors.As(err, &rl):
		out = sinks.Retryable(fmt.Errorf("slack sink: rate limited: %w", err), rl.RetryAfter)
	case errors.As(err, &ser):
		out = s.codeError(ser.Err, err)
	case errors.As(err, &sce):
		code := strings.TrimSpace(string(rec.Body))
		if h, ok := hint(code, s.cfg.Channel); ok {
			out = sinks.Permanent(fmt.Errorf("slack sink: Slack says %s: %s: %w", code, h, err))
		} else {
			out = fmt.Errorf("slack sink: %w", sinks.ClassifyHTTP(sce.Code, rec.Header, rec.Body))
		}
	case rec.Err != nil:
		out = fmt.Errorf("slack sink: POST %s: %w", target, rec.Err)
	default:
		out = fmt.Errorf("slack sink: %w", sinks.StripURL(err))
	}
	return out
}

func (s *Sink) codeError(code string, err error) error {
	if h, ok := hint(code, s.cfg.Channel); ok {
		return sinks.Permanent(fmt.Errorf("slack sink: Slack says %s: %s: %w", code, h, err))
	}
	if retryableCodes[code] {
		return sinks.Retryable(fmt.Errorf("slack sink: Slack says %s: %w", code, err), 0)
	}
	return sinks.Permanent(fmt.Errorf("slack sink: Slack says %s: %w", code, err))
}
