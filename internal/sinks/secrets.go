package sinks

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
)

// redactedText replaces a secret in what a sink reports.
const redactedText = "<redacted>"

// Secrets are the texts a sink keeps out of everything it reports: its
// errors (which reach the log, the store's last_error, `deadletter list`
// and `notify-test`) and its receipts. The zero value hides nothing.
type Secrets struct {
	// texts are the secrets and their encoded forms, longest first, so a
	// secret that contains another is cut out whole.
	texts []string
}

// NewSecrets returns Secrets hiding every non-empty value, also in the
// forms a service echoing the request would show it in: escaped as in
// JSON (with and without "\/"), and escaped for a URL query or path.
func NewSecrets(values ...string) Secrets {
	seen := map[string]bool{}
	var texts []string
	add := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			texts = append(texts, t)
		}
	}
	for _, v := range values {
		if v == "" {
			continue
		}
		add(v)
		for _, escapeHTML := range []bool{true, false} {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(escapeHTML)
			if enc.Encode(v) == nil {
				quoted := strings.TrimSuffix(b.String(), "\n")
				inner := quoted[1 : len(quoted)-1]
				add(inner)
				add(strings.ReplaceAll(inner, "/", `\/`))
			}
		}
		add(url.QueryEscape(v))
		add(url.PathEscape(v))
	}
	sort.SliceStable(texts, func(i, j int) bool { return len(texts[i]) > len(texts[j]) })
	return Secrets{texts: texts}
}

// Redact returns s with every secret replaced by "<redacted>".
func (s Secrets) Redact(text string) string {
	for _, t := range s.texts {
		if strings.Contains(text, t) {
			text = strings.ReplaceAll(text, t, redactedText)
		}
	}
	return text
}

// redactCut is Redact for a text cut short at its end: a secret the cut
// split leaves a beginning of itself at the end, which goes too.
func (s Secrets) redactCut(text string) string {
	text = s.Redact(text)
	for _, t := range s.texts {
		for n := len(t) - 1; n > 0; n-- {
			if strings.HasSuffix(text, t[:n]) {
				text = text[:len(text)-n]
				break
			}
		}
	}
	return text
}

// Error returns err with every secret cut out of its text; the chain
// stays reachable through Unwrap, so its retry classification holds. A
// nil err stays nil.
func (s Secrets) Error(err error) error {
	if err == nil || len(s.texts) == 0 {
		return err
	}
	return redactedError{err: err, secrets: s}
}

// redactedError hides secrets from an error's text.
type redactedError struct {
	err     error
	secrets Secrets
}

func (e redactedError) Error() string { return e.secrets.Redact(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }
