package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/wabarouter/wabarouter/internal/messagetest"
	"github.com/wabarouter/wabarouter/internal/sinks"
)

// TestEveryFixtureReadsAsAMessage posts the notification of every fixture
// to a receiver and checks what a person would be shown of it.
func TestEveryFixtureReadsAsAMessage(t *testing.T) {
	var mu sync.Mutex
	var last []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		last = b
		mu.Unlock()
	}))
	defer srv.Close()
	s, err := New(Config{URL: srv.URL}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range messagetest.Fixtures(t) {
		if _, err := s.Send(context.Background(), sinks.Delivery{Notification: f.Notification}); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		mu.Lock()
		body := last
		mu.Unlock()
		messagetest.AssertMessageJSON(t, f.Name, f.Notification, body)
	}
}
