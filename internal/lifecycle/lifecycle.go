package lifecycle

import (
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
)

// Course is what one event says about the course of the problem it is
// about.
type Course struct {
	// Recovery is set when the event ends the problem.
	Recovery bool
	// Rank orders how bad the problem's states are, from 1; a later event
	// of a higher rank escalates the open incident. Zero says nothing.
	Rank int
	// Ends is when the problem ends by itself (a restriction's latest
	// expiration); zero when it does not.
	Ends time.Time
	// Row names the table row that applied, for the decision log.
	Row string
}

// Row is one row of the lifecycle table: the events it takes, and what
// they mean for their problem. docs/rules.md shows these rows, and a
// test plays a payload for each.
type Row struct {
	Field string
	// Events says, for people, which events the row takes.
	Events string
	// Meaning says, for people, what the row does.
	Meaning string
	match   func(event.Event) bool
	course  func(event.Event) Course
}

// flowsAlertEvents names, for people, the events of the flows alert row.
const flowsAlertEvents = "an alert: `ENDPOINT_ERROR_RATE`, `ENDPOINT_LATENCY`, `ENDPOINT_AVAILABILITY`, `CLIENT_ERROR_RATE`, or any other with `alert_state`"

// isFlowsAlert takes the flows alerts Meta documents, with or without an
// alert_state, and any other flows event that carries one, except a
// status change, which has a row of its own.
func isFlowsAlert(ev event.Event) bool {
	if ev.Field != "flows" || ev.Event == "FLOW_STATUS_CHANGE" {
		return false
	}
	switch ev.Event {
	case "ENDPOINT_ERROR_RATE", "ENDPOINT_LATENCY", "ENDPOINT_AVAILABILITY", "CLIENT_ERROR_RATE":
		return true
	}
	return ev.AlertState != ""
}

// Rows is the table, in the order rows are tried; the first that takes
// an event decides.
func Rows() []Row { return append([]Row(nil), rows...) }

func is(field, name string) func(event.Event) bool {
	return func(ev event.Event) bool { return ev.Field == field && ev.Event == name }
}

func fieldIs(field string) func(event.Event) bool {
	return func(ev event.Event) bool { return ev.Field == field }
}

// ranked reads a rank from a state, recovering on the states in ok.
func ranked(state func(event.Event) string, ranks map[string]int, ok ...string) func(event.Event) Course {
	return func(ev event.Event) Course {
		s := state(ev)
		for _, good := range ok {
			if s == good {
				return Course{Recovery: true}
			}
		}
		return Course{Rank: ranks[s]}
	}
}

