package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where Chromium is: $CHROMIUM, else Debian's.
func chromiumPath() (string, error) {
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	info, err := os.Stat(path)
	if err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
		return path, nil
	}
	switch {
	case err == nil:
		err = errors.New("not an executable file")
	case errors.Is(err, fs.ErrNotExist):
		err = errors.New("no such file")
	}
	return "", fmt.Errorf("the pictures are taken with headless Chromium, not found at %s: install it with `apt-get install chromium`, or set CHROMIUM to its path: %w", path, err)
}

// camera takes pictures of pages in one headless Chromium.
type camera struct {
	ctx   context.Context
	dir   string // where the pages are written to be opened
	close func()
}

// newCamera starts Chromium at path, writing its pages to dir. The
// flags pin what would make two runs' pictures differ: one device pixel
// per CSS pixel, no GPU, no LCD antialiasing or font hinting, the sRGB
// profile; and every host name fails to resolve, so no page can load
// anything from the network.
func newCamera(ctx context.Context, path, dir string) (*camera, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.DisableGPU,
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.Flag("disable-lcd-text", true),
		chromedp.Flag("disable-font-subpixel-positioning", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(filepath.Join(dir, "chromium")),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		cancelBrowser()
		cancelAlloc()
		return nil, fmt.Errorf("starting Chromium (%s): %w", path, err)
	}
	return &camera{ctx: bctx, dir: dir, close: func() { cancelBrowser(); cancelAlloc() }}, nil
}

func (c *camera) Close() { c.close() }

// shoot renders page at width CSS pixels and returns a PNG of its whole
// height.
func (c *camera) shoot(name, page string, width int64) ([]byte, error) {
	file := filepath.Join(c.dir, "page.html")
	if err := os.WriteFile(file, []byte(page), 0o600); err != nil {
		return nil, fmt.Errorf("writing the page of %s: %w", name, err)
	}
	u := url.URL{Scheme: "file", Path: file}
	// A viewport one pixel high, so that the page's height is its
	// content's, then one as high as that.
	err := chromedp.Do(c.ctx, chromedp.EmulateViewport(width, 1), chromedp.Navigate(u.String()))
	if err != nil {
		return nil, fmt.Errorf("opening the page of %s: %w", name, err)
	}
	h, err := chromedp.Run(c.ctx, chromedp.Evaluate[float64](`document.documentElement.scrollHeight`))
	if err != nil {
		return nil, fmt.Errorf("measuring the page of %s: %w", name, err)
	}
	if err := chromedp.Do(c.ctx, chromedp.EmulateViewport(width, int64(math.Ceil(h)))); err != nil {
		return nil, fmt.Errorf("sizing the page of %s: %w", name, err)
	}
	png, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return nil, fmt.Errorf("taking the picture of %s: %w", name, err)
	}
	return png, nil
}
