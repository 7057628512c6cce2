package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/sinks"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// TestGroupGolden: a group of 40 paused templates is one message that
// lists each of them.
func TestGroupGolden(t *testing.T) {
	n := sinkstest.Grouped(40, 40, sinkstest.TemplateTitle)
	got := renderJSON(t, n)
	checkGolden(t, "group", got)
	for i := 1; i <= 40; i++ {
		if name := sinkstest.TemplateTitle(i); !strings.Contains(string(got), name) {
			t.Errorf("the message does not name item %d, %q", i, name)
		}
	}
}

// TestGroupWithinLimits: a group of 1,000 items with long titles, of
// which it lists 900, reaches Slack within Block Kit's limits, listing
// as many as fit and counting the rest.
func TestGroupWithinLimits(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s, err := New(Config{WebhookURL: srv.URL + hookPath}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	long := func(i int) string { return sinkstest.TemplateTitle(i) + strings.Repeat(" <&>", 100) }
	n := sinkstest.Grouped(1000, 900, long)
	if _, err := s.Send(context.Background(), sinks.Delivery{Notification: n}); err != nil {
		t.Fatal(err)
	}
	checkLimits(t, got)
	var m struct {
		Blocks []struct {
			Text struct{ Text string } `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	listed, more := 0, ""
	for _, b := range m.Blocks {
		for l := range strings.Lines(b.Text.Text) {
			if strings.HasPrefix(l, "• ") {
				listed++
			}
			if strings.HasPrefix(l, "and ") {
				more = strings.TrimSpace(l)
			}
		}
	}
	if listed < 10 || more == "" || more != "and "+itoa(1000-listed)+" more" {
		t.Errorf("listed %d items and said %q; want some listed and the rest counted", listed, more)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
