package logsink

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"

	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest/play"
)

// TestLifecycle: every transition of an incident is a line of its own,
// in order, naming the incident, its state and its seq.
func TestLifecycle(t *testing.T) {
	var out bytes.Buffer
	ns := sinkstest.Lifecycle()
	play.Through(t, New(&out), ns)
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 2<<20)
	i := 0
	for ; sc.Scan(); i++ {
		var line struct {
			ID       string                 `json:"id"`
			Incident *notification.Incident `json:"incident"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if i >= len(ns) {
			continue
		}
		want := ns[i].Incident
		if inc := line.Incident; line.ID != ns[i].ID || inc == nil || inc.ID != want.ID || inc.State != want.State ||
			inc.Transition != want.Transition || inc.Seq != i+1 || inc.Count != want.Count {
			t.Errorf("line %d: %s", i+1, sc.Bytes())
		}
	}
	if i != len(ns) {
		t.Errorf("%d lines, want %d", i, len(ns))
	}
}
