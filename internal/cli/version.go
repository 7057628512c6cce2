package cli

import (
	"context"
	"fmt"

	"github.com/wabarouter/wabarouter/internal/buildinfo"
)

// runVersion prints what a bug report needs to name the build.
func runVersion(_ context.Context, args []string, stdio IO) int {
	fs := newFlagSet("version", stdio)
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 0 {
		return usageFailure(stdio, "version", "version takes no arguments")
	}
	info := buildinfo.Read()
	fmt.Fprintf(stdio.Out, "wabarouter %s\ncommit %s\n%s %s\n", info.Version, info.Revision, info.GoVersion, info.Platform)
	return ExitOK
}
