package accounts

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// csvColumns are the columns a CSV directory may have; waba_id is needed.
var csvColumns = []string{"waba_id", "name", "team", "tags", "phones"}

// Problem is one mistake in a directory file, at its line (and column
// where known).
type Problem struct {
	Line, Column int
	Msg          string
}

// ParseCSV reads the CSV form of the directory: a header row naming the
// columns waba_id, name, team, tags and phones (any order, only waba_id
// needed), then one row per account. Tags are separated by ";", and
// phones are "number=label" pairs separated by ";", as in
//
//	waba_id,name,team,tags,phones
//	102290129340398,Acme Retail EU,emea-oncall,eu;retail,16505551111=support line
//
// Every problem is returned, each with its line.
func ParseCSV(data []byte) ([]Entry, []Problem) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = false
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, []Problem{csvProblem(err)}
	}
	var probs []Problem
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(csvColumns, name) {
			probs = append(probs, Problem{Line: 1, Column: i + 1, Msg: fmt.Sprintf("unknown column %q; the columns are %s", h, strings.Join(csvColumns, ", "))})
			continue
		}
		if _, dup := col[name]; dup {
			probs = append(probs, Problem{Line: 1, Column: i + 1, Msg: fmt.Sprintf("column %q appears twice", name)})
			continue
		}
		col[name] = i
	}
	if _, ok := col["waba_id"]; !ok {
		return nil, append(probs, Problem{Line: 1, Msg: "the header row has no waba_id column; it must name the columns, for example: waba_id,name,team,tags,phones"})
	}
	var entries []Entry
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			probs = append(probs, csvProblem(err))
			continue
		}
		line, _ := r.FieldPos(0)
		get := func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		e := Entry{WabaID: get("waba_id"), Name: get("name"), Team: get("team"), Line: line}
		for _, t := range strings.Split(get("tags"), ";") {
			if t = strings.TrimSpace(t); t != "" {
				e.Tags = append(e.Tags, t)
			}
		}
		for _, pair := range strings.Split(get("phones"), ";") {
			if pair = strings.TrimSpace(pair); pair == "" {
				continue
			}
			number, label, ok := strings.Cut(pair, "=")
			if !ok {
				probs = append(probs, Problem{Line: line, Column: col["phones"] + 1, Msg: fmt.Sprintf("phone %q must be number=label, for example 16505551111=support line", pair)})
				continue
			}
			if e.Phones == nil {
				e.Phones = map[string]string{}
			}
			e.Phones[strings.TrimSpace(number)] = strings.TrimSpace(label)
		}
		entries = append(entries, e)
	}
	return entries, probs
}

func csvProblem(err error) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Problem{Line: pe.Line, Column: pe.Column, Msg: pe.Err.Error()}
	}
	return Problem{Msg: err.Error()}
}

// Check returns what is wrong with entries as a directory: a missing or
// malformed WABA id, a WABA id listed twice, a missing name, a phone
// number without digits. Each problem names its entry's line.
func Check(entries []Entry) []Problem {
	var probs []Problem
	first := map[string]int{}
	for _, e := range entries {
		switch {
		case e.WabaID == "":
			probs = append(probs, Problem{Line: e.Line, Msg: "account has no waba_id; every entry needs the WABA id Meta sends, for example \"102290129340398\""})
		case PhoneKey(e.WabaID) != e.WabaID:
			probs = append(probs, Problem{Line: e.Line, Msg: fmt.Sprintf("waba_id %q must be digits only, as Meta sends it", e.WabaID)})
		default:
			if at, dup := first[e.WabaID]; dup {
				probs = append(probs, Problem{Line: e.Line, Msg: fmt.Sprintf("waba_id %s is listed twice (first at line %d)", e.WabaID, at)})
			} else {
				first[e.WabaID] = e.Line
			}
		}
		if e.Name == "" && e.WabaID != "" {
			probs = append(probs, Problem{Line: e.Line, Msg: fmt.Sprintf("account %s has no name; the name is what every message shows instead of the id", e.WabaID)})
		} else if e.Name == "" {
			probs = append(probs, Problem{Line: e.Line, Msg: "account has no name; the name is what every message shows instead of the id"})
		}
		for number := range e.Phones {
			if PhoneKey(number) == "" {
				probs = append(probs, Problem{Line: e.Line, Msg: fmt.Sprintf("phone %q of account %s has no digits", number, e.WabaID)})
			}
		}
	}
	slices.SortStableFunc(probs, func(a, b Problem) int { return a.Line - b.Line })
	return probs
}

// Normalize keys every entry's phones by PhoneKey.
func Normalize(entries []Entry) {
	for i := range entries {
		if len(entries[i].Phones) == 0 {
			continue
		}
		phones := make(map[string]string, len(entries[i].Phones))
		for number, label := range entries[i].Phones {
			phones[PhoneKey(number)] = label
		}
		entries[i].Phones = phones
	}
}
