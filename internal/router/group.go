package router

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/lifecycle"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
)

// timerGroupFlush sends a group's pending changes: its opening, wait
// after the first item, and later its updates, at most one per wait.
const timerGroupFlush = "group-flush"

// Grouped is the outcome of a notification a grouping rule made for an
// event that joined a group: it goes out later, in the group's
// notification (HeldUntil says when), listing the event as an item.
const Grouped Outcome = "grouped"

// groupState is a group incident's own state, in its detail: its items
// and what the sinks were told of them.
type groupState struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
	// Items are the problems the group follows, oldest first, at most
	// the rule's group.max; Extra counts those beyond.
	Items []groupItem `json:"items"`
	Extra int         `json:"extra,omitempty"`
	// Flushed is set once the group's opening went out.
	Flushed bool `json:"flushed,omitempty"`
	// Pending marks changes the sinks have not been told of; Due is when
	// the flush timer tells them (zero when none is set).
	Pending bool      `json:"pending,omitempty"`
	Due     time.Time `json:"due,omitzero"`
	// Sent is when the group's last notification was made.
	Sent time.Time `json:"sent,omitzero"`
	// Runbook is the first item's "what to do" link.
	Runbook string `json:"runbook,omitempty"`
}

// groupItem is one problem of a group.
type groupItem struct {
	Key        string                `json:"key"`
	Title      string                `json:"title"`
	Severity   notification.Severity `json:"severity"`
	Rank       int                   `json:"rank,omitempty"`
	At         time.Time             `json:"at"`
	LastSeen   time.Time             `json:"last_seen"`
	ResolvedAt time.Time             `json:"resolved_at,omitzero"`
	Events     int                   `json:"events"`
	// Silence names the silence that hid the item's event: the item is
	// kept, quietly, and never listed to the sinks.
	Silence string `json:"silence,omitempty"`
}

func (gs *groupState) find(key string) int {
	return slices.IndexFunc(gs.Items, func(it groupItem) bool { return it.Key == key })
}

// open counts the items not resolved, the silenced ones too.
func (gs *groupState) open() int {
	n := 0
	for _, it := range gs.Items {
		if it.ResolvedAt.IsZero() {
			n++
		}
	}
	return n
}

// visible are the items the sinks are told of: all but the silenced.
func (gs *groupState) visible() []groupItem {
	return slices.DeleteFunc(slices.Clone(gs.Items), func(it groupItem) bool { return it.Silence != "" })
}

