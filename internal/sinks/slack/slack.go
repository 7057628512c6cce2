package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/slack-go/slack"

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
// httpClient means http.DefaultClient.
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

// Send posts n. For chat.postMessage the receipt's Ref is channel:ts.
func (s *Sink) Send(ctx context.Context, d sinks.Delivery) (sinks.Receipt, error) {
	n := d.Notification
	att := Attachment(n)
	ctx, ex := sinks.Recording(ctx)
	if s.api == nil {
		err := slack.PostWebhookCustomHTTPContext(ctx, s.cfg.WebhookURL, s.http, &slack.WebhookMessage{
			Text:        att.Fallback,
			Attachments: []slack.Attachment{att},
		})
		if err != nil {
			return sinks.Receipt{}, s.secrets.Error(s.classify(ex, err))
		}
		answer := sinks.Truncate(strings.TrimSpace(string(ex.Body)), 300)
		return sinks.Receipt{Ref: n.ID, Detail: "Slack answered: " + answer}, nil
	}
	channel, ts, err := s.api.PostMessageContext(ctx, s.cfg.Channel,
		slack.MsgOptionText(att.Fallback, false),
		slack.MsgOptionAttachments(att))
	if err != nil {
		return sinks.Receipt{}, s.secrets.Error(s.classify(ex, err))
	}
	detail := s.secrets.Redact("ok: posted to " + channel + " at " + ts)
	return sinks.Receipt{Ref: channel + ":" + ts, Detail: detail}, nil
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

// classify turns a slack-go error into a classified error, preferring
// what the exchange recorded; Send cuts the secrets out of it.
func (s *Sink) classify(rec *sinks.Exchange, err error) error {
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
		out = fmt.Errorf("slack sink: POST %s: %w", s.target(), rec.Err)
	default:
		out = fmt.Errorf("slack sink: %w", sinks.StripURL(err))
	}
	return out
}

// target names where the sink posts, without its secrets.
func (s *Sink) target() string {
	if s.api == nil {
		return sinks.RedactURL(s.cfg.WebhookURL)
	}
	return "chat.postMessage"
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
