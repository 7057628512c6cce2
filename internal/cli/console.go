package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// runConsole makes what the console's config needs that a person cannot
// write by hand: a password's bcrypt hash.
func runConsole(_ context.Context, args []string, stdio IO) int {
	fs := newFlagSet("console", stdio)
	cost := fs.Int("cost", bcrypt.DefaultCost, fmt.Sprintf("bcrypt's cost, %d to %d: each step doubles the time a sign-in (and a guess) takes", bcrypt.MinCost, bcrypt.MaxCost))
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 1 || fs.Arg(0) != "hash-password" {
		return usageFailure(stdio, "console", "say hash-password")
	}
	if *cost < bcrypt.MinCost || *cost > bcrypt.MaxCost {
		return usageFailure(stdio, "console", fmt.Sprintf("--cost %d is not from %d to %d", *cost, bcrypt.MinCost, bcrypt.MaxCost))
	}
	line, err := bufio.NewReader(stdio.In).ReadString('\n')
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		if err != nil {
			fmt.Fprintf(stdio.Err, "console: no password on standard input (%v); type it and press Enter, or pipe it in\n", err)
		} else {
			fmt.Fprintln(stdio.Err, "console: the password is empty")
		}
		return ExitFailure
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), *cost)
	if err != nil {
		fmt.Fprintf(stdio.Err, "console: hashing the password: %v\n", err)
		return ExitFailure
	}
	fmt.Fprintln(stdio.Out, string(hash))
	return ExitOK
}
