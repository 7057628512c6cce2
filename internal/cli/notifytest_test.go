package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const pdKey = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12"

// fakePagerDuty is an Events API v2 endpoint that keeps every event and
// answers each in turn with the next of answers (the last one repeats).
type fakePagerDuty struct {
	mu      sync.Mutex
	events  []map[string]any
	answers []func(w http.ResponseWriter, body []byte)
}

func (f *fakePagerDuty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev map[string]any
	_ = json.Unmarshal(body, &ev)
	f.mu.Lock()
	f.events = append(f.events, ev)
	answer := f.answers[min(len(f.events), len(f.answers))-1]
	f.mu.Unlock()
	answer(w, body)
}

func accepted(w http.ResponseWriter, body []byte) {
	var ev struct {
		DedupKey string `json:"dedup_key"`
	}
	_ = json.Unmarshal(body, &ev)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"status":"success","message":"Event processed","dedup_key":%q}`, ev.DedupKey)
}

// echoed refuses the event, quoting the whole request, routing_key too.
func echoed(status int) func(http.ResponseWriter, []byte) {
	return func(w http.ResponseWriter, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"status":"invalid event","message":"Event object is invalid","errors":[%q]}`, "got "+string(body))
	}
}

func pagerDutyConfig(t *testing.T, url string) string {
	t.Helper()
	cfg := fmt.Sprintf("server:\n  verify_token: vt\n  app_secrets: [s3cret]\nsinks:\n  - name: pager\n    type: pagerduty\n"+
		"    routing_key: %s\n    events_url: %s\n    min_severity: critical\n", pdKey, url)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestNotifyTestPagerDutyResolves: notify-test on a PagerDuty sink
// resolves the incident its trigger opened, under the same dedup_key,
// and reports both answers.
func TestNotifyTestPagerDutyResolves(t *testing.T) {
	f := &fakePagerDuty{answers: []func(http.ResponseWriter, []byte){accepted}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	code, out, errOut := runCLI("notify-test", "--config", pagerDutyConfig(t, srv.URL), "--sink", "pager")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) != 2 {
		t.Fatalf("PagerDuty got %d events, want a trigger and a resolve: %v", len(f.events), f.events)
	}
	trigger, resolve := f.events[0], f.events[1]
	if trigger["event_action"] != "trigger" || resolve["event_action"] != "resolve" {
		t.Errorf("actions %v then %v", trigger["event_action"], resolve["event_action"])
	}
	if key, _ := trigger["dedup_key"].(string); key == "" || resolve["dedup_key"] != key {
		t.Errorf("dedup keys %v and %v", trigger["dedup_key"], resolve["dedup_key"])
	}
	if !strings.Contains(out, "sink pager answered:") || !strings.Contains(out, "sink pager resolved the test incident:") {
		t.Errorf("stdout does not report both outcomes:\n%s", out)
	}
}

// TestNotifyTestPagerDutyErrors: a refused trigger is not resolved, a
// refused resolve is reported with the incident to close by hand, and
// neither output carries the routing key PagerDuty echoed.
func TestNotifyTestPagerDutyErrors(t *testing.T) {
	cases := []struct {
		name    string
		answers []func(http.ResponseWriter, []byte)
		events  int
		stderr  string
	}{
		{"trigger refused", []func(http.ResponseWriter, []byte){echoed(400)}, 1, "the error is permanent"},
		{"trigger fails", []func(http.ResponseWriter, []byte){echoed(500)}, 1, "the error is retryable"},
		{"resolve refused", []func(http.ResponseWriter, []byte){accepted, echoed(400)}, 2, "in PagerDuty by hand"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakePagerDuty{answers: c.answers}
			srv := httptest.NewServer(f)
			defer srv.Close()
			code, out, errOut := runCLI("notify-test", "--config", pagerDutyConfig(t, srv.URL), "--sink", "pager")
			if code != ExitFailure {
				t.Errorf("exit %d, want %d", code, ExitFailure)
			}
			f.mu.Lock()
			n := len(f.events)
			f.mu.Unlock()
			if n != c.events {
				t.Errorf("PagerDuty got %d events, want %d", n, c.events)
			}
			if !strings.Contains(errOut, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, errOut)
			}
			if strings.Contains(out+errOut, pdKey) || strings.Contains(out+errOut, pdKey[:8]) {
				t.Errorf("the routing key leaks:\nstdout: %s\nstderr: %s", out, errOut)
			}
		})
	}
}

// TestNotifyTestNeedsOnlyItsSink: notify-test reads a config with no
// server section and another sink whose secret is unset, and tests the
// sink it was asked about; an unset secret of that sink is still an error.
func TestNotifyTestNeedsOnlyItsSink(t *testing.T) {
	f := &fakePagerDuty{answers: []func(http.ResponseWriter, []byte){accepted}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	t.Setenv("WABAROUTER_TEST_UNSET_TOKEN", "")
	os.Unsetenv("WABAROUTER_TEST_UNSET_TOKEN")
	cfg := fmt.Sprintf("sinks:\n  - name: pager\n    type: pagerduty\n    routing_key: %s\n    events_url: %s\n"+
		"  - name: chat\n    type: slack\n    token: ${WABAROUTER_TEST_UNSET_TOKEN}\n    channel: C1\n", pdKey, srv.URL)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("notify-test", "--config", path, "--sink", "pager")
	if code != ExitOK || !strings.Contains(out, "sink pager answered:") {
		t.Fatalf("notify-test --sink pager: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	code, _, errOut = runCLI("notify-test", "--config", path, "--sink", "chat")
	if code != ExitFailure || !strings.Contains(errOut, "WABAROUTER_TEST_UNSET_TOKEN") {
		t.Fatalf("notify-test --sink chat with its token unset: exit %d, stderr %s; want a failure naming the variable", code, errOut)
	}
}
