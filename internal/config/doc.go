// Package config owns wabarouter's YAML configuration file: reading it,
// expanding ${ENV_VAR} references, applying defaults and validating it.
//
// Every problem is reported at once, each as FILE:LINE:COL, because an
// operator fixing a config file by hand should not have to iterate one error
// per restart. The file is walked as a yaml.Node tree rather than decoded
// straight into structs so that unknown keys, type mismatches and failed
// validations can all point at the exact place in the file.
//
// A config is read for a Purpose. Serve needs everything; the commands that
// judge rules (check, route, test) and the one that tries a sink
// (notify-test) need no production secrets, so what only those would
// provide is returned as a Warning, with its place, instead of an error.
//
// A sink's own settings are read against its type as the type's package
// declares it (see internal/sinks/registry): which keys it has, which are
// required, which are secrets, paths or lists. The config knows no sink
// type by itself.
//
// Secrets are typed as Secret so that printing, logging or marshalling a
// Config can never leak them; code that needs the value must call Reveal,
// which makes each use visible in review.
package config