// group runs a grouping rule's event through its group: the event's
// problem becomes an item of the group incident its group.by values
// name, opening it if none is open. The group's notification is held
// until wait has passed since the first item, so that what arrives by
// then goes out in it; later items update it, at most once per wait.
// An escalation goes out at once.
func (r *Router) group(ctx context.Context, tx store.Tx, ec *eventCtx, m rules.Match, course lifecycle.Course) error {
	rule, g := m.Rule, m.Rule.Group
	key := g.Key(rule.Name, ec.ev)
	inc, found, err := tx.Incident(ctx, rule.Name, key)
	if err != nil {
		return err
	}
	if found && ec.touched[inc.ID] {
		return nil // resolved by this very event
	}
	det := decodeDetail(inc.Detail)
	opening := !found || inc.State != stateOpen
	if opening {
		episode := 1
		if found {
			episode = inc.Episode + 1
		}
		inc = store.Incident{ID: incidentID(rule.Name, key, episode), Rule: rule.Name, Key: key, Episode: episode,
			WabaID: ec.ev.WabaID, State: stateOpen, Severity: int(m.Severity), Title: m.Title, OpenedAt: ec.now, UpdatedAt: ec.now}
		det = detail{Rank: course.Rank}
	}
	if det.Group == nil {
		det.Group = &groupState{Key: key, Values: g.Values(ec.ev), Runbook: m.Runbook}
	}
	gs := det.Group
	inc.Events++
	inc.Seq++
	inc.UpdatedAt = ec.now
	det.Event = g.Project(ec.ev)

	var changes []string
	escalated := false
	quiet := ec.silence != nil
	switch i := gs.find(m.DedupKey); {
	case i >= 0:
		it := &gs.Items[i]
		it.Events++
		it.LastSeen = ec.now
		if !it.ResolvedAt.IsZero() {
			it.ResolvedAt = time.Time{}
			changes = append(changes, "again: "+it.Title)
		}
		if (course.Rank > it.Rank && it.Rank > 0) || m.Severity > it.Severity {
			escalated = !quiet
			changes = append(changes, "worse: "+m.Title)
		}
		it.Rank, it.Severity, it.Title = max(it.Rank, course.Rank), max(it.Severity, m.Severity), m.Title
		if !quiet {
			it.Silence = ""
		}
	case len(gs.Items) < g.Max:
		it := groupItem{Key: m.DedupKey, Title: m.Title, Severity: m.Severity, Rank: course.Rank, At: ec.now, LastSeen: ec.now, Events: 1}
		if quiet {
			it.Silence = ec.silence.ID
		}
		gs.Items = append(gs.Items, it)
	default:
		gs.Extra++
	}
	if !opening && !quiet {
		was := notification.Severity(inc.Severity)
		if m.Severity > was {
			escalated = true
			changes = append(changes, fmt.Sprintf("severity %s → %s", was, m.Severity))
			inc.Severity = int(m.Severity)
		}
		if course.Rank > det.Rank {
			escalated = true
			changes = append(changes, "worse: "+describe(ec.ev))
		}
	}
	det.Rank = max(det.Rank, course.Rank)
	ec.touched[inc.ID] = true

	tr, reason := notification.Grouped, ""
	switch {
	case quiet:
		reason = fmt.Sprintf("joined group %s quietly: %s; it is kept in the group, never listed to the sinks", inc.ID, silenced(ec.silence))
	case escalated:
		tr = notification.Escalated
		if !gs.Flushed {
			tr = notification.Opened
		}
		reason = "an escalation inside the group goes out at once"
	default:
		tr, reason, err = r.groupChanged(ctx, tx, ec, &inc, &det, g)
		if err != nil {
			return err
		}
	}
	ec.d.Incidents = append(ec.d.Incidents, IncidentTransition{ID: inc.ID, Rule: inc.Rule, Key: inc.Key, Episode: inc.Episode,
		Seq: inc.Seq, Transition: tr, Reason: reason})
	if tr != notification.Grouped {
		return r.sendGroup(ctx, tx, ec, &inc, &det, rule, tr, changes, "group")
	}
	// Every item is on record with what became of it, and route and
	// test show when it goes out.
	info := incidentInfo(inc, tr, changes, "")
	for _, n := range m.Notifications(ec.now) {
		n.ID = notificationID(ec.fp, rule.Name, n.Sink)
		n.DedupKey = episodeKey(inc.Key, inc.Episode)
		n.Incident = &info
		nd := NotificationDecision{Notification: n, Outcome: Grouped, Reason: reason, HeldUntil: gs.Due}
		if quiet {
			nd.Outcome, nd.Silence, nd.HeldUntil = Silenced, ec.silence.ID, time.Time{}
		}
		ec.d.Notifications = append(ec.d.Notifications, nd)
	}
	inc.Detail = det.encode()
	return tx.SaveIncident(ctx, inc)
}

// groupChanged decides when the sinks hear of a change to the group that
// is no escalation (an item joining or resolving): with the opening,
// when it has not gone out yet; at once, when the group's last
// notification is wait old; else at the flush wait after it. It returns
// the transition to send now, or Grouped with the flush timer set and
// why.
func (r *Router) groupChanged(ctx context.Context, tx store.Tx, ec *eventCtx, inc *store.Incident, det *detail, g *rules.Group) (notification.Transition, string, error) {
	gs := det.Group
	switch {
	case !gs.Flushed:
		if gs.Due.IsZero() {
			gs.Due = ec.now.Add(g.Wait)
		}
	case gs.Due.IsZero() && !ec.now.Before(gs.Sent.Add(g.Wait)):
		return notification.Updated, "", nil
	case gs.Due.IsZero():
		gs.Due = gs.Sent.Add(g.Wait)
	}
	gs.Pending = true
	if err := tx.SetTimer(ctx, store.Timer{IncidentID: inc.ID, Kind: timerGroupFlush, Due: gs.Due}); err != nil {
		return "", "", err
	}
	when := gs.Due.UTC().Format("2006-01-02 15:04:05 UTC")
	if !gs.Flushed {
		return notification.Grouped, fmt.Sprintf("grouped into %s (%s): its notification goes out at %s with every item that joins by then",
			inc.ID, groupWhat(g, gs), when), nil
	}
	return notification.Grouped, fmt.Sprintf("grouped into %s (%s): the group's message is updated at %s", inc.ID, groupWhat(g, gs), when), nil
}

