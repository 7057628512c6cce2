// Package cli owns wabarouter's subcommands: it parses their flags, wires
// the packages of the pipeline together and turns outcomes into exit codes.
// Each command returns an exit code instead of calling os.Exit, so tests can
// run it in-process.
package cli
