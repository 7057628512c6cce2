// Command docpics draws what each sink's readers get for every sample
// notification (internal/messagetest's fixtures) as PNGs for the docs:
// the e-mail's HTML part, and a preview of the Slack message laid out
// from its Block Kit JSON, both taken with headless Chromium.
//
//	go run ./internal/tools/docpics -out docs/pictures
//
// It writes OUT/email/NAME.png and OUT/slack/NAME.png, NAME being the
// fixture's with "#" made "-", and removes the PNGs there that no
// fixture makes any more. Chromium is /usr/bin/chromium or $CHROMIUM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/wabarouter/wabarouter/internal/console/blockkit"
	"github.com/wabarouter/wabarouter/internal/messagetest"
	"github.com/wabarouter/wabarouter/internal/sinks/email"
)

// The pictures' widths in CSS pixels: a mail client's reading pane, a
// Slack channel's message column.
const (
	emailWidth = 600
	slackWidth = 700
)

func main() {
	out := flag.String("out", "docs/pictures", "folder to write email/*.png and slack/*.png into")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	n, err := run(ctx, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "docpics:", err)
		os.Exit(1)
	}
	fmt.Printf("docpics: %d pictures in %s\n", n, *out)
}

// run writes the pictures of every fixture under out and returns how
// many it wrote.
func run(ctx context.Context, out string) (int, error) {
	chromium, err := chromiumPath()
	if err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp("", "docpics")
	if err != nil {
		return 0, err
	}
	// A leftover temporary folder is no reason to fail a run that drew
	// every picture.
	defer func() { _ = os.RemoveAll(tmp) }()
	fixtures, err := messagetest.Make(ctx, tmp)
	if err != nil {
		return 0, fmt.Errorf("making the sample notifications: %w", err)
	}
	cam, err := newCamera(ctx, chromium, tmp)
	if err != nil {
		return 0, err
	}
	defer cam.Close()

	written := map[string]bool{}
	for _, fx := range fixtures {
		name := FileName(fx.Name)
		mail, err := email.HTMLBody(fx.Notification)
		if err != nil {
			return 0, fmt.Errorf("fixture %s: %w", fx.Name, err)
		}
		payload, err := slackPayload(fx.Notification)
		if err != nil {
			return 0, fmt.Errorf("fixture %s: %w", fx.Name, err)
		}
		preview, err := blockkit.Preview(payload)
		if err != nil {
			return 0, fmt.Errorf("fixture %s: %w", fx.Name, err)
		}
		for _, p := range []struct {
			sink, page string
			width      int64
		}{{"email", mail, emailWidth}, {"slack", preview, slackWidth}} {
			png, err := cam.shoot(p.sink+"/"+fx.Name, p.page, p.width)
			if err != nil {
				return 0, err
			}
			file := filepath.Join(out, p.sink, name+".png")
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				return 0, err
			}
			if err := os.WriteFile(file, png, 0o644); err != nil {
				return 0, fmt.Errorf("writing the picture of %s: %w", fx.Name, err)
			}
			written[file] = true
		}
	}
	if err := removeStale(out, written); err != nil {
		return 0, err
	}
	return len(written), nil
}

// FileName is a fixture's name as a picture's: "#" would end a link's
// path in Markdown.
func FileName(fixture string) string { return strings.ReplaceAll(fixture, "#", "-") }

// removeStale deletes the PNGs under out/email and out/slack that this
// run did not write, so a removed or renamed fixture leaves no picture.
func removeStale(out string, written map[string]bool) error {
	for _, sink := range []string{"email", "slack"} {
		old, err := filepath.Glob(filepath.Join(out, sink, "*.png"))
		if err != nil {
			return err
		}
		for _, f := range old {
			if !written[f] {
				if err := os.Remove(f); err != nil {
					return fmt.Errorf("removing the stale picture %s: %w", f, err)
				}
			}
		}
	}
	return nil
}
