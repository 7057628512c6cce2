// Package cli owns wabarouter's subcommands: it parses their flags, wires
// the packages of the pipeline together and turns outcomes into exit codes.
// Each command returns an exit code instead of calling os.Exit, so tests can
// run it in-process. Each command's help lives in the command table
// (cli.go), and every command parses its flags with parseFlags, so flags
// may follow the arguments. Without --config, the commands that read a
// config use the copy of config.example.yaml the root package embeds.
package cli
