// Package arch holds no code, only the import-boundary test that keeps the
// data flow one way: rules know no HTTP, sinks no rules, the store nothing
// internal, and so on (see the rules in arch_test.go). The test reads the
// module's package graph with `go list -json` and fails naming the
// package, the forbidden dependency and the path to it.
package arch