// groupWhat names a group for people: "waba_id 102290129340398, field
// message_template_status_update".
func groupWhat(g *rules.Group, gs *groupState) string {
	parts := make([]string, 0, len(g.By))
	for i, by := range g.By {
		v := ""
		if i < len(gs.Values) {
			v = gs.Values[i]
		}
		if v == "" {
			v = "(none)"
		}
		parts = append(parts, by+" "+v)
	}
	return strings.Join(parts, ", ")
}

// sendGroup makes the group's notification of transition tr for each of
// the rule's sinks, listing its items, and records that the sinks were
// told: nothing is pending, no flush is due.
func (r *Router) sendGroup(ctx context.Context, tx store.Tx, ec *eventCtx, inc *store.Incident, det *detail, rule *rules.Rule,
	tr notification.Transition, changes []string, tag string) error {
	gs := det.Group
	ng := notificationGroup(rule.Group, gs)
	if tr == notification.Updated && len(changes) == 0 {
		changes = groupNews(gs)
	}
	if !gs.Due.IsZero() {
		if err := tx.DeleteTimer(ctx, store.Timer{IncidentID: inc.ID, Kind: timerGroupFlush}); err != nil {
			return err
		}
	}
	gs.Flushed, gs.Pending, gs.Due, gs.Sent = true, false, time.Time{}, ec.now
	inc.Title = groupTitle(ng)
	det.Notified = ec.now
	if rule.Renotify > 0 {
		if err := tx.SetTimer(ctx, store.Timer{IncidentID: inc.ID, Kind: timerRemind, Due: ec.now.Add(rule.Renotify)}); err != nil {
			return err
		}
	}
	info := incidentInfo(*inc, tr, changes, "")
	body := groupBody(rule, ng)
	var ns []notification.Notification
	for _, sink := range rule.To {
		ns = append(ns, notification.Notification{
			ID: notificationID(ec.fp, tag+"\x00"+inc.ID, sink), Sink: sink, Rule: rule.Name, RuleDescription: rule.Description,
			Severity: notification.Severity(inc.Severity), Action: notification.Trigger, Title: inc.Title, Body: body,
			DedupKey: episodeKey(inc.Key, inc.Episode), Runbook: gs.Runbook, Incident: &info, Group: ng,
			CreatedAt: ec.now, Event: det.Event,
		})
	}
	if err := r.send(ctx, tx, ec, inc, ns); err != nil {
		return err
	}
	inc.Detail = det.encode()
	return tx.SaveIncident(ctx, *inc)
}

// groupNews says what changed since the group's last notification: how
// many items joined and how many resolved.
func groupNews(gs *groupState) []string {
	added, resolved := 0, 0
	for _, it := range gs.visible() {
		if it.At.After(gs.Sent) {
			added++
		}
		if !it.ResolvedAt.IsZero() && it.ResolvedAt.After(gs.Sent) {
			resolved++
		}
	}
	var out []string
	if added > 0 {
		out = append(out, fmt.Sprintf("%s joined", items(added)))
	}
	if resolved > 0 {
		out = append(out, fmt.Sprintf("%s resolved", items(resolved)))
	}
	return out
}

func items(n int) string {
	if n == 1 {
		return "1 item"
	}
	return strconv.Itoa(n) + " items"
}

