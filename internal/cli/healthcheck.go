package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// healthcheckTimeout is shorter than Docker's default HEALTHCHECK timeout
// (30s) so the command reports its own reason instead of being killed.
const healthcheckTimeout = 5 * time.Second

// runHealthcheck asks a running router's /readyz and exits 0 only on 200.
// It exists because the container image has no shell or curl.
func runHealthcheck(ctx context.Context, args []string, stdio IO) int {
	fs := newFlagSet("healthcheck", stdio)
	url := fs.String("url", "http://127.0.0.1:8080/readyz", "readiness URL of the running router")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 0 {
		return usageFailure(stdio, "healthcheck", "healthcheck takes no arguments")
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintf(stdio.Err, "healthcheck: %v\n", err)
		return ExitUsage
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stdio.Err, "healthcheck: %s: %v\n", *url, err)
		return ExitFailure
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	answer := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stdio.Err, "healthcheck: %s: %s %s\n", *url, resp.Status, answer)
		return ExitFailure
	}
	fmt.Fprintf(stdio.Out, "%s: %s\n", *url, answer)
	return ExitOK
}
