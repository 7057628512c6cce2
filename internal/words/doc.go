// Package words owns how the router says things to people, the same way
// in every title, body and sink: a phone number's format, an enum's human
// name, a time in the past or the future tense.
//
// It knows nothing of rules, routing, sinks or the store; the rules'
// templates and the sinks' renderers both call it, so a number or an enum
// reads the same in a Slack header as in an e-mail subject.
package words
