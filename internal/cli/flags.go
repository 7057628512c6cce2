package cli

import (
	"flag"
	"fmt"
	"strings"
)

// parseFlags parses args like fs.Parse, but takes flags wherever they
// stand, so `route FILE --config X` works as `route --config X FILE` does:
// Go's flag package stops at the first argument that is not a flag. A
// lone "--" still ends the flags; everything after it is positional. When
// it returns, fs.Args() holds the positional arguments in their order.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		consumed := args[:len(args)-len(rest)]
		if len(consumed) > 0 && consumed[len(consumed)-1] == "--" && !isFlagValue(fs, consumed) {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Parsing "--" and the positional arguments leaves fs.Args() as
	// callers expect, and sets no flag.
	return fs.Parse(append([]string{"--"}, positional...))
}

// isFlagValue reports whether the "--" that ends consumed was the value of
// a flag written as `-name --` rather than the end of the flags.
func isFlagValue(fs *flag.FlagSet, consumed []string) bool {
	if len(consumed) < 2 {
		return false
	}
	prev := consumed[len(consumed)-2]
	name := prev
	for len(name) > 0 && name[0] == '-' {
		name = name[1:]
	}
	if name == "" || name == prev || strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, isBool := f.Value.(interface{ IsBoolFlag() bool })
	return !isBool || !b.IsBoolFlag()
}

// newFlagSet returns a flag set for a command whose mistakes are told on
// standard error with the command's usage and its flags.
func newFlagSet(name string, stdio IO) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	fs.Usage = func() {
		fmt.Fprintf(stdio.Err, "usage: wabarouter %s\n", commands()[name].usage)
		fs.PrintDefaults()
		fmt.Fprintf(stdio.Err, "run 'wabarouter %s -h' for help\n", name)
	}
	return fs
}

// usageFailure says what is wrong with a command line, and how to use it.
func usageFailure(stdio IO, name, problem string) int {
	fmt.Fprintf(stdio.Err, "%s: %s\nusage: wabarouter %s\nrun 'wabarouter %s -h' for help\n", name, problem, commands()[name].usage, name)
	return ExitUsage
}
