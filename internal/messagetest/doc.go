// Package messagetest makes the sample notifications that the sinks' tests
// and the docs' pictures render: every fixture in testdata/webhooks routed
// by the real router, with the accounts directory testdata/accounts.yaml
// and the default texts, as serve would queue them for one sink.
//
// It is for tests and tools only: it stands on the router, the rules and
// the store, which no sink may import, so a sink's test imports it rather
// than the sink's own code.
package messagetest