// notificationGroup is what the sinks are told of a group: its visible
// items, those beyond max counted.
func notificationGroup(g *rules.Group, gs *groupState) *notification.Group {
	ng := &notification.Group{Key: gs.Key, Values: slices.Clone(gs.Values), Total: gs.Extra}
	if g != nil {
		ng.By = slices.Clone(g.By)
	}
	ng.Open = gs.Extra
	for _, it := range gs.visible() {
		state := notification.Open
		if !it.ResolvedAt.IsZero() {
			state = notification.ResolvedState
		} else {
			ng.Open++
		}
		ng.Items = append(ng.Items, notification.GroupItem{Key: it.Key, Title: it.Title, Severity: it.Severity, At: it.At,
			LastSeen: it.LastSeen, State: state, Events: it.Events})
		ng.Total++
	}
	return ng
}

// groupTitle is the group's title: its one item's, or the first item's
// and how many more there are.
func groupTitle(ng *notification.Group) string {
	switch {
	case len(ng.Items) == 0:
		return fmt.Sprintf("%s grouped", items(ng.Total))
	case ng.Total == 1:
		return ng.Items[0].Title
	}
	return fmt.Sprintf("%s, and %d more", ng.Items[0].Title, ng.Total-1)
}

// groupBody says in a sentence what the group is; the sinks list the
// items under it.
func groupBody(rule *rules.Rule, ng *notification.Group) string {
	what := make([]string, 0, len(ng.By))
	for i, by := range ng.By {
		v := ""
		if i < len(ng.Values) {
			v = ng.Values[i]
		}
		what = append(what, by+" "+v)
	}
	s := fmt.Sprintf("%s of rule %q, grouped by %s; %d open.", items(ng.Total), rule.Name, strings.Join(what, ", "), ng.Open)
	if more := ng.More(); more > 0 {
		s += fmt.Sprintf(" The group lists %d of them (group.max); %d more are counted only.", len(ng.Items), more)
	}
	return s
}

// groupRecoveries ends the items ev recovers in the groups of the
// grouping rules: a rule's own recovery (its resolve_when, else the
// schema's), or a resolve rule matching the item's key. A group whose
// every item is resolved resolves at once; otherwise the group's message
// is updated as for a new item.
func (r *Router) groupRecoveries(ctx context.Context, tx store.Tx, ec *eventCtx, course lifecycle.Course, matches []rules.Match) error {
	for _, rule := range ec.set.Rules {
		if rule.Group == nil || rule.Action != notification.Trigger {
			continue
		}
		var keys []string
		reason := ""
		if ok, err := recovers(rule, course, ec.ev); err != nil {
			ec.d.RuleErrors = append(ec.d.RuleErrors, RuleFailure{Rule: rule.Name, Err: err})
		} else if ok {
			if key, err := ec.set.IncidentKey(rule, ec.ev); err == nil {
				keys, reason = append(keys, key), "ended by "+describe(ec.ev)
			}
		}
		for _, m := range matches {
			if m.Action == notification.Resolve && !slices.Contains(keys, m.DedupKey) {
				keys = append(keys, m.DedupKey)
				if reason == "" {
					reason = "resolved by rule " + strconv.Quote(m.Rule.Name)
				}
			}
		}
		if len(keys) == 0 {
			continue
		}
		if err := r.endGroupItems(ctx, tx, ec, rule, keys, reason); err != nil {
			return err
		}
	}
	return nil
}

