package pagerduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The Events API's two endpoints, as PagerDuty documents them.
const (
	alertPath  = "/v2/enqueue"
	changePath = "/v2/change/enqueue"
)

// compileSchema compiles testdata/schema/<name>, asserting formats
// (date-time, uri) as PagerDuty's documentation requires them.
func compileSchema(t testing.TB, name string) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", "schema", name))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("schema %s: %v", name, err)
	}
	return s
}

// schemaCheck reports what in body the schema refuses, nil if nothing.
func schemaCheck(s *jsonschema.Schema, body []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(doc)
}

// received is one request a pdPeer took.
type received struct {
	path string
	body []byte
}

// pdPeer is an Events API v2 peer for the sink's tests: POST /v2/enqueue
// takes alert events and POST /v2/change/enqueue change events, each
// held to its JSON Schema under testdata/schema and to PagerDuty's
// 512 KB. A refused event fails the test and is answered 400 as
// PagerDuty would. A valid one is answered by answer (202 with
// PagerDuty's success body when answer is nil).
type pdPeer struct {
	t      testing.TB
	URL    string
	alert  *jsonschema.Schema
	change *jsonschema.Schema
	answer func(path string) (status int, header http.Header, body string)

	mu  sync.Mutex
	got []received
}

func newPeer(t testing.TB) *pdPeer {
	t.Helper()
	p := &pdPeer{t: t, alert: compileSchema(t, "alert_event.schema.json"), change: compileSchema(t, "change_event.schema.json")}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+alertPath, func(w http.ResponseWriter, r *http.Request) { p.serve(w, r, p.alert) })
	mux.HandleFunc("POST "+changePath, func(w http.ResponseWriter, r *http.Request) { p.serve(w, r, p.change) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *pdPeer) serve(w http.ResponseWriter, r *http.Request, schema *jsonschema.Schema) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxEventBytes+2))
	if err != nil {
		p.t.Errorf("%s: reading the body: %v", r.URL.Path, err)
		return
	}
	p.mu.Lock()
	p.got = append(p.got, received{path: r.URL.Path, body: body})
	p.mu.Unlock()
	problem := ""
	if len(body) > MaxEventBytes {
		problem = fmt.Sprintf("event is over %d bytes", MaxEventBytes)
	} else if err := schemaCheck(schema, body); err != nil {
		problem = err.Error()
	}
	if problem != "" {
		p.t.Errorf("PagerDuty would refuse this %s event: %s\n%.2000s", r.URL.Path, problem, body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		b, _ := json.Marshal(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{problem}})
		_, _ = w.Write(b)
		return
	}
	status, header, answer := http.StatusAccepted, http.Header{}, ""
	if p.answer != nil {
		status, header, answer = p.answer(r.URL.Path)
	}
	if answer == "" && status == http.StatusAccepted {
		var ev struct {
			DedupKey string `json:"dedup_key"`
		}
		_ = json.Unmarshal(body, &ev)
		if r.URL.Path == changePath {
			answer = `{"status":"success","message":"Change event processed"}`
		} else {
			answer = fmt.Sprintf(`{"status":"success","message":"Event processed","dedup_key":%q}`, ev.DedupKey)
		}
	}
	for k, vs := range header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

// at returns the bodies received at path, in order.
func (p *pdPeer) at(path string) [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out [][]byte
	for _, r := range p.got {
		if r.path == path {
			out = append(out, r.body)
		}
	}
	return out
}

// all returns every request received, in order.
func (p *pdPeer) all() []received {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]received(nil), p.got...)
}
