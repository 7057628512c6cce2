package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
)

// Exit codes shared by every command.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and found a problem (bad input, failed check)
	ExitUsage   = 2 // the command line itself is wrong
)

// IO is where a command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdio IO) int
}

func commands() map[string]command {
	return map[string]command{
		"check": {"check the config and every rules file; report all errors", runCheck},
		"parse": {"print the events of webhook payloads as JSON lines", runParse},
		"route": {"dry run: show which rules match payloads and what would be sent", runRoute},
		"serve": {"run the router: receive, verify and route webhooks", runServe},
		"test":  {"unit-test rules: check payloads route to the expected notifications", runRuleTest},

		"healthcheck": {"exit 0 if a running router is ready (for container health checks)", runHealthcheck},
		"deadletter":  {"list, replay or drop dead-lettered notifications", runDeadletter},
		"notify-test": {"send a test notification to one sink to check its settings", runNotifyTest},
	}
}

// Run runs the subcommand named by args[0] and returns its exit code.
func Run(ctx context.Context, args []string, stdio IO) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdio.Err, cmds)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stdio.Err, "wabarouter: unknown command %q\n", args[0])
		usage(stdio.Err, cmds)
		return ExitUsage
	}
	return cmd.run(ctx, args[1:], stdio)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: wabarouter COMMAND [flags]\n\ncommands:")
	for _, name := range names {
		fmt.Fprintf(w, "  %-12s %s\n", name, cmds[name].summary)
	}
}
