package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/wabarouter/wabarouter/internal/messagetest"
)

// TestDocsPicturesExist: every picture docs/messages.md shows is in
// docs/pictures, so a renamed fixture cannot leave the page with holes.
func TestDocsPicturesExist(t *testing.T) {
	root, err := messagetest.Root()
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(root, "docs", "messages.md"))
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`\]\((pictures/[^)]+\.png)\)`).FindAllStringSubmatch(string(page), -1)
	if len(links) < 10 {
		t.Fatalf("docs/messages.md shows %d pictures", len(links))
	}
	for _, l := range links {
		if _, err := os.Stat(filepath.Join(root, "docs", filepath.FromSlash(l[1]))); err != nil {
			t.Errorf("docs/messages.md shows %s: %v (go run ./internal/tools/docpics -out docs/pictures)", l[1], err)
		}
	}
}
