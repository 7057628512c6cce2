package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
)

const webhooksDir = "../../testdata/webhooks"

// TestTemplates checks every fixture becomes a template whose rendered
// copies carry the ids written, and only those.
func TestTemplates(t *testing.T) {
	tmpls, skipped, err := loadTemplates(webhooksDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) > 0 {
		t.Errorf("fixtures skipped: %q", skipped)
	}
	for _, tm := range tmpls {
		const first = 1234567000000000
		evs, _ := event.Parse(tm.render(nil, first))
		if len(evs) != tm.notifications || len(evs) == 0 {
			t.Errorf("%s: %d events, template says %d", tm.name, len(evs), tm.notifications)
		}
		for _, ev := range evs {
			id, err := strconv.ParseInt(ev.WabaID, 10, 64)
			if err != nil || id < first || id >= first+int64(tm.entries) {
				t.Errorf("%s: waba_id %q not written by the tool", tm.name, ev.WabaID)
			}
		}
	}
	if _, err := newTemplate("x", []byte(`{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{}}]}]}`)); err == nil {
		t.Error("a non-WABA payload was accepted as a template")
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080/webhook", "http://localhost:1/webhook", "http://[::1]:9/webhook"} {
		if err := loopbackURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:8080/webhook", "https://127.0.0.1/webhook", "http://example.com/webhook"} {
		if err := loopbackURL(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

// TestShortRun builds the router, loads it briefly and checks the report
// adds up. It never asserts speed.
func TestShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the router")
	}
	bin := filepath.Join(t.TempDir(), "wabarouter")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/wabarouter").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"--router-bin", bin, "--payloads", webhooksDir,
		"--concurrency", "4", "--duration", "1s", "--warmup", "0", "--count", "300",
		"--drain-timeout", "10s", "--json"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var r report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	t.Logf("%s", stdout.String())
	if r.Sent == 0 || r.Sent > 300 || r.Accepted == 0 {
		t.Errorf("sent %d, accepted %d; want 0 < accepted, sent <= 300", r.Sent, r.Accepted)
	}
	var non200 int64
	for _, n := range r.Non200 {
		non200 += n
	}
	if r.Accepted+non200 != r.Sent || non200 != 0 {
		t.Errorf("sent %d = accepted %d + non-200 %v?", r.Sent, r.Accepted, r.Non200)
	}
	if !r.Drained || r.Backlog != 0 {
		t.Errorf("not drained: backlog %d", r.Backlog)
	}
	// Every fixture makes at least one event, some more.
	if r.NotificationsExpected < r.Accepted {
		t.Errorf("%d notifications expected of %d accepted webhooks", r.NotificationsExpected, r.Accepted)
	}
	if r.Delivered != r.NotificationsExpected {
		t.Errorf("delivered %d, want %d (accepted %d × %.3f per webhook)", r.Delivered, r.NotificationsExpected, r.Accepted, r.NotificationsPerWebhook)
	}
	if r.BadSignatures+r.Malformed+r.Unknown+r.Duplicates+r.Extra != 0 {
		t.Errorf("bad signatures %d, malformed %d, unknown %d, duplicates %d, extra %d",
			r.BadSignatures, r.Malformed, r.Unknown, r.Duplicates, r.Extra)
	}
	if r.Latency.N != int(r.AcceptedMeasured) || r.E2E.N != int(r.Delivered) {
		t.Errorf("latency samples %d of %d accepted, e2e samples %d of %d delivered",
			r.Latency.N, r.AcceptedMeasured, r.E2E.N, r.Delivered)
	}
	if r.Router == nil || r.Router.VmHWMKB <= 0 || !strings.Contains(r.Router.Exit, "exited 0") {
		t.Errorf("router report %+v", r.Router)
	}
}
