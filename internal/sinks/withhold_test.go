package sinks

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/event"
	"github.com/wabarouter/wabarouter/internal/notification"
	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// customerTexts are what the customers in the messages payloads wrote or
// are called: none may be in what a sink sends by default.
var customerTexts = []string{
	"Kerry Fisher", "16315551181", "this is a text message", // var_messages_inbound.json
	"16315551234", "16315555555", // var_messages_failed_status.json recipients
	"BR.1234567890customer", "see my receipt attached", "signed contract", "kerry-contract.pdf",
	"Home of Kerry", "221B Baker Street", "51.5237", "Jane Contact", "+44 7700 900123", "447700900123",
	"Yes please deliver", "yes-1", "STOP promos", "\U0001F621", "my card number", "wamid.QUOTED1",
}

// businessTexts are what the same payloads say about the business and
// the messages themselves: kept.
var businessTexts = []string{
	"106540352242922", "16505551111", "wamid.ABGGFlA5Fpa", "wamid.TEXT1", "wamid.IMAGE1", `"type":"location"`,
	"1764597707", "131049", "This message was not delivered to maintain healthy ecosystem engagement.",
}

// messagesEvents parses a messages payload into notifications, one per
// event, as the router would address them to a sink.
func messagesEvents(t *testing.T, path string) []notification.Notification {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := event.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	var ns []notification.Notification
	for _, ev := range evs {
		ns = append(ns, notification.Notification{ID: "n-" + ev.MessageID, Sink: "s", Rule: "messages",
			Title: "Message event on " + ev.PhoneNumber, DedupKey: "messages/" + ev.MessageID, Event: ev})
	}
	return ns
}

func messagesPayloads() []string {
	return []string{
		filepath.Join("..", "..", "testdata", "webhooks", "var_messages_inbound.json"),
		filepath.Join("..", "..", "testdata", "webhooks", "var_messages_failed_status.json"),
		filepath.Join("testdata", "messages_rich.json"),
	}
}

func TestWithoutCustomerData(t *testing.T) {
	var all, kept strings.Builder
	for _, path := range messagesPayloads() {
		for _, n := range messagesEvents(t, path) {
			before, _ := json.Marshal(n)
			withheld := WithoutCustomerData(n)
			after, _ := json.Marshal(n)
			if string(before) != string(after) {
				t.Fatalf("%s: WithoutCustomerData changed the notification it was given", path)
			}
			out, err := json.Marshal(withheld)
			if err != nil {
				t.Fatal(err)
			}
			all.Write(before)
			kept.Write(out)
			if !strings.Contains(string(out), WithheldNote) {
				t.Errorf("%s: %s says nothing was withheld", path, out)
			}
		}
	}
	for _, s := range customerTexts {
		if !strings.Contains(all.String(), s) {
			t.Fatalf("test data lacks %q; the check would prove nothing", s)
		}
		if strings.Contains(kept.String(), s) {
			t.Errorf("customer data %q is still sent", s)
		}
	}
	for _, s := range businessTexts {
		if !strings.Contains(kept.String(), s) {
			t.Errorf("%q was withheld but says nothing about the customer", s)
		}
	}
}

func TestWithoutCustomerDataLeavesOtherEventsAlone(t *testing.T) {
	for name, n := range sinkstest.All() {
		got := WithoutCustomerData(n)
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(n)
		if string(a) != string(b) {
			t.Errorf("%s changed:\n%s\nwant\n%s", name, a, b)
		}
	}
}

type recordSink struct {
	got    []notification.Notification
	closed int
}

func (r *recordSink) Close() error {
	r.closed++
	return nil
}

func (r *recordSink) Send(_ context.Context, d Delivery) (Receipt, error) {
	n := d.Notification
	r.got = append(r.got, n)
	return Receipt{Ref: n.ID}, nil
}

func TestWithCustomerDataWithheld(t *testing.T) {
	rec := &recordSink{}
	s := WithCustomerDataWithheld(rec)
	n := messagesEvents(t, messagesPayloads()[0])[0]
	if r, err := s.Send(context.Background(), Delivery{Notification: n}); err != nil || r.Ref != n.ID {
		t.Fatalf("%+v %v", r, err)
	}
	if len(rec.got) != 1 || rec.got[0].Event.From != WithheldNote {
		t.Fatalf("sent %+v", rec.got)
	}
	if n.Event.From != "16315551181" {
		t.Error("the caller's notification changed")
	}
	if err := s.Close(); err != nil || rec.closed != 1 {
		t.Errorf("Close: %v, the wrapped sink closed %d times; want once", err, rec.closed)
	}
}
