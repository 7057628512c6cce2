package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wabarouter/wabarouter/internal/messagetest"
)

func TestChromiumMissing(t *testing.T) {
	t.Setenv("CHROMIUM", filepath.Join(t.TempDir(), "no-chromium"))
	_, err := chromiumPath()
	if err == nil || !strings.Contains(err.Error(), "apt-get install chromium") || !strings.Contains(err.Error(), "no-chromium") {
		t.Errorf("err = %v", err)
	}
}

// TestRun runs the whole tool in a temporary folder: a PNG of the
// expected width and of a plausible height for every fixture and sink,
// and the picture of a fixture that is gone is removed.
func TestRun(t *testing.T) {
	if _, err := chromiumPath(); err != nil {
		t.Skip(err)
	}
	out := t.TempDir()
	for _, f := range []string{"slack/gone.png", "slack/notes.txt"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(out, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, f), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := run(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	fixtures := messagetest.Fixtures(t)
	if n != 2*len(fixtures) {
		t.Errorf("run wrote %d pictures for %d fixtures", n, len(fixtures))
	}
	for _, fx := range fixtures {
		for sink, width := range map[string]int{"email": emailWidth, "slack": slackWidth} {
			file := filepath.Join(out, sink, FileName(fx.Name)+".png")
			b, err := os.ReadFile(file)
			if err != nil {
				t.Error(err)
				continue
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			if got := img.Bounds(); got.Dx() != width || got.Dy() < 150 || got.Dy() > 4000 {
				t.Errorf("%s is %dx%d, want %d wide and 150 to 4000 high", file, got.Dx(), got.Dy(), width)
			}
			if len(b) < 5_000 || len(b) > 500_000 {
				t.Errorf("%s has %d bytes", file, len(b))
			}
		}
	}
	if _, err := os.Stat(filepath.Join(out, "slack", "gone.png")); !os.IsNotExist(err) {
		t.Errorf("the stale picture is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "slack", "notes.txt")); err != nil {
		t.Errorf("a file that is no picture was touched: %v", err)
	}
}

// TestShootIsRepeatable: the same page gives the same bytes.
func TestShootIsRepeatable(t *testing.T) {
	path, err := chromiumPath()
	if err != nil {
		t.Skip(err)
	}
	cam, err := newCamera(context.Background(), path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	page := `<!DOCTYPE html><body style="font-family: sans-serif"><h1>Same</h1><p>` + strings.Repeat("words ", 200) + `</p>`
	a, err := cam.shoot("a", page, emailWidth)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cam.shoot("b", page, emailWidth)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two pictures of one page differ")
	}
	img, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	// 200 words wrap to many lines: the picture is the page's full
	// height, not the one-pixel viewport's.
	if h := img.Bounds().Dy(); h < 200 {
		t.Errorf("the picture is %d high", h)
	}
}
