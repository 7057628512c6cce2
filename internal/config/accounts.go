package config

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/wabarouter/wabarouter/internal/accounts"
)

// accounts reads the accounts directory: a list written inline, or the
// path of a YAML or CSV file holding the same list.
func (p *parser) accounts(v *yaml.Node, cfg *Config) {
	switch {
	case isNull(v):
		return
	case v.Kind == yaml.ScalarNode:
		path, ok := p.str(v, "accounts")
		if !ok {
			return
		}
		if path == "" {
			p.errorf(v, "accounts must be a list of accounts or the path of a YAML or CSV file holding one")
			return
		}
		cfg.AccountsFile = p.relative(path)
		entries, ok := p.accountsFile(v, cfg.AccountsFile, cfg.FS)
		if ok {
			cfg.Accounts = accounts.New(entries)
		}
	case v.Kind == yaml.SequenceNode:
		entries, ok := p.accountList(v)
		if ok {
			cfg.Accounts = accounts.New(entries)
		}
	default:
		p.errorf(v, "accounts must be a list of accounts or the path of a YAML or CSV file holding one, got %s", kindName(v))
	}
}

// accountsFile reads the directory file at path; its problems are located
// in that file, not in the config.
func (p *parser) accountsFile(at *yaml.Node, path string, fsys fs.FS) ([]accounts.Entry, bool) {
	var data []byte
	var err error
	if fsys != nil {
		data, err = fs.ReadFile(fsys, filepath.ToSlash(path))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		p.errorf(at, "reading the accounts file: %v", err)
		return nil, false
	}
	sub := &parser{path: path, opts: p.opts}
	var entries []accounts.Entry
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		var probs []accounts.Problem
		entries, probs = accounts.ParseCSV(data)
		for _, pr := range probs {
			sub.errs = append(sub.errs, &Error{File: path, Line: pr.Line, Column: pr.Column, Msg: pr.Msg})
		}
		sub.checkAccounts(entries, nil)
	case ".yaml", ".yml":
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			sub.errs = append(sub.errs, syntaxError(path, err))
			break
		}
		list := &yaml.Node{Kind: yaml.SequenceNode, Line: 1, Column: 1}
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			list = deref(root.Content[0])
		}
		if list.Kind != yaml.SequenceNode {
			sub.errorf(list, "an accounts file must hold a list of accounts (- waba_id: ...), got %s", kindName(list))
			break
		}
		entries, _ = sub.accountList(list)
	default:
		p.errorf(at, "accounts file %s must end in .yaml, .yml or .csv", path)
		return nil, false
	}
	p.errs = append(p.errs, sub.errs...)
	p.warnings = append(p.warnings, sub.warnings...)
	return entries, len(sub.errs) == 0
}

// accountList reads a YAML list of accounts, reporting every mistake at
// its place.
func (p *parser) accountList(v *yaml.Node) ([]accounts.Entry, bool) {
	before := len(p.errs)
	entries := make([]accounts.Entry, 0, len(v.Content))
	nodes := map[int]*yaml.Node{}
	for i, item := range v.Content {
		item = deref(item)
		where := fmt.Sprintf("accounts[%d]", i)
		if item.Kind != yaml.MappingNode {
			p.errorf(item, "%s must be a mapping with waba_id and name, got %s", where, kindName(item))
			continue
		}
		e := accounts.Entry{Line: item.Line}
		nodes[item.Line] = item
		p.fields(item, where, map[string]func(k, v *yaml.Node){
			"waba_id": func(_, v *yaml.Node) { e.WabaID, _ = p.str(v, where+".waba_id") },
			"name":    func(_, v *yaml.Node) { e.Name, _ = p.str(v, where+".name") },
			"team":    func(_, v *yaml.Node) { e.Team, _ = p.str(v, where+".team") },
			"tags": func(_, v *yaml.Node) {
				if v.Kind != yaml.SequenceNode {
					p.errorf(v, "%s.tags must be a list, for example [eu, retail], got %s", where, kindName(v))
					return
				}
				for j, t := range v.Content {
					if s, ok := p.str(t, fmt.Sprintf("%s.tags[%d]", where, j)); ok && s != "" {
						e.Tags = append(e.Tags, s)
					}
				}
			},
			"phones": func(_, v *yaml.Node) {
				if v.Kind != yaml.MappingNode {
					p.errorf(v, "%s.phones must map each number to its label, for example \"16505551111\": support line, got %s", where, kindName(v))
					return
				}
				e.Phones = map[string]string{}
				for j := 0; j+1 < len(v.Content); j += 2 {
					number, _ := p.str(v.Content[j], where+".phones")
					label, _ := p.str(v.Content[j+1], where+".phones."+number)
					e.Phones[number] = label
				}
			},
		})
		entries = append(entries, e)
	}
	p.checkAccounts(entries, nodes)
	return entries, len(p.errs) == before
}

// checkAccounts reports what accounts.Check finds, at each entry's place.
func (p *parser) checkAccounts(entries []accounts.Entry, nodes map[int]*yaml.Node) {
	for _, pr := range accounts.Check(entries) {
		col := 0
		if n := nodes[pr.Line]; n != nil {
			col = n.Column
		}
		p.errs = append(p.errs, &Error{File: p.path, Line: pr.Line, Column: col, Msg: pr.Msg})
	}
	accounts.Normalize(entries)
}
