package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// TestSlackHeldToItsRatePagerDutyNot: a burst of 100 restrictions of 100
// accounts reaches a Slack incoming webhook no faster than Slack's one
// message a second, the Slack sinks' default, every one of them once,
// while a PagerDuty sink of the same rule takes its 100 at once.
func TestSlackHeldToItsRatePagerDutyNot(t *testing.T) {
	t.Parallel()
	const n = 100
	slackFake := e2etest.ServeSlack(t, "xoxb-unused", nil)
	pd := e2etest.ServePagerDuty(t, pdRoutingKey, nil)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%q]
store: {path: %s}
rules:
  - {name: restrictions, when: 'field == "account_update"', to: [team-slack, oncall]}
sinks:
  - {name: team-slack, type: slack, webhook_url: %q}
  - {name: oncall, type: pagerduty, routing_key: %s, events_url: %s}
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), slackFake.WebhookURL(), pdRoutingKey, pd.URL())
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg})
	p := r.Start(t)
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixMilli()
	start := time.Now()
	for i := range n {
		body := restrictionAt(fmt.Sprintf("8880000000%03d", i), base+int64(i)*1000)
		if code, answer := p.PostSigned(t, appSecret, body); code != http.StatusOK {
			t.Fatalf("webhook %d: %d %q, want 200", i, code, answer)
		}
	}
	pd.AwaitCount(t, n)
	pdDone := time.Since(start)
	// The harness waits at most a minute at a time; the Slack queue takes
	// a hundred seconds, so it is awaited in parts.
	for _, part := range []int{n / 3, 2 * n / 3, n} {
		slackFake.AwaitCount(t, part)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.AwaitDrained(ctx); err != nil {
		t.Fatal(err)
	}

	if pdDone > 15*time.Second {
		t.Errorf("PagerDuty took its %d events in %s, want within a few seconds: the Slack sink's rate held it up", n, pdDone)
	}
	msgs := slackFake.Received()
	if len(msgs) != n {
		t.Fatalf("Slack got %d messages, want %d", len(msgs), n)
	}
	wabas := map[string]int{}
	for _, m := range msgs {
		for i := range n {
			if waba := fmt.Sprintf("8880000000%03d", i); strings.Contains(m.Rendered(), waba) {
				wabas[waba]++
			}
		}
	}
	for waba, c := range wabas {
		if c != 1 {
			t.Errorf("Slack got %d messages about %s, want 1", c, waba)
		}
	}
	if len(wabas) != n {
		t.Errorf("Slack's messages name %d accounts, want %d", len(wabas), n)
	}
	// Burst 1 at 1/s: 100 messages take 99 intervals of a second.
	span := msgs[n-1].At.Sub(msgs[0].At)
	if span < 98*time.Second {
		t.Errorf("Slack got %d messages in %s, want no faster than one a second (about 99s)", n, span)
	}
	for i := 1; i < n; i++ {
		if gap := msgs[i].At.Sub(msgs[i-1].At); gap < 500*time.Millisecond {
			t.Errorf("messages %d and %d reached Slack %s apart, want about a second", i-1, i, gap)
		}
	}
	t.Logf("PagerDuty: %d events in %s; Slack: %d messages over %s", n, pdDone.Round(time.Millisecond), n, span.Round(time.Millisecond))
}

// fallbackBody is the fallback_for of a webhook sink's notification.
type fallbackBody struct {
	FallbackFor *struct {
		Sink         string `json:"sink"`
		Reason       string `json:"reason"`
		Notification string `json:"notification"`
		DeadLettered bool   `json:"dead_lettered"`
	} `json:"fallback_for"`
}

// TestFallbackTakesOver: a webhook sink that answers 500 for good hands
// each notification to its fallback once it has failed for two seconds,
// and goes on retrying; one answering 400 dead-letters each at once and
// hands it to a Slack fallback. Each fallback gets each notification
// once, marked as a fallback, and Slack shows whose it was.
func TestFallbackTakesOver(t *testing.T) {
	t.Parallel()
	const n = 3
	down := e2etest.ServeWebhookReceiver(t, "hook-secret", e2etest.WebhookReceiverOptions{
		Respond: func(context.Context, e2etest.WebhookDelivery) e2etest.Answer {
			return e2etest.Answer{Status: http.StatusInternalServerError, Body: "down for maintenance"}
		}})
	refusing := e2etest.ServeWebhookReceiver(t, "hook-secret", e2etest.WebhookReceiverOptions{
		Respond: func(context.Context, e2etest.WebhookDelivery) e2etest.Answer {
			return e2etest.Answer{Status: http.StatusBadRequest, Body: "no such tenant"}
		}})
	backup := e2etest.ServeWebhookReceiver(t, "hook-secret", e2etest.WebhookReceiverOptions{})
	slackFake := e2etest.ServeSlack(t, "xoxb-unused", nil)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%q]
