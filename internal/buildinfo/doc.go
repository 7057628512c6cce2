// Package buildinfo owns what a wabarouter binary knows of its own build:
// its version, the commit it was built from and the Go version that built
// it, read from the build information Go embeds in every binary, with the
// version overridable at link time for release builds.
package buildinfo
