package storetest

import (
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// testSilences: a silence is saved and read back whole, listed while it
// is active and not before or after, ended early by ExpiredAt, and kept
// (listed with the zero filter) after it ended, and after a GC.
func testSilences(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := store.Silence{ID: "sil-a", When: `waba_id == "1"`, Author: "ana", Comment: "maintenance",
		StartsAt: t0, EndsAt: t0.Add(2 * time.Hour), CreatedAt: t0}
	b := store.Silence{ID: "sil-b", When: `field == "flows"`, Author: "bo", Comment: "flows migration",
		StartsAt: t0.Add(time.Hour), EndsAt: t0.Add(3 * time.Hour), CreatedAt: t0}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.SaveSilence(ctx, a); err != nil {
			return err
		}
		return tx.SaveSilence(ctx, b)
	}); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.Silence(ctx, "sil-a")
	if err != nil || !found || got != a {
		t.Fatalf("Silence(sil-a) = %+v, %v, %v; want %+v", got, found, err, a)
	}
	if _, found, err := s.Silence(ctx, "nope"); err != nil || found {
		t.Errorf("Silence(nope) found %v, err %v", found, err)
	}
	active := func(at time.Time) []string {
		t.Helper()
		list, err := s.Silences(ctx, store.SilenceFilter{ActiveAt: at})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, sil := range list {
			ids = append(ids, sil.ID)
		}
		return ids
	}
	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{t0.Add(-time.Second), nil},
		{t0, []string{"sil-a"}},
		{t0.Add(90 * time.Minute), []string{"sil-b", "sil-a"}},
		{t0.Add(2 * time.Hour), []string{"sil-b"}},
		{t0.Add(3 * time.Hour), nil},
	} {
		if got := active(tc.at); !equal(got, tc.want) {
			t.Errorf("active at %s: %v, want %v", tc.at.Sub(t0), got, tc.want)
		}
	}
	// Ended early, in a transaction that reads it first.
	if err := s.Update(ctx, func(tx store.Tx) error {
		sil, found, err := tx.GetSilence(ctx, "sil-b")
		if err != nil || !found {
			t.Fatalf("GetSilence(sil-b) found %v, err %v", found, err)
		}
		sil.ExpiredAt = t0.Add(90 * time.Minute)
		return tx.SaveSilence(ctx, sil)
	}); err != nil {
		t.Fatal(err)
	}
	if got := active(t0.Add(100 * time.Minute)); !equal(got, []string{"sil-a"}) {
		t.Errorf("after sil-b was expired, active: %v, want [sil-a]", got)
	}
	if err := s.GC(ctx, t0.Add(1000*time.Hour), time.Hour, time.Hour); err != nil {
		t.Fatal(err)
	}
	all, err := s.Silences(ctx, store.SilenceFilter{})
	if err != nil || len(all) != 2 || all[0].ID != "sil-b" || !all[0].ExpiredAt.Equal(t0.Add(90*time.Minute)) {
		t.Errorf("all silences after a GC: %+v, %v; want both kept, sil-b expired", all, err)
	}
	if sb := all[0]; !sb.Ends().Equal(sb.ExpiredAt) || sb.ActiveAt(t0.Add(100*time.Minute)) {
		t.Errorf("an expired silence ends at %s", sb.Ends())
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
