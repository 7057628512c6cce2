package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wabarouter/wabarouter/internal/store"
)

// leaderTTL is the leader lease's length in the tests.
const leaderTTL = 5 * time.Second

// testLeaderOneAtATime: of two handles one holds the lease; the holder
// renews it, the other is refused until it runs out and then takes it
// over, and the old holder is refused in turn. Other leases are apart.
func testLeaderOneAtATime(t *testing.T, a, b store.Store) {
	steps := []struct {
		name string
		s    store.Store
		who  string
		at   time.Duration
		want bool
		// giveUp asks with a ttl of zero.
		giveUp bool
	}{
		{"a takes the free lease", a, "replica-a", 0, true, false},
		{"b is refused while a holds it", b, "replica-b", time.Second, false, false},
		{"a renews", a, "replica-a", 4 * time.Second, true, false},
		{"b is refused within a's renewed ttl", b, "replica-b", 8 * time.Second, false, false},
		{"a renews again", a, "replica-a", 8500 * time.Millisecond, true, false},
		{"b takes over once a's lease ran out", b, "replica-b", 14 * time.Second, true, false},
		{"a, back, is refused", a, "replica-a", 15 * time.Second, false, false},
		{"b renews", b, "replica-b", 16 * time.Second, true, false},
		{"b gives it up", b, "replica-b", 17 * time.Second, true, true},
		{"a takes it at once", a, "replica-a", 17 * time.Second, true, false},
	}
	for _, st := range steps {
		ttl := leaderTTL
		if st.giveUp {
			ttl = 0
		}
		held, err := st.s.AcquireLeader(t.Context(), "maintenance", st.who, t0.Add(st.at), ttl)
		if err != nil {
			t.Fatalf("%s: AcquireLeader: %v", st.name, err)
		}
		if held != st.want {
			t.Fatalf("%s: AcquireLeader at t0+%s = %v, want %v", st.name, st.at, held, st.want)
		}
	}
	other, err := a.AcquireLeader(t.Context(), "other", "replica-a", t0.Add(16*time.Second), leaderTTL)
	if err != nil || !other {
		t.Fatalf("another lease name, free = %v, %v; want held", other, err)
	}
}

// testLeaderRace: many attempts from both handles at the same moment on
// a free lease make exactly one leader.
func testLeaderRace(t *testing.T, a, b store.Store) {
	for round := range 10 {
		now := t0.Add(time.Duration(round) * time.Minute)
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := map[string]int{}
		for i := range 8 {
			h, who := a, "replica-a"
			if i%2 == 1 {
				h, who = b, "replica-b"
			}
			who = who + string(rune('0'+i))
			wg.Go(func() {
				<-start
				held, err := h.AcquireLeader(context.Background(), "maintenance", who, now, leaderTTL)
				if err != nil {
					t.Errorf("AcquireLeader(%s): %v", who, err)
					return
				}
				if held {
					mu.Lock()
					winners[who]++
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: leaders %v, want exactly one", round, winners)
		}
	}
}

// testReplicasSeeEachOther: each handle's entry is seen by the other
// while it is recent, with the rules it last gave; an entry not renewed
// within the window is left out, and one not renewed for a day is gone.
func testReplicasSeeEachOther(t *testing.T, a, b store.Store) {
	const within = 30 * time.Second
	see := func(s store.Store, who, rules string, at time.Duration, window time.Duration) string {
		t.Helper()
		rs, err := s.SeeReplica(t.Context(), who, rules, t0.Add(at), window)
		if err != nil {
			t.Fatalf("SeeReplica(%s, %s): %v", who, rules, err)
		}
		var out []string
		for _, r := range rs {
			if r.SeenAt.IsZero() {
				t.Errorf("%s: seen at the zero time", r.Owner)
			}
			out = append(out, r.Owner+"="+r.Rules)
		}
		return strings.Join(out, " ")
	}
	steps := []struct {
		name   string
		s      store.Store
		who    string
		rules  string
		at     time.Duration
		window time.Duration
		want   string
	}{
		{"a alone", a, "replica-a", "sum-1", 0, within, "replica-a=sum-1"},
		{"b sees a and itself", b, "replica-b", "sum-2", time.Second, within, "replica-a=sum-1 replica-b=sum-2"},
		{"a reloads and sees b's", a, "replica-a", "sum-2", 20 * time.Second, within, "replica-a=sum-2 replica-b=sum-2"},
		{"b's entry is too old", a, "replica-a", "sum-2", 40 * time.Second, within, "replica-a=sum-2"},
		{"but still there", a, "replica-a", "sum-2", 50 * time.Second, time.Hour, "replica-a=sum-2 replica-b=sum-2"},
		{"and gone after a day", a, "replica-a", "sum-2", 25 * time.Hour, 48 * time.Hour, "replica-a=sum-2"},
	}
	for _, st := range steps {
		if got := see(st.s, st.who, st.rules, st.at, st.window); got != st.want {
			t.Errorf("%s: replicas %q, want %q", st.name, got, st.want)
		}
	}
}
