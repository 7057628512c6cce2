package rules

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseInto reads one rules file into s and returns its diagnostics.
func (s *Set) parseInto(file string, data []byte, sinks []string) []Diagnostic {
	p := newFileParser(s, file, data, sinks)
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.syntaxErrors(err)
		return p.diags
	}
	if len(doc.Content) == 0 {
		p.warnAt(1, 1, "", "this rules file has no rules; write a \"rules:\" list, or take the file out of the config's rules")
		return p.diags
	}
	p.parseTop(doc.Content[0])
	return p.diags
}

// syntaxErrors reports a file yaml.v3 cannot read: every mistake lintYAML
// recognises, at its own line, and then the rules that can still be read
// one by one, so that one slip does not hide the rest of the file. A part
// that fails and whose mistake lintYAML does not know gets yaml.v3's own
// message, at the first line of that part at the earliest.
func (p *fileParser) syntaxErrors(err error) {
	findings := lintYAML(p.lines)
	for _, f := range findings {
		p.errorAt(f.line, f.col, "", f.msg)
	}
	found := func(from, to int) bool {
		for _, f := range findings {
			if f.line >= from && f.line <= to {
				return true
			}
		}
		return false
	}
	header, chunks := ruleChunks(p.lines)
	if header < 0 {
		if len(findings) == 0 {
			line, msg := yamlMessage(err)
			p.errorAt(max(line, 1), 1, "", msg)
		}
		return
	}
	failed := false
	for _, c := range chunks {
		doc, err := parseMasked(p.lines, header, c)
		if err != nil {
			failed = true
			if !found(c.from, c.to) {
				line, msg := yamlMessage(err)
				p.errorAt(min(max(line, c.from), c.to), 1, "", msg)
			}
			continue
		}
		if items := maskedItems(doc); items != nil {
			for _, r := range items {
				p.parseRule(r)
			}
		}
	}
	if !failed && len(findings) == 0 {
		// The mistake is outside the rules list (another top-level key).
		line, msg := yamlMessage(err)
		p.errorAt(max(line, 1), 1, "", msg)
	}
}

// YAMLSyntax explains why yaml.v3 refused data (its error err), for a
// YAML file that is not a rules file (a rule test file): each mistake
// lintYAML recognises at its place, or yaml.v3's own message.
func YAMLSyntax(file string, data []byte, err error) []Diagnostic {
	p := newFileParser(nil, file, data, nil)
	findings := lintYAML(p.lines)
	for _, f := range findings {
		p.errorAt(f.line, f.col, "", f.msg)
	}
	if len(findings) == 0 {
		line, msg := yamlMessage(err)
		p.errorAt(max(line, 1), 1, "", msg)
	}
	return p.diags
}

// lineRange is lines from..to of a file, counted from 1.
type lineRange struct{ from, to int }

var rulesHeader = regexp.MustCompile(`^rules[ ]*:[ ]*(#.*)?$`)

// ruleChunks finds the top-level "rules:" line (from 1; -1 when there is
// none) and the lines of each entry of its list: each starts at a "-" as
// indented as the first one and ends before the next or before the next
// top-level key.
func ruleChunks(lines []string) (int, []lineRange) {
	header := -1
	for i, l := range lines {
		if rulesHeader.MatchString(strings.TrimRight(l, "\r")) {
			header = i + 1
			break
		}
	}
	if header < 0 {
		return -1, nil
	}
	var chunks []lineRange
	itemIndent := -1
	for i := header; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r")
		trimmed := strings.TrimLeft(l, " \t")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(l) - len(trimmed)
		isItem := strings.HasPrefix(trimmed, "-")
		if itemIndent < 0 && isItem {
			itemIndent = indent
		}
		switch {
		case isItem && indent == itemIndent:
			chunks = append(chunks, lineRange{from: i + 1, to: i + 1})
		case indent == 0 && !isItem:
			return header, chunks // the next top-level key
		case len(chunks) > 0:
			chunks[len(chunks)-1].to = i + 1
		}
	}
	return header, chunks
}

// parseMasked parses the rules header and one entry's lines alone, every
// other line left blank so that lines and columns are the file's.
func parseMasked(lines []string, header int, c lineRange) (*yaml.Node, error) {
	masked := make([]string, len(lines))
	masked[header-1] = lines[header-1]
	copy(masked[c.from-1:c.to], lines[c.from-1:c.to])
	var doc yaml.Node
	err := yaml.Unmarshal([]byte(strings.Join(masked, "\n")), &doc)
	return &doc, err
}

// maskedItems are the entries of the rules list of a masked document.
func maskedItems(doc *yaml.Node) []*yaml.Node {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode || len(doc.Content[0].Content) < 2 {
		return nil
	}
	list := doc.Content[0].Content[1]
	if list.Kind != yaml.SequenceNode {
		return nil
	}
	return list.Content
}

// yamlWords rewrites yaml.v3's messages for the mistakes lintYAML does
// not recognise into what to look for.
var yamlWords = map[string]string{
	"mapping values are not allowed in this context": "YAML reads a `: ` here as the start of another key; quote the whole value",
	"did not find expected key":                      "YAML cannot read these lines as keys of one mapping; check that the keys of each rule are indented alike and that quoted values are closed",
	"did not find expected '-' indicator":            "YAML expects the next `- ` entry of the list here; check the indentation of this line",
	"could not find expected ':'":                    "YAML expects `key: value` here; check for a missing `:` or a value that goes on to a line of its own",
	"found unexpected end of stream":                 "the file ends inside a quoted value or a list; close every quote and bracket",
	"found character that cannot start any token":    "this value starts with a character YAML does not allow there; quote the whole value",
}

// yamlMessage is the line (from 1; 0 when yaml.v3 names none) and the
// words of a yaml.v3 error.
func yamlMessage(err error) (int, string) {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if words, ok := yamlWords[msg]; ok {
		return line, words + " (YAML says: " + msg + ")"
	}
	return line, "YAML syntax error: " + msg
}
