package messagetest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/accounts"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/router"
	"github.com/wabarouter/wabarouter/internal/rules"
	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// Sink is the sink every sample notification is addressed to.
const Sink = "sample"

// sampleRules send every event to Sink with the default texts, severity
// and runbook, and announce approvals as changes: good news outside any
// incident (an approval that ends no open incident would otherwise make
// no notification at all).
const sampleRules = `rules:
  - name: approvals
    description: A template, display name or account review approved.
    when: event == "APPROVED" && field in ["message_template_status_update", "phone_number_name_update", "account_review_update"]
    action: change
    to: [` + Sink + `]
    stop: true
  - name: every-event
    description: Everything Meta sends, with the default texts.
    when: 'true'
    to: [` + Sink + `]
`

// Start is the clock of the first fixture; each next one is routed a
// minute later.
var Start = time.Date(2026, 11, 23, 14, 2, 3, 0, time.UTC)

// Fixture is one sample notification: the n-th notification the fixture
// file made, as the sink would be handed it.
type Fixture struct {
	// Name is the fixture file's name without .json, then #n when the
	// file made more than one notification.
	Name         string
	File         string
	Notification notification.Notification
}

// Root is the repository's root folder, found from the working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Fixtures routes every fixture and returns the notifications, in file
// order; it fails t if any step fails or a fixture makes none.
func Fixtures(t testing.TB) []Fixture {
	t.Helper()
	fs, err := Make(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// Make is Fixtures for a tool: it keeps its store in dir.
func Make(ctx context.Context, dir string) ([]Fixture, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	known, err := directory(filepath.Join(root, "testdata", "accounts.yaml"))
	if err != nil {
		return nil, err
	}
	set, err := rules.ParseFile("sample-rules.yaml", []byte(sampleRules), []string{Sink})
	if err != nil {
		return nil, fmt.Errorf("sample rules: %w", err)
	}
	set.Accounts = known
	st, err := sqlite.Open(ctx, filepath.Join(dir, "messagetest.db"), sqlite.Options{})
	if err != nil {
		return nil, err
	}
	defer func() { _ = st.Close() }() // a tool's scratch store: nothing to lose
	now := Start
	r := router.New(router.Config{Rules: set, Store: st, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	files, err := filepath.Glob(filepath.Join(root, "testdata", "webhooks", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Fixture
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		now = now.Add(time.Minute)
		id, err := st.AppendWebhook(ctx, body, now)
		if err != nil {
			return nil, fmt.Errorf("storing %s: %w", f, err)
		}
		if _, err := r.Route(ctx, store.Webhook{ID: id, Body: body, ReceivedAt: now}); err != nil {
			return nil, fmt.Errorf("routing %s: %w", f, err)
		}
		ns, err := drain(ctx, st, now)
		if err != nil {
			return nil, fmt.Errorf("reading what %s queued: %w", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		for i, n := range ns {
			fx := Fixture{Name: name, File: f, Notification: n}
			if len(ns) > 1 {
				fx.Name = fmt.Sprintf("%s#%d", name, i+1)
			}
			out = append(out, fx)
		}
	}
	return out, nil
}

// directory reads the fixtures' accounts directory. It decodes the YAML
// itself rather than through the config package, which knows every sink
// type: a sink's own tests could not import this package otherwise.
func directory(path string) (*accounts.Directory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the fixtures' accounts directory: %w", err)
	}
	var list []struct {
		WabaID string            `yaml:"waba_id"`
		Name   string            `yaml:"name"`
		Team   string            `yaml:"team"`
		Tags   []string          `yaml:"tags"`
		Phones map[string]string `yaml:"phones"`
	}
	if err := yaml.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	entries := make([]accounts.Entry, len(list))
	for i, e := range list {
		entries[i] = accounts.Entry{WabaID: e.WabaID, Name: e.Name, Team: e.Team, Tags: e.Tags, Phones: e.Phones}
	}
	if probs := accounts.Check(entries); len(probs) > 0 {
		return nil, fmt.Errorf("%s:%d: %s", path, probs[0].Line, probs[0].Msg)
	}
	accounts.Normalize(entries)
	return accounts.New(entries), nil
}

// drain takes every row queued for Sink as a delivery worker would,
// acknowledging each with a thread so that an incident's later
// transitions are handed one, and returns their notifications in order.
func drain(ctx context.Context, st store.Store, now time.Time) ([]notification.Notification, error) {
	var out []notification.Notification
	for {
		rows, err := st.Lease(ctx, Sink, "messagetest", now, 100, time.Hour)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return out, nil
		}
		for _, row := range rows {
			var n notification.Notification
			if err := json.Unmarshal(row.Payload, &n); err != nil {
				return nil, fmt.Errorf("row %d: %w", row.ID, err)
			}
			out = append(out, n)
			if err := st.Ack(ctx, row.ID, row.Lease, store.Outcome{At: now, Receipt: "sample", Thread: "thread-" + n.ID}); err != nil {
				return nil, err
			}
		}
	}
}
