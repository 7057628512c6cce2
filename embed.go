// Package wabarouter carries the files of the repository's top folder that
// the binary needs at run time: the example config and the rules it names,
// which serve, check, route and test use when given no --config. It exists
// at the module root because //go:embed cannot reach a parent folder, and
// so that config.example.yaml stays the single source of the default.
package wabarouter

import "embed"

// DefaultConfig is the name of the built-in config in Defaults.
const DefaultConfig = "config.example.yaml"

// Defaults holds config.example.yaml, rules.example.yaml and the rules'
// tests (which the console lists; their payloads are not built in) as they were
// when the binary was built. The config names the rules file relative to
// itself, so its rules globs are matched in Defaults too.
//
//go:embed config.example.yaml rules.example.yaml testdata/rules/example_test.yaml
var Defaults embed.FS
