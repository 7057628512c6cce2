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
	where := fmt.Sprintf("in %d files", len(cfg.RuleFiles))
	if n := len(cfg.InlineRules); n > 0 {
		where = fmt.Sprintf("(%d inline, %d from %d files)", n, len(set.Rules)-n, len(cfg.RuleFiles))
	}
	fmt.Fprintf(stdio.Out, "%s: OK: %d rules %s, %d sinks\n", *configPath, len(set.Rules), where, len(cfg.Sinks))
	return ExitOK
}
