package router

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/wabarouter/wabarouter/internal/accounts"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// directoryRules route by the directory's team and tags, and announce a
// raised limit as a change: rules see the account the directory names.
const directoryRules = `rules:
  - name: emea
    when: account.team == "emea-oncall" && "eu" in account.tags
    to: [slack]
    title: '{{.account.name}} ({{.account.phone_label}}) {{.event}}'
  - name: unlisted
    when: account.name == ""
    to: [slack]
  - name: raised
    when: event == "UPGRADE"
    action: change
    to: [pager]
`

func newDirectoryFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	set, err := rules.ParseFile("rules.yaml", []byte(directoryRules), []string{"slack", "pager"})
	if err != nil {
		t.Fatal(err)
	}
	set.Accounts = accounts.New([]accounts.Entry{{WabaID: "102290129340398", Name: "Acme Retail EU", Team: "emea-oncall",
		Tags: []string{"eu", "retail"}, Phones: map[string]string{"16505551111": "support line"}}})
	return &fixture{st: db, r: New(Config{Rules: set, Store: db, Log: slog.New(slog.DiscardHandler)})}
}

func TestRulesSeeTheAccountsDirectory(t *testing.T) {
	f := newDirectoryFixture(t)
	if _, err := f.route(t, change(1700000000, "FLAGGED")); err != nil {
		t.Fatal(err)
	}
	got := f.queued(t, "slack")
	if len(got) != 1 || got[0].Rule != "emea" {
		t.Fatalf("queued for slack: %v, want one of rule emea", rulesOf(got))
	}
	if want := "Acme Retail EU (support line) FLAGGED"; got[0].Title != want {
		t.Errorf("title %q, want %q", got[0].Title, want)
	}
	if acc := got[0].Event.Account; acc.Name != "Acme Retail EU" || acc.PhoneLabel != "support line" {
		t.Errorf("the notification's event carries account %+v", acc)
	}

	// Another WABA: not in the directory, so account.name is empty.
	other := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"999","time":1700000100,
"changes":[{"field":"phone_number_quality_update","value":{"display_phone_number":"16505559999","event":"FLAGGED"}}]}]}`)
	if _, err := f.route(t, other); err != nil {
		t.Fatal(err)
	}
	got = f.queued(t, "slack")
	if len(got) != 1 || got[0].Rule != "unlisted" || got[0].Event.Account.Name != "" {
		t.Fatalf("queued for slack: %v, want one of rule unlisted", rulesOf(got))
	}
}

func TestChangeActionQueuesOutsideAnyIncident(t *testing.T) {
	f := newDirectoryFixture(t)
	body := change(1700000000, "UPGRADE")
	if _, err := f.route(t, body); err != nil {
		t.Fatal(err)
	}
	got := f.queued(t, "pager")
	if len(got) != 1 || got[0].Action != notification.Change || got[0].Incident != nil {
		t.Fatalf("queued for pager: %+v, want one change outside any incident", got)
	}
	incs, err := f.st.Incidents(context.Background(), store.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, inc := range incs {
		if inc.Rule == "raised" {
			t.Errorf("the change rule opened incident %s", inc.ID)
		}
	}
	// Meta redelivers the same change: nothing more is queued.
	if _, err := f.route(t, body); err != nil {
		t.Fatal(err)
	}
	if got := f.queued(t, "pager"); len(got) != 0 {
		t.Errorf("a redelivery queued %d more changes, want none", len(got))
	}
}
