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
	{"account_update", "`ACCOUNT_RESTRICTION`", "opens the restriction; it resolves by itself when its latest `expiration` passes",
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
	{"message_template_quality_update", "any", "`YELLOW` opens; `RED` escalates; `GREEN` resolves",
		fieldIs("message_template_quality_update"),
		ranked(func(ev event.Event) string { return ev.NewQualityScore }, map[string]int{"YELLOW": 1, "RED": 2}, "GREEN")},
	{"message_template_status_update", "any",
		"`FLAGGED` or `REJECTED` opens; `PAUSED` (first pause, then second pause) and `DISABLED` escalate; `REINSTATED` or `APPROVED` resolves",
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
	{"phone_number_name_update", "any", "`REJECTED` opens; `APPROVED` resolves",
		fieldIs("phone_number_name_update"),
		ranked(func(ev event.Event) string { return ev.Decision }, map[string]int{"REJECTED": 1}, "APPROVED")},
	{"account_review_update", "any", "`REJECTED` opens; `APPROVED` resolves",
		fieldIs("account_review_update"),
		ranked(func(ev event.Event) string { return ev.Decision }, map[string]int{"REJECTED": 1}, "APPROVED")},
	{"flows", "an alert (`alert_state`)", "`ACTIVATED` opens; `DEACTIVATED` resolves",
		func(ev event.Event) bool { return ev.Field == "flows" && ev.AlertState != "" },
		ranked(func(ev event.Event) string { return ev.AlertState }, map[string]int{"ACTIVATED": 1}, "DEACTIVATED")},
	{"flows", "`FLOW_STATUS_CHANGE`", "`THROTTLED` opens; `BLOCKED` escalates; `PUBLISHED` resolves",
		is("flows", "FLOW_STATUS_CHANGE"),
		ranked(func(ev event.Event) string { return ev.NewStatus }, map[string]int{"THROTTLED": 1, "BLOCKED": 2}, "PUBLISHED")},
	{"account_alerts", "any", "an `ACTIVE` alert opens; one no longer active (any other `alert_status`) resolves",
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