func (r *Router) endGroupItems(ctx context.Context, tx store.Tx, ec *eventCtx, rule *rules.Rule, keys []string, reason string) error {
	inc, found, err := tx.Incident(ctx, rule.Name, rule.Group.Key(rule.Name, ec.ev))
	if err != nil || !found || inc.State != stateOpen || ec.touched[inc.ID] {
		return err
	}
	det := decodeDetail(inc.Detail)
	gs := det.Group
	if gs == nil {
		return nil
	}
	var ended []string
	for _, key := range keys {
		if i := gs.find(key); i >= 0 && gs.Items[i].ResolvedAt.IsZero() {
			gs.Items[i].ResolvedAt = ec.now
			ended = append(ended, gs.Items[i].Title)
		}
	}
	if len(ended) == 0 {
		return nil
	}
	ec.touched[inc.ID] = true
	if gs.open() == 0 {
		inc.Detail = det.encode()
		why := "every item resolved, the last " + reason
		if gs.Extra > 0 {
			why += fmt.Sprintf(" (%d more beyond group.max were counted, not followed)", gs.Extra)
		}
		return r.resolve(ctx, tx, ec, inc, why, nil)
	}
	inc.Seq++
	inc.UpdatedAt = ec.now
	changes := []string{fmt.Sprintf("resolved: %s (%s); %d still open", strings.Join(ended, "; "), reason, gs.open())}
	tr, held, err := r.groupChanged(ctx, tx, ec, &inc, &det, rule.Group)
	if err != nil {
		return err
	}
	ec.d.Incidents = append(ec.d.Incidents, IncidentTransition{ID: inc.ID, Rule: inc.Rule, Key: inc.Key, Episode: inc.Episode,
		Seq: inc.Seq, Transition: tr, Reason: strings.TrimSpace(changes[0] + ". " + held)})
	if tr != notification.Grouped {
		return r.sendGroup(ctx, tx, ec, &inc, &det, rule, tr, changes, "group-resolve")
	}
	inc.Detail = det.encode()
	return tx.SaveIncident(ctx, inc)
}

// flushGroup runs a group's flush timer: it sends what is pending, as
// the opening when the group has not gone out yet, else as an update.
// It reports false when there was nothing to send.
func (r *Router) flushGroup(ctx context.Context, tx store.Tx, ec *eventCtx, inc store.Incident, det detail, t store.Timer) (bool, error) {
	gs := det.Group
	rule := ec.set.Rule(inc.Rule)
	switch {
	case gs == nil || !gs.Pending || gs.Due.IsZero():
		return false, tx.DeleteTimer(ctx, t)
	case gs.Due.After(ec.now):
		return false, tx.SetTimer(ctx, store.Timer{IncidentID: inc.ID, Kind: timerGroupFlush, Due: gs.Due})
	case rule == nil || len(gs.visible()) == 0:
		// The rule is gone, or every item is silenced: nothing to tell.
		gs.Pending, gs.Due = false, time.Time{}
		inc.Detail = det.encode()
		if err := tx.SaveIncident(ctx, inc); err != nil {
			return false, err
		}
		return false, tx.DeleteTimer(ctx, t)
	}
	tr := notification.Updated
	if !gs.Flushed {
		tr = notification.Opened
	}
	inc.Seq++
	inc.UpdatedAt = ec.now
	ec.d.Incidents = append(ec.d.Incidents, IncidentTransition{ID: inc.ID, Rule: inc.Rule, Key: inc.Key, Episode: inc.Episode,
		Seq: inc.Seq, Transition: tr, Reason: fmt.Sprintf("group flushed with %s", items(notificationGroup(rule.Group, gs).Total))})
	return true, r.sendGroup(ctx, tx, ec, &inc, &det, rule, tr, nil, "group-flush")
}

// withGroup adds to notifications about a group incident (a reminder, a
// resolve, a release after a silence) the group's items, and makes them
// about what the items share rather than one of them.
func withGroup(set *rules.Set, inc store.Incident, det detail, ns []notification.Notification) {
	if det.Group == nil {
		return
	}
	var g *rules.Group
	if rule := set.Rule(inc.Rule); rule != nil {
		g = rule.Group
	}
	gs := *det.Group
	if inc.State == stateResolved {
		gs.Items = slices.Clone(gs.Items)
		for i := range gs.Items {
			if gs.Items[i].ResolvedAt.IsZero() {
				gs.Items[i].ResolvedAt = inc.ResolvedAt
			}
		}
	}
	ng := notificationGroup(g, &gs)
	if inc.State == stateResolved {
		ng.Open = 0
	}
	for i := range ns {
		ns[i].Group = ng
		ns[i].Event = det.Event
		if ns[i].Runbook == "" {
			ns[i].Runbook = gs.Runbook
		}
	}
}
