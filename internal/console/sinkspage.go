package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/registry"
	"github.com/wabarouter/wabarouter/internal/store"
)

// sinkView is one sink as the sinks page shows it.
type sinkView struct {
	Name, Type    string
	Pending       int
	OldestPending time.Time
	Health        SinkHealth
	HealthKnown   bool
	Dead          []store.Outbound
	CanTest       bool
}

// deadLimit bounds the dead letters listed.
const deadLimit = 500

func (c *Console) sinksPage(w http.ResponseWriter, r *http.Request, s session) {
	stats, err := c.opts.Store.Stats(r.Context(), c.now())
	if err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	dead, err := c.opts.Store.ListDead(r.Context(), deadLimit)
	if err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	var views []sinkView
	for _, sc := range c.opts.Config.Sinks {
		v := sinkView{Name: sc.Name, Type: sc.Type, Pending: stats[sc.Name].Pending, OldestPending: stats[sc.Name].OldestPending}
		if c.opts.Health != nil {
			v.Health, v.HealthKnown = c.opts.Health(sc.Name)
		}
		_, v.CanTest = c.opts.Sinks[sc.Name]
		for _, d := range dead {
			if d.Sink == sc.Name {
				v.Dead = append(v.Dead, d)
			}
		}
		views = append(views, v)
	}
	c.render(w, r, &s, http.StatusOK, "sinks", "Sinks", map[string]any{"Sinks": views})
}

// testTimeout bounds a test send, as notify-test's.
const testTimeout = 30 * time.Second

func (c *Console) testSend(w http.ResponseWriter, r *http.Request, s session) {
	name := r.PathValue("name")
	sink, ok := c.opts.Sinks[name]
	if !ok || !slices.Contains(c.opts.Config.SinkNames(), name) {
		c.fail(w, r, &s, http.StatusNotFound, fmt.Errorf("no sink %q that can be sent to", name))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
	defer cancel()
	detail, sendErr := c.sendTest(ctx, name, sink, s.User)
	a := Action{User: s.User, Role: s.Role, Action: ActionTestSend, Target: name, Detail: detail}
	if sendErr != nil {
		a.Err = sendErr.Error()
	}
	if err := c.logAction(context.WithoutCancel(r.Context()), a); err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	msg := "Sink " + name + " answered: " + detail
	if sendErr != nil {
		msg = "Sink " + name + " failed: " + sendErr.Error()
		if retry, _ := sinks.IsRetryable(sendErr); retry {
			msg += " (retryable: serve would try again later)"
		} else {
			msg += " (permanent: check the sink's settings)"
		}
	}
	c.log.InfoContext(r.Context(), "console: test notification", "user", s.User, "sink", name, "err", sendErr)
	http.Redirect(w, r, Prefix+"sinks?done="+url.QueryEscape(msg), http.StatusSeeOther)
}

// sendTest sends notify-test's notification, and resolves it on a sink
// whose incidents stay open until resolved (PagerDuty's page).
func (c *Console) sendTest(ctx context.Context, name string, sink sinks.Sink, user string) (string, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	now := c.now().UTC()
	n := notification.Notification{
		ID: hex.EncodeToString(id), Sink: name, Rule: "notify-test", Severity: notification.Info, Action: notification.Trigger,
		Title: fmt.Sprintf("wabarouter test notification: if you can read this, sink %s works", name),
		Body: fmt.Sprintf("This is a test notification sent from the wabarouter console by %s to check the settings of sink %s. "+
			"No WhatsApp Business Account event caused it and no action is needed.", user, name),
		DedupKey: "wabarouter-notify-test/" + name, Test: true, CreatedAt: now,
		Event: event.Event{Object: event.ObjectWABA, WabaID: "0", Time: now, Field: "test", Event: "NOTIFY_TEST"},
	}
	receipt, err := sink.Send(ctx, sinks.Delivery{Notification: n})
	if err != nil {
		return "", err
	}
	detail := receipt.Ref + " " + receipt.Detail
	if !c.staysOpen(name) {
		return detail, nil
	}
	resolve := n
	resolve.ID, resolve.Action, resolve.CreatedAt = n.ID+"-resolve", notification.Resolve, c.now().UTC()
	if _, err := sink.Send(ctx, sinks.Delivery{Notification: resolve}); err != nil {
		return detail, fmt.Errorf("the test trigger went out but its resolve failed (resolve dedup key %q by hand): %w", n.DedupKey, err)
	}
	return detail + "; the test incident was resolved", nil
}

func (c *Console) staysOpen(name string) bool {
	for _, sc := range c.opts.Config.Sinks {
		if sc.Name == name {
			typ, ok := registry.Lookup(sc.Type)
			return ok && typ.Capabilities != nil && typ.Capabilities(sc.Given).StaysOpen
		}
	}
	return false
}

func (c *Console) replay(w http.ResponseWriter, r *http.Request, s session) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, &s, http.StatusBadRequest, fmt.Errorf("%q is not an outbox row's id", raw))
		return
	}
	sink := ""
	if dead, err := c.opts.Store.ListDead(r.Context(), deadLimit); err == nil {
		for _, d := range dead {
			if d.ID == id {
				sink = d.Sink
			}
		}
	}
	err = c.opts.Store.Replay(r.Context(), id, c.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.fail(w, r, &s, http.StatusNotFound, fmt.Errorf("row %d is not a dead letter (replayed or dropped already?)", id))
		return
	case err != nil:
		c.failStore(w, r, &s, err)
		return
	}
	if err := c.logAction(r.Context(), Action{User: s.User, Role: s.Role, Action: ActionReplay, Target: strconv.FormatInt(id, 10),
		Detail: "sink " + sink}); err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	if c.opts.Wake != nil && sink != "" {
		c.opts.Wake([]string{sink})
	}
	c.log.InfoContext(r.Context(), "console: dead letter replayed", "user", s.User, "row", id, "sink", sink)
	http.Redirect(w, r, Prefix+"sinks?done="+url.QueryEscape(fmt.Sprintf("Row %d is queued again for %s.", id, sink)), http.StatusSeeOther)
}
