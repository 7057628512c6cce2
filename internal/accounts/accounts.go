package accounts

import (
	"slices"
	"strings"

	"github.com/wabarouter/wabarouter/internal/event"
)

// Entry is one account of the directory.
type Entry struct {
	WabaID string
	Name   string
	Team   string
	Tags   []string
	// Phones maps a phone number, digits only, to its label.
	Phones map[string]string
	// Line is where the entry was written, for messages; 0 if unknown.
	Line int
}

// Directory is the accounts directory, read-only once built. The nil
// Directory lists no account.
type Directory struct {
	byID map[string]*Entry
	ids  []string
}

// New builds a directory of entries; the caller has checked that no WABA
// id appears twice (a later entry would replace an earlier one).
func New(entries []Entry) *Directory {
	d := &Directory{byID: make(map[string]*Entry, len(entries))}
	for i := range entries {
		e := entries[i]
		if _, dup := d.byID[e.WabaID]; !dup {
			d.ids = append(d.ids, e.WabaID)
		}
		d.byID[e.WabaID] = &e
	}
	slices.Sort(d.ids)
	return d
}

// Len is how many accounts the directory lists.
func (d *Directory) Len() int {
	if d == nil {
		return 0
	}
	return len(d.byID)
}

// Has reports whether the directory lists wabaID.
func (d *Directory) Has(wabaID string) bool {
	if d == nil {
		return false
	}
	_, ok := d.byID[wabaID]
	return ok
}

// IDs lists the directory's WABA ids, sorted.
func (d *Directory) IDs() []string {
	if d == nil {
		return nil
	}
	return slices.Clone(d.ids)
}

// Lookup is what the directory says of an event's account and phone
// number; the zero Account when it does not list the account.
func (d *Directory) Lookup(wabaID, phone string) event.Account {
	if d == nil {
		return event.Account{}
	}
	e, ok := d.byID[wabaID]
	if !ok {
		return event.Account{}
	}
	acc := event.Account{Name: e.Name, Team: e.Team, Tags: e.Tags}
	if phone != "" {
		acc.PhoneLabel = e.Phones[PhoneKey(phone)]
	}
	return acc
}

// PhoneKey is a phone number as the directory keys it: its digits only, so
// "+1 650-555-1111" and "16505551111" (as Meta sends it) are one number.
func PhoneKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
