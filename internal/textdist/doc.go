// Package textdist measures how far apart two words are, for the "did you
// mean" hints that config and rules errors give their authors.
package textdist
