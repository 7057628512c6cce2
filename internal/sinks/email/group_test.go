package email

import (
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/sinks/sinkstest"
)

// TestGroupItemsListed: one mail lists every item of a group, in the text
// and the HTML part, and counts those beyond group.max.
func TestGroupItemsListed(t *testing.T) {
	n := sinkstest.Grouped(45, 40, sinkstest.TemplateTitle)
	text, err := TextBody(n)
	if err != nil {
		t.Fatal(err)
	}
	html, err := HTMLBody(n)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 40; i++ {
		name := sinkstest.TemplateTitle(i)
		if !strings.Contains(text, "- "+name) || !strings.Contains(html, "<li style=\"overflow-wrap:anywhere; word-break:break-word;\">"+name) {
			t.Errorf("item %d, %q, is not listed in both parts", i, name)
		}
	}
	for _, part := range []string{text, html} {
		if !strings.Contains(part, "and 5 more") || !strings.Contains(part, "Items (45 items, 44 open)") {
			t.Errorf("a part does not count the 5 items beyond max under its heading:\n%s", part)
		}
	}
}
