package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
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
	// usage is the command line after "wabarouter ".
	usage string
	// help says what the command does, its arguments and flags, the
	// environment variables it reads and an example; `COMMAND -h` prints
	// it, so a newcomer never has to read the source.
	help string
	run  func(ctx context.Context, args []string, stdio IO) int
}

// configEnv is the Environment section of every command that reads the
// config: what it reads is whatever the config names.
const configEnv = `  The ${VAR}s the config names. The built-in config names two:
    META_VERIFY_TOKEN  the verify token of Meta's subscription handshake
    META_APP_SECRET    the Meta app secret webhooks are signed with`

func commands() map[string]command {
	return map[string]command{
		"check": {"check the config and every rules file; report all errors and warnings", "check [--config FILE] [--strict] [--format text|json]", `
Loads the config and every rules file it names, builds every sink as serve
does (contacting nothing, creating nothing), and reports every problem at
once, each as FILE:LINE:COL, sorted by place, with what to write instead.
Exits 1 if there is any error.

Warnings are rules that load but very likely do not do what they say: a
value the field never takes (event == "account_restriction"), a list's
first item on events whose list may be empty, and and or mixed without
parentheses, a helper duration such as "7d". They print as
FILE:LINE:COL: warning: ... and leave the exit code 0 unless --strict.

Without --strict, what needs production secrets is not required: a missing
server section and a ${VAR} that is not set in the server section or in a
sink are warnings naming the variable and its line, and such a sink is not
built. A rule author's repository and CI can check rules this way. With
--strict, check judges exactly as serve does and refuses what serve would,
and refuses warnings too.

Flags:
  --config FILE  the YAML config (default: the built-in copy of config.example.yaml)
  --strict       require what serve requires: server.verify_token,
                 server.app_secrets and every ${VAR}; and fail on warnings
  --format F     text (default), or json: one JSON object per diagnostic and
                 line on standard output, with file, line, column, severity
                 (error or warning), rule, message and hint, for editors and CI

Environment:
` + configEnv + `
  Without --strict, unset ones are warnings.

Example:
  wabarouter check --config config.yaml
  wabarouter check --config config.yaml --format json
  META_VERIFY_TOKEN=… META_APP_SECRET=… wabarouter check --strict --config config.yaml
`, runCheck},
		"parse": {"print the events of webhook payloads as JSON lines", "parse [FILE…]", `
Prints the events wabarouter reads from each webhook payload, one JSON
object per line, with the field names rules use. Reads no config.

Arguments:
  FILE…  webhook bodies as Meta posts them (JSON); none, or -, reads
         standard input

Environment:
  None.

Example:
  wabarouter parse testdata/webhooks/seed_account_restriction.json
`, runParse},
		"route": {"dry run: show which rules match payloads and what would be sent", "route [--config FILE] [--format text|json] [--at TIME] PAYLOAD…", `
Dry run: for each event of each payload, shows which rules match and the
notifications they would send (sink, severity, action, dedup key, title),
or that nothing would be sent. Sends nothing and needs no running router.
A rule that fails on an event is shown with its error, and route then
exits 1. Like check without --strict, it needs no server section and no
sink secrets: what it could not check is printed as warnings. The
silences in force in the config's store, if it has one, are applied, so
what they would hide is shown as not sent.

Arguments:
  PAYLOAD…  webhook bodies as Meta posts them (JSON files); - reads
            standard input

Flags:
  --config FILE         the YAML config (default: the built-in copy of config.example.yaml)
  --format text|json    text for people (default); json writes one object
                        per notification, and per failed rule (with "error")
  --at TIME             route as if it were TIME (RFC 3339, such as
                        2026-11-28T10:00:00+01:00): within, older_than, now()
                        and the schedules read it; a notification a schedule
                        holds says until when (held_until in json)

Environment:
` + configEnv + `
  Unset ones are warnings.

Example:
  wabarouter route --config config.yaml testdata/webhooks/seed_disabled_update_disable.json
  wabarouter route --config config.yaml --at 2026-11-28T10:00:00+01:00 payload.json
`, runRoute},
		"serve": {"run the router: receive, verify and route webhooks", "serve [--config FILE]", `
Runs the router: answers Meta's handshake and signed webhooks on /webhook,
stores each webhook before answering 200, routes it by the rules and
delivers the notifications through the sinks, retrying until each is sent
or dead-lettered. Serves /healthz, /readyz and /metrics on the same
address. Reloads the rules on SIGHUP and when a config or rules file
changes; stops cleanly on Ctrl-C or SIGTERM.

Without --config it runs on the built-in copy of config.example.yaml: the
rules of rules.example.yaml, three log sinks that print each notification
on standard output, and the store in data/wabarouter.db under the working
directory. serve refuses to start without server.verify_token and
server.app_secrets, or with any ${VAR} not set (check --strict says the
same).

Flags:
  --config FILE        the YAML config (default: the built-in copy of config.example.yaml)
  --cpuprofile FILE    write a CPU profile of the whole run, for go tool pprof
  --blockprofile FILE  write where goroutines waited, at exit

Environment:
` + configEnv + `
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY apply to the sinks' requests.

Example:
  META_VERIFY_TOKEN=dev-token META_APP_SECRET=dev-secret wabarouter serve
`, runServe},
		"test": {"unit-test rules: check payloads route to the expected notifications", "test [--config FILE] TESTS…", `
Runs rule unit tests: each case names a payload and the notifications
expected from it (rule, sink, severity, optionally title and action), and
fails with a diff when the rules send anything else, or when a rule fails
on the payload. Exits 1 if any case fails. Like check without --strict, it
needs no server section and no sink secrets.

Arguments:
  TESTS…  YAML files of test cases (see testdata/rules/example_test.yaml);
          payload_file paths are relative to the test file

Flags:
  --config FILE  the YAML config (default: the built-in copy of config.example.yaml)

Environment:
` + configEnv + `
  Unset ones are warnings.

Example:
  wabarouter test --config config.example.yaml testdata/rules/example_test.yaml
`, runRuleTest},
		"version": {"print the version, commit and Go version of this binary", "version", `
Prints the version of wabarouter, the commit it was built from (with
"modified" if the work tree had changes) and the Go version that built it.
The same is on /metrics as wabarouter_build_info. Also: wabarouter --version.

Environment:
  None.

Example:
  wabarouter version
`, runVersion},

		"healthcheck": {"exit 0 if a running router is ready (for container health checks)", "healthcheck [--url URL]", `
Asks a running router's /readyz and exits 0 only if it answers 200, 1
otherwise. For container health checks: the image has no shell or curl.

Flags:
  --url URL  readiness URL of the running router (default http://127.0.0.1:8080/readyz)

Environment:
  None.

Example:
  wabarouter healthcheck --url http://127.0.0.1:8080/readyz
`, runHealthcheck},
		"deadletter": {"list, replay or drop dead-lettered notifications", "deadletter list|replay|drop --config FILE [ID…]", `
Lists the notifications that could not be delivered (dead letters), puts
some back in the queue (replay), or deletes them (drop). Opens the store
the config names; it may run beside a running router, which then delivers
what was replayed.

Arguments:
  list        one tab-separated line per dead letter: id, sink,
              notification, attempts, created, last error
  replay ID…  queue these rows again (ids from list)
  drop ID…    delete these dead rows

Flags:
  --config FILE  the YAML config whose store to open (required)

Environment:
` + configEnv + `
  It reads the config as serve does, so every one must be set.

Example:
  wabarouter deadletter list --config config.yaml
  wabarouter deadletter replay 12 13 --config config.yaml
`, runDeadletter},
		"silence": {"silence notifications for a while, list silences, end one early", "silence add|list|expire [--config FILE] [flags] [ID]", `
Silences hide from every sink the notifications of the events a condition
matches, for a while: maintenance, a known problem being fixed. A
silenced event still opens and updates its incident, quietly and on
record (why names the silence); when the silence ends while such an
incident is still open, its sinks are told then. A resolve is never
silenced. Silences are kept after they end. The command opens the store
the config names and may run beside serve, which applies a change with
its next routing batch.

Arguments:
  add         add a silence: --when, --for or --until, --author, --comment
  add --preview
              list what the silence would have hidden in the last 7 days,
              from the decision log, and add nothing
  list        the silences in force (--all: every one, ended ones too)
  expire ID   end a silence now; what it hid and is still open is sent

Flags:
  --config FILE      the YAML config whose store to use (default: the
                     built-in copy of config.example.yaml)
  --when EXPR        the events to silence, written as a rule's when and
                     checked the same way
  --for DURATION     how long, from its start: 30m, 2h
  --until TIME       when it ends: 2026-12-24T18:00:00+01:00, or
                     "2026-12-24 17:00" for UTC
  --from TIME        when it starts (default: now)
  --author NAME      who adds it (required)
  --comment TEXT     why (required)
  --preview          with add: list what it would have hidden, add nothing
  --all              with list: every silence, ended ones too
  --format text|json lines for people (default), or one JSON object each

Environment:
  None: only store.path and the accounts are read from the config, so the
  ${VAR}s it names need not be set.

Example:
  wabarouter silence add --config config.yaml --when 'waba_id == "102290129340398"' \
      --for 2h --author ana --comment "number migration, ticket OPS-42"
  wabarouter silence list --config config.yaml
  wabarouter silence expire --config config.yaml sil-3f9a1c2b4d5e
`, runSilence},
		"incidents": {"list the incidents: open, resolved or all, by account", "incidents [--config FILE] [--state open|resolved|all] [--waba ID] [--format text|json]", `
Lists the incidents in the store the config names, the latest changed
first: one problem on one account, number, template or flow, from its
opening to its resolve. It reads the store read-only, so it may run beside
a running serve without disturbing it, and sees what serve has committed.

The text is a table: state, severity, key, rule, when it opened, when it
was last seen (or resolved), how many events it has seen, and its id,
which why --incident takes. JSON is one object per line with id, state,
severity, waba_id, rule, key, episode, title, events, opened_at,
updated_at, resolved_at (null while open) and reason (what resolved it).

Flags:
  --config FILE         the YAML config whose store to read (default: the
                        built-in copy of config.example.yaml)
  --state STATE         open (default), resolved or all
  --waba ID             only this WhatsApp Business Account's incidents
  --format text|json    a table (default), or one JSON object per line

Environment:
  None: only store.path is read from the config, so the ${VAR}s it names
  need not be set.

Example:
  wabarouter incidents --config config.yaml
  wabarouter incidents --config config.yaml --state all --waba 102290129340398 --format json
`, runIncidents},
		"why": {"explain what routing decided about events, and why", "why [--config FILE] (--waba ID | --webhook ID | --incident ID) [--since 24h] [--format text|json]", `
Explains, from the decision log in the store the config names, what
routing made of each event of an account, of a webhook or of an incident,
oldest first: which rules matched or failed (with the error), what became
of the incident (opened, updated, escalated, reminded, resolved), and each
notification made, or not made and why (below a sink's min_severity, a
transition the sink does not take), with every delivery attempt: sent
(with the service's receipt), failed and retried (the error, its class,
Retry-After) or dead-lettered. An event that sent nothing says so: no rule
matched, or it was a redelivery of a change already routed (and when).

It reads the store read-only, so it may run beside a running serve without
disturbing it. The log keeps store.retention (30 days by default).

Flags:
  --config FILE         the YAML config whose store to read (default: the
                        built-in copy of config.example.yaml)
  --waba ID             explain this WhatsApp Business Account's events
  --webhook ID          explain this webhook's events (12, or w12)
  --incident ID         explain the events of this incident (from incidents)
  --since WHEN          only events routed within this long (90m, 24h, 7d)
                        or since a time (2026-03-04T05:00:00Z); default 24h
                        with --waba, everything kept with the others
  --format text|json    sentences (default), or one JSON object per event
                        and line: webhook_id, index, received_at,
                        routed_at, waba_id, field, event, redelivery (and
                        redelivery_of), rules, incident, incidents,
                        notifications (with attempts) and summary

Environment:
  None: only store.path is read from the config, so the ${VAR}s it names
  need not be set.

Example:
  wabarouter why --config config.yaml --waba 102290129340398
  wabarouter why --config config.yaml --incident inc-33a10b5f282bc1cf --format json
`, runWhy},
		"notify-test": {"send a test notification to one sink to check its settings", "notify-test --config FILE --sink NAME", `
Builds one sink from the config and sends it a test notification, marked
as a test, to prove its settings: a token, a channel, a mail server. Says
whether an error is permanent or would be retried.

Flags:
  --config FILE  the YAML config (required)
  --sink NAME    the sink to test (required)

Environment:
` + configEnv + `
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY apply to the sink's requests.

Example:
  wabarouter notify-test --config config.yaml --sink oncall-pagerduty
`, runNotifyTest},
	}
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// Run runs the subcommand named by args[0] and returns its exit code.
func Run(ctx context.Context, args []string, stdio IO) int {
	cmds := commands()
	switch {
	case len(args) == 0:
		usage(stdio.Err, cmds)
		return ExitUsage
	case isHelp(args[0]):
		usage(stdio.Out, cmds)
		return ExitOK
	case args[0] == "help":
		if len(args) == 1 {
			usage(stdio.Out, cmds)
			return ExitOK
		}
		cmd, ok := cmds[args[1]]
		if !ok {
			fmt.Fprintf(stdio.Err, "wabarouter: unknown command %q\n", args[1])
			usage(stdio.Err, cmds)
			return ExitUsage
		}
		printHelp(stdio.Out, cmd)
		return ExitOK
	case args[0] == "--version" || args[0] == "-version":
		return runVersion(ctx, args[1:], stdio)
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stdio.Err, "wabarouter: unknown command %q\n", args[0])
		usage(stdio.Err, cmds)
		return ExitUsage
	}
	// Help is answered here, for every command alike, wherever -h stands
	// before a "--".
	rest := args[1:]
	if end := slices.Index(rest, "--"); end >= 0 {
		rest = rest[:end]
	}
	if slices.ContainsFunc(rest, isHelp) {
		printHelp(stdio.Out, cmd)
		return ExitOK
	}
	return cmd.run(ctx, args[1:], stdio)
}

func printHelp(w io.Writer, cmd command) {
	fmt.Fprintf(w, "usage: wabarouter %s\n%s", cmd.usage, cmd.help)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: wabarouter COMMAND [flags] [arguments]\n\ncommands:")
	for _, name := range names {
		fmt.Fprintf(w, "  %-12s %s\n", name, cmds[name].summary)
	}
	fmt.Fprintln(w, "\n"+strings.TrimSpace(`
Run 'wabarouter COMMAND -h' for what a command does, its arguments, the
environment variables it reads and an example. Flags may come before or
after the arguments.`))
}
