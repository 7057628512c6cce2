// Package e2e holds the tests that build the real wabarouter binary, start
// it as a process and talk to it over HTTP, as Meta and an operator would.
package e2e
