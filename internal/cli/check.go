package cli

import (
	"context"
	"flag"
	"fmt"
)

func runCheck(_ context.Context, args []string, stdio IO) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	configPath := fs.String("config", "", "path to the YAML config file (required)")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if *configPath == "" {
		fmt.Fprintln(stdio.Err, "check: --config FILE is required")
		return ExitUsage
	}
	cfg, set, err := loadRouting(*configPath)
	if err != nil {
		lines := errorLines(err)
		for _, line := range lines {
			fmt.Fprintln(stdio.Err, line)
		}
		fmt.Fprintf(stdio.Err, "%s: %d error(s); nothing was changed\n", *configPath, len(lines))
		return ExitFailure
	}
	fmt.Fprintf(stdio.Out, "%s: OK: %d rules in %d files, %d sinks\n", *configPath, len(set.Rules), len(cfg.RuleFiles), len(cfg.Sinks))
	return ExitOK
}
