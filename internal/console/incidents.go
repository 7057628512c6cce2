package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/wabarouter/wabarouter/internal/audit"
	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// listLimit bounds the rows of a list page.
const listLimit = 200

func (c *Console) incidents(w http.ResponseWriter, r *http.Request, s session) {
	state := r.URL.Query().Get("state")
	if state == "" {
		state = audit.StateOpen
	}
	if err := audit.CheckState(state); err != nil {
		c.fail(w, r, &s, http.StatusBadRequest, err)
		return
	}
	waba := strings.TrimSpace(r.URL.Query().Get("waba"))
	incs, err := audit.Incidents(r.Context(), c.opts.Store, audit.IncidentQuery{State: state, WabaID: waba, Limit: listLimit})
	if err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	c.render(w, r, &s, http.StatusOK, "incidents", "Incidents", map[string]any{
		"State": state, "Waba": waba, "Incidents": incs, "States": []string{audit.StateOpen, audit.StateResolved, audit.StateAll},
		"Accounts": c.accountNames(incs),
	})
}

// accountNames names each incident's WABA from the accounts directory.
func (c *Console) accountNames(incs []audit.Incident) map[string]string {
	out := map[string]string{}
	dir := c.opts.Config.Accounts
	for _, inc := range incs {
		if a := dir.Lookup(inc.WabaID, ""); a.Name != "" {
			out[inc.WabaID] = a.Name
		}
	}
	return out
}

func (c *Console) incident(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	inc, found, err := audit.GetIncident(r.Context(), c.opts.Store, id)
	if err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	if !found {
		c.fail(w, r, &s, http.StatusNotFound, fmt.Errorf("no incident %q (it may have been removed by the store's retention)", id))
		return
	}
	entries, err := audit.Why(r.Context(), c.opts.Store, audit.WhyQuery{IncidentID: id, Limit: 1000})
	if err != nil {
		c.failStore(w, r, &s, err)
		return
	}
	field := ""
	for _, e := range entries {
		if e.Field != "" {
			field = e.Field
			break
		}
	}
	c.render(w, r, &s, http.StatusOK, "incident", "Incident "+inc.Title, map[string]any{
		"Incident": inc, "Entries": entries, "Manager": managerURL(inc.WabaID, field), "Links": c.links(entries),
		"Account": c.accountNames([]audit.Incident{inc})[inc.WabaID],
	})
}

// link is somewhere else an incident can be looked at.
type link struct {
	Text, URL, Note string
}

// links are the Slack messages and PagerDuty incidents the sinks'
// receipts name for entries.
func (c *Console) links(entries []audit.Entry) []link {
	seen := map[string]bool{}
	var out []link
	for _, e := range entries {
		for _, n := range e.Notifications {
			for _, a := range n.Attempts {
				if a.Receipt == "" || a.Result != "sent" {
					continue
				}
				l, ok := receiptLink(c.sinkType(n.Sink), n.Sink, a.Receipt)
				if ok && !seen[l.Text+l.URL] {
					seen[l.Text+l.URL] = true
					out = append(out, l)
				}
			}
		}
	}
	return out
}

func (c *Console) sinkType(name string) string {
	for _, s := range c.opts.Config.Sinks {
		if s.Name == name {
			return s.Type
		}
	}
	return ""
}

// managerURL is WhatsApp Manager's page for an account's event of field,
// as the messages link it; "" without a WABA id.
func managerURL(waba, field string) string {
	return sinks.ManagerURL(notification.Notification{Event: event.Event{WabaID: waba, Field: field}})
}

// receiptLink makes a link of a sink's receipt: a Slack bot's is
// CHANNEL:TS, which Slack's app_redirect opens in the workspace the
// reader is signed in to; PagerDuty's is the dedup key, which its
// incidents are searched by.
func receiptLink(sinkType, sink, receipt string) (link, bool) {
	switch sinkType {
	case "slack":
		channel, ts, ok := strings.Cut(receipt, ":")
		if !ok || channel == "" {
			return link{}, false
		}
		return link{Text: "Slack: " + sink + " " + channel + " at " + ts,
			URL: "https://slack.com/app_redirect?channel=" + url.QueryEscape(channel), Note: "opens the channel; the message is at " + ts}, true
	case "pagerduty":
		return link{Text: "PagerDuty: " + sink + " dedup key " + receipt, URL: "https://app.pagerduty.com/incidents?query=" + url.QueryEscape(receipt),
			Note: "search your PagerDuty account for this dedup key"}, true
	}
	return link{}, false
}