store: {path: %s}
rules:
  - {name: restrictions, when: 'field == "account_update"', to: [tickets, compliance-hook]}
sinks:
  - {name: tickets, type: webhook, url: %s, secret: hook-secret, fallback: {to: [backup], after: 2s}}
  - {name: compliance-hook, type: webhook, url: %s, secret: hook-secret, fallback: {to: compliance-slack}}
  - {name: backup, type: webhook, url: %s, secret: hook-secret}
  - {name: compliance-slack, type: slack, webhook_url: %q}
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), down.URL(), refusing.URL(), backup.URL(), slackFake.WebhookURL())
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Config: cfg})
	p := r.Start(t)
	backup.Want(n, "the restrictions tickets could not take, marked as its fallback", func(d e2etest.WebhookDelivery) bool {
		var fb fallbackBody
		if err := json.Unmarshal(d.Body, &fb); err != nil || fb.FallbackFor == nil {
			return false
		}
		return d.Notification.Sink == "backup" && fb.FallbackFor.Sink == "tickets" && !fb.FallbackFor.DeadLettered &&
			strings.Contains(fb.FallbackFor.Reason, "HTTP 500") && fb.FallbackFor.Notification != "" &&
			strings.HasPrefix(d.Notification.Event.WabaID, "8890000000")
	})
	slackFake.Want(n, "the restrictions compliance-hook refused, saying so", func(m e2etest.SlackMessage) bool {
		return strings.Contains(m.Rendered(), "Fallback for") && strings.Contains(m.Rendered(), "compliance-hook: ") &&
			strings.Contains(m.Rendered(), "HTTP 400") && strings.Contains(m.Rendered(), "8890000000")
	})
	posted := time.Now()
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixMilli()
	for i := range n {
		if code, answer := p.PostSigned(t, appSecret, restrictionAt(fmt.Sprintf("8890000000%02d", i), base+int64(i)*1000)); code != http.StatusOK {
			t.Fatalf("webhook %d: %d %q, want 200", i, code, answer)
		}
	}
	backup.Await(t)
	if waited := time.Since(posted); waited < 2*time.Second {
		t.Errorf("the fallback got them %s after the post, want after the 2s tickets is given", waited)
	}
	slackFake.Await(t)
	// tickets goes on retrying after the hand-over; every failure past
	// the limit must not hand over again.
	handedAt := down.Attempts()
	deadline := time.Now().Add(e2etest.WaitTimeout)
	for down.Attempts() < handedAt+2*n {
		if time.Now().After(deadline) {
			t.Fatalf("tickets made %d attempts after the hand-over, want it to keep retrying", down.Attempts()-handedAt)
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := p.Metrics(t)
	if got := m.Get("wabarouter_outbox_pending", "sink", "backup"); got != 0 {
		t.Fatalf("backup still has %v pending", got)
	}
	if got := m.Get("wabarouter_outbox_pending", "sink", "tickets"); got != n {
		t.Errorf("tickets has %v pending, want its %d still retried", got, n)
	}
	backup.Check(t)
	slackFake.Check(t)
	ids := map[string]bool{}
	for _, d := range backup.Received() {
		ids[d.Notification.ID] = true
	}
	if len(ids) != n {
		t.Errorf("backup got ids %v, want %d different", ids, n)
	}
	for sink, want := range map[string]float64{"backup": n, "compliance-slack": n, "tickets": 0, "compliance-hook": 0} {
		if got := m.Get("wabarouter_notifications_total", "sink", sink, "outcome", "fallback"); got != want {
			t.Errorf("notifications_total{sink=%s,outcome=fallback} = %v, want %v", sink, got, want)
		}
	}
	if got := m.Get("wabarouter_notifications_total", "sink", "compliance-hook", "outcome", "dead_lettered"); got != n {
		t.Errorf("compliance-hook dead-lettered %v, want %d", got, n)
	}
}
