package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wabarouter/wabarouter/internal/audit"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/store"
)

// eventRow is one line of the events page: an event's decision, a
// timer's, or a console action.
type eventRow struct {
	At        time.Time
	WebhookID int64
	Index     int
	WabaID    string
	Account   string
	Field     string
	Event     string
	Timer     string
	Matched   []string
	Failed    []string
	Outcomes  map[string]int
	Incidents []string
	Console   *Action
	Redeliver bool
}

// sinces are the windows the events page offers.
var sinces = []string{"1h", "24h", "7d"}

// eventFilter is the events page's search: each part must be contained
// in the event's (case-insensitive); Account matches the WABA id or the
// directory's name of it.
type eventFilter struct {
	Account, Field, Event, Since string
}

func (f eventFilter) matches(row eventRow) bool {
	has := func(s, part string) bool {
		return strings.Contains(strings.ToLower(s), strings.ToLower(strings.TrimSpace(part)))
	}
	return (f.Account == "" || has(row.WabaID, f.Account) || has(row.Account, f.Account)) &&
		(f.Field == "" || has(row.Field, f.Field)) && (f.Event == "" || has(row.Event, f.Event))
}

func (c *Console) events(w http.ResponseWriter, r *http.Request, s session) {
	q := r.URL.Query()
	f := eventFilter{Account: q.Get("account"), Field: q.Get("field"), Event: q.Get("event"), Since: q.Get("since")}
	if f.Since == "" {
		f.Since = "24h"
	}
	since, err := audit.ParseSince(f.Since, c.now())
	if err != nil {
		c.fail(w, r, &s, http.StatusBadRequest, err)
		return
	}
	rows, total, err := c.recent(r, since, f)
	if err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	c.render(w, r, &s, http.StatusOK, "events", "Events", map[string]any{"Filter": f, "Rows": rows, "Total": total,
		"Sinces": sinces, "Limit": listLimit})
}

// recent reads the decision log since since, newest first, keeping the
// rows f selects, at most listLimit of them; total counts all it kept.
func (c *Console) recent(r *http.Request, since time.Time, f eventFilter) ([]eventRow, int, error) {
	ds, err := c.opts.Store.Decisions(r.Context(), store.DecisionFilter{Since: since})
	if err != nil {
		return nil, 0, fmt.Errorf("reading the decision log: %w", err)
	}
	var rows []eventRow
	total := 0
	for i := len(ds) - 1; i >= 0; i-- {
		row := c.rowOf(ds[i])
		if !f.matches(row) {
			continue
		}
		total++
		if len(rows) < listLimit {
			rows = append(rows, row)
		}
	}
	return rows, total, nil
}

func (c *Console) rowOf(d store.Decision) eventRow {
	row := eventRow{At: d.At, WebhookID: d.WebhookID, Index: d.Index, WabaID: d.WabaID, Field: d.Field, Event: d.Event,
		Incidents: d.IncidentIDs, Outcomes: map[string]int{}}
	if a, ok := actionOf(d); ok {
		row.Console = &a
		return row
	}
	row.Account = c.opts.Config.Accounts.Lookup(d.WabaID, "").Name
	var rec router.Record
	if json.Unmarshal(d.Record, &rec) != nil {
		return row
	}
	row.Timer, row.Redeliver = rec.Timer, rec.Redelivery
	for _, rr := range rec.Rules {
		if rr.Matched {
			row.Matched = append(row.Matched, rr.Rule)
		}
		if rr.Error != "" {
			row.Failed = append(row.Failed, rr.Rule)
		}
	}
	for _, n := range rec.Notifications {
		row.Outcomes[string(n.Outcome)]++
	}
	return row
}

// event shows one webhook's events, each with its decision trace.
func (c *Console) event(w http.ResponseWriter, r *http.Request, s session) {
	raw := r.PathValue("webhook")
	id, err := strconv.ParseInt(strings.TrimPrefix(raw, "w"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, &s, http.StatusBadRequest, fmt.Errorf("%q is not a webhook's id (12, or w12)", raw))
		return
	}
	entries, err := audit.Why(r.Context(), c.opts.Store, audit.WhyQuery{WebhookID: id})
	if err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	wh, found, err := c.opts.Store.Webhook(r.Context(), id)
	if err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	if len(entries) == 0 && !found {
		c.fail(w, r, &s, http.StatusNotFound, fmt.Errorf("no webhook %d in the store (it may have been removed by the store's retention)", id))
		return
	}
	body := ""
	if found {
		body = prettyJSON(wh.Body)
	}
	c.render(w, r, &s, http.StatusOK, "event", fmt.Sprintf("Webhook %d", id), map[string]any{
		"ID": id, "Entries": entries, "Body": body, "Received": wh.ReceivedAt, "Found": found,
		"Rules": c.ruleNames(), "Links": c.links(entries), "SinkTypes": c.sinkTypes(),
	})
}

func (c *Console) sinkTypes() map[string]string {
	out := map[string]string{}
	for _, s := range c.opts.Config.Sinks {
		out[s.Name] = s.Type
	}
	return out
}

// ruleNames are the loaded rules' names, in order, so that a trace can
// say which ran and did not match.
func (c *Console) ruleNames() []string {
	set := c.opts.Rules()
	if set == nil {
		return nil
	}
	names := make([]string, 0, len(set.Rules))
	for _, r := range set.Rules {
		names = append(names, r.Name)
	}
	return names
}

// unmatched are the rules that ran on e and did not match: every loaded
// rule the entry does not list.
func unmatched(names []string, e audit.Entry) []string {
	var out []string
	for _, n := range names {
		if !slices.ContainsFunc(e.Rules, func(r audit.Rule) bool { return r.Rule == n }) {
			out = append(out, n)
		}
	}
	return out
}

func prettyJSON(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return string(b)
	}
	return string(out)
}
