package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/wabarouter/wabarouter/internal/event"
)

// maxParseInput bounds what parse reads from one file, as the server bounds a
// body; a larger file is refused rather than read into memory.
const maxParseInput = 64 << 20

func runParse(_ context.Context, args []string, stdio IO) int {
	fs := flag.NewFlagSet("parse", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	fs.Usage = func() {
		fmt.Fprintln(stdio.Err, "usage: wabarouter parse [FILE...]   (no FILE or -: standard input)")
	}
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	enc := json.NewEncoder(stdio.Out)
	enc.SetEscapeHTML(false)
	code := ExitOK
	for _, name := range files {
		body, err := readInput(name, stdio.In)
		if err != nil {
			fmt.Fprintf(stdio.Err, "%s: %v\n", name, err)
			code = ExitFailure
			continue
		}
		payload, err := event.Parser{}.Parse(body)
		events := payload.Events
		if len(events) == 0 {
			// Each event carries the payload's warnings; with none, say
			// them here, so an empty webhook is not mistaken for a fault.
			for _, w := range payload.Warnings {
				fmt.Fprintf(stdio.Err, "%s: warning: %s\n", name, w)
			}
		}
		for _, ev := range events {
			if encErr := enc.Encode(ev); encErr != nil {
				fmt.Fprintf(stdio.Err, "%s: writing event: %v\n", name, encErr)
				return ExitFailure
			}
		}
		if err != nil {
			fmt.Fprintf(stdio.Err, "%s: %v\n", name, err)
			code = ExitFailure
		}
	}
	return code
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }() // read only
		r = f
	}
	body, err := io.ReadAll(io.LimitReader(r, maxParseInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	if len(body) > maxParseInput {
		return nil, fmt.Errorf("larger than %d bytes", maxParseInput)
	}
	return body, nil
}
