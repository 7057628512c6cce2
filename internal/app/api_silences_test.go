package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
	"github.com/wabarouter/wabarouter/internal/store/sqlite"
)

// TestAPISilences: a silence is added, listed and expired through the
// API as with the command; a request with mistakes gets every one of
// them, and nothing without the token.
func TestAPISilences(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "router.db"), sqlite.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	srv := httptest.NewServer(APIHandler(st, apiToken, slog.New(slog.DiscardHandler), func() time.Time { return now }))
	t.Cleanup(srv.Close)
	call := func(method, path, body, auth string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s %s: %d %s is not a JSON object", method, path, resp.StatusCode, b)
		}
		return resp.StatusCode, v
	}

	if code, _ := call("POST", "/api/v1/silences", `{"when":"true","for":"1h","author":"a","comment":"c"}`, ""); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", code)
	}
	code, v := call("POST", "/api/v1/silences", `{"when":"wabaid == \"1\"","for":"1h"}`, apiToken)
	problems, _ := json.Marshal(v["problems"])
	if code != http.StatusBadRequest || !bytes.Contains(problems, []byte("an author is required")) ||
		!bytes.Contains(problems, []byte("a comment is required")) || !bytes.Contains(problems, []byte("--when:1:")) {
		t.Errorf("a request with three mistakes: %d %v", code, v)
	}
	if n, _ := st.Silences(context.Background(), store.SilenceFilter{}); len(n) != 0 {
		t.Fatalf("a refused request saved %d silences", len(n))
	}

	code, v = call("POST", "/api/v1/silences", `{"when":"waba_id == \"102290129340398\"","for":"2h","author":"ana","comment":"maintenance"}`, apiToken)
	sil, _ := v["silence"].(map[string]any)
	id, _ := sil["id"].(string)
	if code != http.StatusCreated || !strings.HasPrefix(id, "sil-") || sil["state"] != "active" || sil["ends_at"] != "2026-03-04T07:06:07Z" {
		t.Fatalf("adding: %d %v", code, v)
	}
	code, v = call("GET", "/api/v1/silences", "", apiToken)
	if list, _ := v["silences"].([]any); code != http.StatusOK || len(list) != 1 {
		t.Fatalf("listing: %d %v", code, v)
	}
	now = now.Add(10 * time.Minute)
	code, v = call("POST", "/api/v1/silences/"+id+"/expire", "", apiToken)
	if code != http.StatusOK || v["state"] != "expired" {
		t.Fatalf("expiring: %d %v", code, v)
	}
	due, err := st.DueTimers(context.Background(), now, 10)
	if err != nil || len(due) != 1 || due[0].Kind != "silence-end" {
		t.Errorf("after expiring, due timers %+v, %v; want the silence's end, so what it hid is sent", due, err)
	}
	if code, _ := call("POST", "/api/v1/silences/"+id+"/expire", "", apiToken); code != http.StatusConflict {
		t.Errorf("expiring twice: %d, want 409", code)
	}
	if code, _ := call("POST", "/api/v1/silences/sil-nope/expire", "", apiToken); code != http.StatusNotFound {
		t.Errorf("expiring an unknown silence: %d, want 404", code)
	}
	code, v = call("GET", "/api/v1/silences", "", apiToken)
	if list, _ := v["silences"].([]any); code != http.StatusOK || len(list) != 0 {
		t.Errorf("active after expiring: %d %v", code, v)
	}
	code, v = call("GET", "/api/v1/silences?state=all", "", apiToken)
	if list, _ := v["silences"].([]any); code != http.StatusOK || len(list) != 1 {
		t.Errorf("all after expiring: %d %v, want the expired silence kept", code, v)
	}
}
