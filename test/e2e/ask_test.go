package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/e2etest"
)

// apiToken is the API's bearer token in the tests of incidents and why.
const apiToken = "e2e-api-token-0123456789abcdef"

// TestAskWhileServeRuns: with the real binary serving, a ban, the same ban
// again (a redelivery) and an event no rule matches are posted; then
// incidents and why, run beside the running router, tell the open ban
// incident and each event's story: the ban sent on, the redelivery and
// the unmatched event sending nothing and why. The API answers the same
// with its token, and the router goes on routing all along.
func TestAskWhileServeRuns(t *testing.T) {
	t.Parallel()
	peer := e2etest.ServeWebhookReceiver(t, "hook-secret", e2etest.WebhookReceiverOptions{})
	dir := t.TempDir()
	r := e2etest.Setup(t, e2etest.Options{Dir: dir, Env: []string{"WABAROUTER_API_TOKEN=" + apiToken}, Config: fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  verify_token: %s
  app_secrets: [%q]
store: {path: %s}
api: {token: "${WABAROUTER_API_TOKEN}"}
rules:
  - {name: account-banned, when: 'event == "DISABLED_UPDATE" && ban_state == "DISABLE"', severity: critical, to: [hook]}
sinks:
  - {name: hook, type: webhook, url: %s, secret: hook-secret}
`, verifyToken, appSecret, filepath.Join(dir, "router.db"), peer.URL())})
	p := r.Start(t)
	const waba = "102290129340398"
	post := func(what, file string) {
		t.Helper()
		if code, answer := p.PostSigned(t, appSecret, readFile(t, "../../testdata/webhooks/"+file)); code != http.StatusOK {
			t.Fatalf("%s: %d %q, want 200", what, code, answer)
		}
	}
	peer.Want(1, "the ban's trigger", func(d e2etest.WebhookDelivery) bool {
		return d.Notification.Rule == "account-banned" && d.Notification.Action == "trigger"
	})
	post("the ban", "seed_disabled_update_disable.json")
	post("the same ban again", "seed_disabled_update_disable.json")
	post("a template approval no rule matches", "seed_template_approved.json")
	peer.Await(t)
	p.WaitDrained(t)

	res := r.Run(t, "incidents", "--format", "json")
	var inc struct {
		ID, State, WabaID, Rule, Key string
		Events                       int
		ResolvedAt                   *string `json:"resolved_at"`
	}
	if res.Code != 0 || strings.Count(res.Stdout, "\n") != 1 {
		t.Fatalf("incidents --format json: exit %d, want one line:\n%s", res.Code, res.Output())
	}
	if err := json.Unmarshal([]byte(res.Stdout), &inc); err != nil || inc.State != "open" || inc.Key != waba+"/ban" ||
		inc.Rule != "account-banned" || inc.Events != 1 || inc.ResolvedAt != nil || !strings.HasPrefix(inc.ID, "inc-") {
		t.Fatalf("incidents --format json: %+v, %v; want the open ban incident, its one event and no resolve:\n%s", inc, err, res.Stdout)
	}
	res = r.Run(t, "incidents")
	if res.Code != 0 || !strings.Contains(res.Stdout, "open   critical  "+waba+"/ban  account-banned") || !strings.Contains(res.Stdout, inc.ID) {
		t.Errorf("incidents: exit %d, want the open ban in the table:\n%s", res.Code, res.Output())
	}

	res = r.Run(t, "why", "--waba", waba)
	if res.Code != 0 {
		t.Fatalf("why --waba: exit %d:\n%s", res.Code, res.Output())
	}
	for _, want := range []string{
		"webhook 1, event 1, received ",
		": account_update/DISABLED_UPDATE of WABA " + waba + "\n" +
			`  rule "account-banned" matched → incident ` + inc.ID + " opened (key " + waba + "/ban)\n" +
			"    → hook: queued, sent at ",
		"webhook 2, event 1, received ",
		"  a redelivery of a change already routed on ",
		" (webhook 1, event 1); nothing was sent\n",
		"webhook 3, event 1, received ",
		": message_template_status_update/APPROVED of WABA " + waba + "\n  no rule matched; nothing was sent\n",
	} {
		i := strings.Index(res.Stdout, want)
		if i < 0 {
			t.Fatalf("why --waba lacks, after what came before it, %q:\n%s", want, res.Stdout)
		}
		res.Stdout = res.Stdout[i+len(want):]
	}

	res = r.Run(t, "why", "--incident", inc.ID, "--format", "json")
	var entry struct {
		WebhookID     int64 `json:"webhook_id"`
		Incident      struct{ ID, Transition string }
		Notifications []struct{ Sink, Outcome, Delivery string }
	}
	if err := json.Unmarshal([]byte(res.Stdout), &entry); err != nil || res.Code != 0 || strings.Count(res.Stdout, "\n") != 1 ||
		entry.WebhookID != 1 || entry.Incident.ID != inc.ID || entry.Incident.Transition != "opened" ||
		len(entry.Notifications) != 1 || entry.Notifications[0].Sink != "hook" || entry.Notifications[0].Delivery != "sent" {
		t.Errorf("why --incident --format json: exit %d, %+v, %v; want the ban's one event, sent to hook:\n%s", res.Code, entry, err, res.Output())
	}
	for _, webhook := range []string{"2", "w3"} {
		res = r.Run(t, "why", "--webhook", webhook, "--format", "json")
		var e struct {
			Redelivery bool
			Summary    string
		}
		want := map[string]string{"2": "a redelivery", "w3": "no rule matched; nothing was sent"}[webhook]
		if err := json.Unmarshal([]byte(res.Stdout), &e); err != nil || !strings.HasPrefix(e.Summary, want) || e.Redelivery != (webhook == "2") {
			t.Errorf("why --webhook %s: %+v, %v; want %q:\n%s", webhook, e, err, want, res.Output())
		}
	}

	get := func(path, auth string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, p.URL(path), nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	if code, body := get("/api/v1/incidents", ""); code != http.StatusUnauthorized {
		t.Errorf("the API without its token: %d %s, want 401", code, body)
	}
	if code, body := get("/api/v1/incidents/"+inc.ID, "Bearer "+apiToken); code != http.StatusOK || !strings.Contains(body, `"state":"open"`) {
		t.Errorf("the API's incident: %d %s, want it open", code, body)
	}
	if code, body := get("/api/v1/why?waba="+waba, "Bearer "+apiToken); code != http.StatusOK ||
		!strings.Contains(body, `"summary":"no rule matched; nothing was sent"`) || !strings.Contains(body, `"redelivery":true`) {
		t.Errorf("the API's why: %d %s, want the unmatched event and the redelivery", code, body)
	}

	// The router went on undisturbed: the reinstatement resolves the ban
	// and reaches the peer, and incidents sees it.
	peer.Want(1, "the ban's resolve", func(d e2etest.WebhookDelivery) bool {
		return d.Notification.Rule == "account-banned" && d.Notification.Action == "resolve"
	})
	post("the reinstatement", "seed_disabled_update_reinstate.json")
	peer.Await(t)
	p.WaitDrained(t)
	peer.Check(t)
	res = r.Run(t, "incidents", "--state", "resolved")
	if res.Code != 0 || !strings.Contains(res.Stdout, "resolved  critical  "+waba+"/ban") || !strings.Contains(res.Stdout, inc.ID) {
		t.Errorf("incidents --state resolved: exit %d, want the ban resolved:\n%s", res.Code, res.Output())
	}
	if p.Exited() {
		t.Fatalf("the router exited while it was asked: %v", p.ExitErr())
	}
}
