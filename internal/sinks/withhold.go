package sinks

import (
	"context"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
)

// WithheldNote takes the place of customer data a sink does not send.
const WithheldNote = "[withheld: customer message content; set include_customer_data: true on the sink to send it]"

// customerFields are the webhook fields whose value carries what
// customers wrote or who they are: their messages, echoes of the
// business's replies to them, their contacts, calls and preferences.
var customerFields = map[string]bool{
	"messages": true, "message_echoes": true, "smb_message_echoes": true, "history": true,
	"smb_app_state_sync": true, "user_preferences": true, "calls": true, "standby": true,
	"messaging_handovers": true, "automatic_events": true, "tracking_events": true,
	"group_lifecycle_update": true, "group_participants_update": true,
	"group_settings_update": true, "group_status_update": true,
}

// customerKeys are value keys that, under any field, hold messages or
// the people who sent them.
var customerKeys = []string{"messages", "contacts", "statuses", "message_echoes", "calls"}

// keptValueKeys are the keys of a customer field's value that say
// nothing about the customer: the business's own number and the errors
// Meta reports. Every other key is withheld, so keys Meta adds later are
// withheld too.
var keptValueKeys = map[string]bool{"messaging_product": true, "metadata": true, "errors": true}

// keptItemKeys are the keys of one message or status that say nothing
// about the customer: what it is, when, how it went and what it cost.
// The sender (from, from_user_id), the recipient (recipient_id,
// recipient_user_id), and the content (text, captions, media, filenames,
// locations, contacts, reactions, button and interactive replies,
// referrals, the quoted context) are withheld.
var keptItemKeys = map[string]bool{
	"id": true, "type": true, "status": true, "timestamp": true, "errors": true,
	"conversation": true, "pricing": true, "biz_opaque_callback_data": true,
}

// WithoutCustomerData returns a copy of n in which the customer data its
// event carries is replaced by WithheldNote: in the raw value of a
// customer field (see customerFields) everything but the keys listed in
// keptValueKeys and keptItemKeys, and the typed From and RecipientID (the
// customer's WhatsApp id). Title and Body are the rule author's words and
// stay as written. n itself, and the maps its event shares with other
// notifications, are never changed.
func WithoutCustomerData(n notification.Notification) notification.Notification {
	ev := n.Event
	if !hasCustomerData(ev) {
		return n
	}
	if ev.From != "" {
		ev.From = WithheldNote
	}
	if ev.RecipientID != "" {
		ev.RecipientID = WithheldNote
	}
	if ev.Value != nil {
		ev.Value = withheldValue(ev.Value)
	}
	n.Event = ev
	return n
}

func hasCustomerData(ev event.Event) bool {
	if customerFields[ev.Field] || ev.From != "" || ev.RecipientID != "" {
		return true
	}
	for _, k := range customerKeys {
		if _, ok := ev.Value[k]; ok {
			return true
		}
	}
	return false
}

// withheldValue builds the withheld copy of a value; kept parts are
// copied too, so the copy shares nothing with v.
func withheldValue(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		switch {
		case keptValueKeys[k]:
			out[k] = deepCopy(x)
		case k == "messages" || k == "statuses":
			out[k] = withheldItems(x)
		default:
			out[k] = WithheldNote
		}
	}
	return out
}

// withheldItems keeps the keptItemKeys of each message or status.
func withheldItems(x any) any {
	list, ok := x.([]any)
	if !ok {
		return WithheldNote
	}
	out := make([]any, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			out[i] = WithheldNote
			continue
		}
		kept := make(map[string]any, len(m))
		for k, y := range m {
			if keptItemKeys[k] {
				kept[k] = deepCopy(y)
			} else {
				kept[k] = WithheldNote
			}
		}
		out[i] = kept
	}
	return out
}

// deepCopy copies the maps and lists of a decoded JSON value.
func deepCopy(x any) any {
	switch t := x.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, y := range t {
			m[k] = deepCopy(y)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, y := range t {
			l[i] = deepCopy(y)
		}
		return l
	}
	return x
}

// customerDataWithheld sends every notification without customer data.
type customerDataWithheld struct{ next SinkCloser }

// WithCustomerDataWithheld wraps s so that what it sends carries no
// customer data: each notification goes through WithoutCustomerData
// first. It is how every sink is built unless its config sets
// include_customer_data: true. Closing it closes s.
func WithCustomerDataWithheld(s SinkCloser) SinkCloser { return customerDataWithheld{next: s} }

func (w customerDataWithheld) Send(ctx context.Context, d Delivery) (Receipt, error) {
	d.Notification = WithoutCustomerData(d.Notification)
	return w.next.Send(ctx, d)
}

func (w customerDataWithheld) Close() error { return w.next.Close() }
