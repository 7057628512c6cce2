package cli

import (
	"context"
	"fmt"
)

func runServe(_ context.Context, _ []string, stdio IO) int {
	fmt.Fprintln(stdio.Err, "serve: not wired yet")
	return ExitFailure
}
