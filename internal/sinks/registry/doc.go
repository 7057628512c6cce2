// Package registry lists the sink types a config may name. Each type's
// own package declares its settings, its constructor and what it can do
// (sinks.Type); the config reads a sink against its type, the wiring
// builds it and routing learns which transitions it takes, none of them
// knowing any one type. Adding a sink type is a package of its own and
// one line in types.
package registry
