package rules

import (
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/event"
)

func TestGroupParsed(t *testing.T) {
	cases := []struct {
		name, group string
		want        Group
	}{
		{"defaults", `{by: [waba_id, field]}`, Group{By: []string{"waba_id", "field"}, Wait: DefaultGroupWait, Max: DefaultGroupMax}},
		{"all", `{by: [template_name], wait: 2m, max: 7}`, Group{By: []string{"template_name"}, Wait: 2 * time.Minute, Max: 7}},
		{"block", "\n      by: [phone_number_id]\n      wait: 1s\n      max: 1000", Group{By: []string{"phone_number_id"}, Wait: time.Second, Max: 1000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "rules:\n  - name: r\n    when: field == \"flows\"\n    to: [compliance-slack]\n    group: " + c.group + "\n"
			set, err := ParseFile("r.yaml", []byte(src), testSinks)
			if err != nil {
				t.Fatal(err)
			}
			g := set.Rules[0].Group
			if g == nil || g.Wait != c.want.Wait || g.Max != c.want.Max || len(g.By) != len(c.want.By) {
				t.Fatalf("group %+v, want %+v", g, c.want)
			}
			for i := range g.By {
				if g.By[i] != c.want.By[i] {
					t.Fatalf("group.by %v, want %v", g.By, c.want.By)
				}
			}
		})
	}
}

func TestGroupKeyAndProjection(t *testing.T) {
	g := &Group{By: []string{"waba_id", "field", "phone_number"}}
	ev := event.Event{Object: "whatsapp_business_account", WabaID: "102290129340398", Field: "message_template_status_update",
		Event: "PAUSED", TemplateName: "order_update", TemplateLanguage: "en_US"}
	if got, want := g.Key("paused", ev), "102290129340398/message_template_status_update/-/group/paused"; got != want {
		t.Errorf("key %q, want %q", got, want)
	}
	p := g.Project(ev)
	if p.WabaID != ev.WabaID || p.Field != ev.Field || p.Event != "" || p.TemplateName != "" {
		t.Errorf("projection %+v keeps what items do not share, or drops what they do", p)
	}
	if (&Group{By: []string{"event"}}).Project(ev).Event != "PAUSED" {
		t.Error("projection by event dropped the event")
	}
}