var rows = []Row{
	{"account_update", "`DISABLED_UPDATE`", "`SCHEDULE_FOR_DISABLE` opens the ban; `DISABLE` escalates it; `REINSTATE` resolves it",
		is("account_update", "DISABLED_UPDATE"),
		ranked(func(ev event.Event) string { return ev.BanState }, map[string]int{"SCHEDULE_FOR_DISABLE": 1, "DISABLE": 2}, "REINSTATE")},
	{"account_update", "`ACCOUNT_RESTRICTION`", "opens; resolves by itself when its latest `expiration` passes (a restriction without one stays open); a repeat with a later `expiration` moves the end on",
		is("account_update", "ACCOUNT_RESTRICTION"),
		func(ev event.Event) Course {
			c := Course{Rank: 1}
			for _, r := range ev.Restrictions {
				if r.Expiration.After(c.Ends) {
					c.Ends = r.Expiration
				}
			}
			return c
		}},
	{"account_update", "`ACCOUNT_OFFBOARDED`, `ACCOUNT_RECONNECTED`", "`ACCOUNT_OFFBOARDED` opens; `ACCOUNT_RECONNECTED` resolves",
		func(ev event.Event) bool {
			return ev.Field == "account_update" && (ev.Event == "ACCOUNT_OFFBOARDED" || ev.Event == "ACCOUNT_RECONNECTED")
		},
		ranked(func(ev event.Event) string { return ev.Event }, map[string]int{"ACCOUNT_OFFBOARDED": 1}, "ACCOUNT_RECONNECTED")},
	{"phone_number_quality_update", "any", "`FLAGGED` opens; `DOWNGRADE` escalates; `UNFLAGGED` or `UPGRADE` resolves",
		fieldIs("phone_number_quality_update"),
		ranked(func(ev event.Event) string { return ev.Event }, map[string]int{"FLAGGED": 1, "DOWNGRADE": 2}, "UNFLAGGED", "UPGRADE")},
	{"message_template_quality_update", "any", "`new_quality_score` `YELLOW` opens; `RED` escalates; `GREEN` resolves",
		fieldIs("message_template_quality_update"),
		ranked(func(ev event.Event) string { return ev.NewQualityScore }, map[string]int{"YELLOW": 1, "RED": 2}, "GREEN")},
	{"message_template_status_update", "any",
		"`FLAGGED` or `REJECTED` opens; `PAUSED` (`other_info.title` `FIRST_PAUSE`, then `SECOND_PAUSE`) and then `DISABLED` escalate; `REINSTATED` or `APPROVED` resolves",
		fieldIs("message_template_status_update"),
		func(ev event.Event) Course {
			switch ev.Event {
			case "REINSTATED", "APPROVED":
				return Course{Recovery: true}
			case "FLAGGED", "REJECTED":
				return Course{Rank: 1}
			case "PAUSED":
				if ev.OtherInfo.Title == "SECOND_PAUSE" {
					return Course{Rank: 3}
				}
				return Course{Rank: 2}
			case "DISABLED":
				return Course{Rank: 4}
			}
			return Course{}
		}},
	{"phone_number_name_update", "any", "`decision` `REJECTED` opens; `APPROVED` resolves",
		fieldIs("phone_number_name_update"),
		ranked(func(ev event.Event) string { return ev.Decision }, map[string]int{"REJECTED": 1}, "APPROVED")},
	{"account_review_update", "any", "`decision` `REJECTED` opens; `APPROVED` resolves",
		fieldIs("account_review_update"),
		ranked(func(ev event.Event) string { return ev.Decision }, map[string]int{"REJECTED": 1}, "APPROVED")},
	{"flows", flowsAlertEvents,
		"`alert_state` `ACTIVATED` (or none sent) opens; any other `alert_state` (`DEACTIVATED`) resolves",
		isFlowsAlert,
		func(ev event.Event) Course {
			// Meta documents ACTIVATED only, not the state an alert ends
			// with (WABA_WEBHOOKS.md §5.12), so any other state ends it,
			// as the default severities read it.
			if ev.AlertState == "" || ev.AlertState == "ACTIVATED" {
				return Course{Rank: 1}
			}
			return Course{Recovery: true}
		}},
	{"flows", "`FLOW_STATUS_CHANGE`", "`new_status` `THROTTLED` opens; `BLOCKED` escalates; `PUBLISHED` resolves",
		is("flows", "FLOW_STATUS_CHANGE"),
		ranked(func(ev event.Event) string { return ev.NewStatus }, map[string]int{"THROTTLED": 1, "BLOCKED": 2}, "PUBLISHED")},
	{"account_alerts", "any", "`alert_status` `ACTIVE` (or none sent) opens; any other (`NONE`: the alert is no longer active) resolves",
		fieldIs("account_alerts"),
		func(ev event.Event) Course {
			if ev.AlertStatus == "" || ev.AlertStatus == "ACTIVE" {
				return Course{Rank: 1}
			}
			return Course{Recovery: true}
		}},
}

// Of is what ev says about its problem's course; an event no row takes
// says nothing (it opens or repeats an incident if a rule matches it, and
// never resolves one).
func Of(ev event.Event) Course {
	for _, r := range rows {
		if r.match(ev) {
			c := r.course(ev)
			c.Row = r.Field + " " + r.Events
			return c
		}
	}
	return Course{}
}
