package cli

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParseFlagsAnywhere(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantConfig string
		wantJSON   bool
		wantArgs   []string
	}{
		{"flags first", []string{"--config", "c.yaml", "--json", "a", "b"}, "c.yaml", true, []string{"a", "b"}},
		{"flags last", []string{"a", "b", "--config", "c.yaml", "--json"}, "c.yaml", true, []string{"a", "b"}},
		{"flags between", []string{"a", "--config=c.yaml", "b", "-json"}, "c.yaml", true, []string{"a", "b"}},
		{"standard input as an argument", []string{"-", "--config", "c.yaml"}, "c.yaml", false, []string{"-"}},
		{"-- ends the flags", []string{"a", "--", "--config", "x"}, "", false, []string{"a", "--config", "x"}},
		{"-- as a flag's value", []string{"--config", "--", "a"}, "--", false, []string{"a"}},
		{"nothing", nil, "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			config := fs.String("config", "", "")
			asJSON := fs.Bool("json", false, "")
			if err := parseFlags(fs, tt.args); err != nil {
				t.Fatal(err)
			}
			if *config != tt.wantConfig || *asJSON != tt.wantJSON || !slices.Equal(fs.Args(), tt.wantArgs) {
				t.Errorf("config %q json %v args %q; want %q %v %q", *config, *asJSON, fs.Args(), tt.wantConfig, tt.wantJSON, tt.wantArgs)
			}
		})
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := parseFlags(fs, []string{"a", "--nope"}); err == nil {
		t.Error("an unknown flag after an argument was accepted")
	}
}
