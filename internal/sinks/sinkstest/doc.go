// Package sinkstest holds helpers shared by the sinks' tests: building
// sample notifications and asserting that no secret leaks into errors.
// Like the sinks, it knows nothing of rules.
package sinkstest
