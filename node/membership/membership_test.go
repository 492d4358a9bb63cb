package membership

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/ring"
)

func TestFiveNodesConverge(t *testing.T) {
	begin := time.Now()
	ms := cluster(t, "c", 5, nil)
	d := waitRing(t, ms, ids(ms), "5 nodes to agree on one ring")
	t.Logf("5 nodes: in every ring %v after the last Start, %v after the first", d, time.Since(begin))
	// A loaded machine may declare a member dead for a moment (it refutes
	// and comes back), so the listing is polled like the ring.
	var bad string
	waitForState(t, converge, "every member to list 5 active members", func() bool {
		for _, m := range ms {
			members := m.Members()
			if len(members) != 5 {
				bad = fmt.Sprintf("%s lists %d members", m.name, len(members))
				return false
			}
			for i, mb := range members {
				if mb.State != StateActive || mb.Meta.PageSize == 0 || mb.Addr == "" {
					bad = fmt.Sprintf("%s: member %+v", m.name, mb)
					return false
				}
				if i > 0 && members[i-1].ID >= mb.ID {
					t.Fatalf("%s: Members not sorted by ID", m.name)
				}
			}
		}
		return true
	}, func() string { return ": " + bad })
}

func TestCrashAndRestart(t *testing.T) {
	rng := testseed.Rand(t)
	ms := cluster(t, "k", 4, nil)
	all := ids(ms)
	waitRing(t, ms, all, "4 nodes to converge")

	// Crash a random non-seed node (Shutdown without Leave).
	vi := 1 + rng.IntN(len(ms)-1)
	victim := ms[vi]
	cfg := victim.cfg
	_, portStr, _ := net.SplitHostPort(victim.LocalAddr())
	port, _ := strconv.Atoi(portStr)
	_ = victim.Shutdown()
	rest := slices.Delete(slices.Clone(ms), vi, vi+1)
	d := waitRing(t, rest, ids(rest), "the crashed node to leave every ring")
	t.Logf("crash of %s: out of every ring after %v", victim.name, d)
	for _, m := range rest {
		// Out of the ring, still listed for operators.
		if s := stateOf(m, victim.name); s != StateDead {
			t.Fatalf("%s lists the crashed node as %q, want dead", m.name, s)
		}
	}

	// Restart under the same name at the same port.
	cfg.BindPort, cfg.AdvertisePort = port, 0
	cfg.Join = []string{ms[0].LocalAddr()}
	again := start(t, cfg)
	now := append(slices.Clone(rest), again)
	d = waitRing(t, now, all, "the node restarted at the same port to rejoin every ring")
	t.Logf("restart at the same port: in every ring after %v", d)

	// Crash it again and restart at a new port.
	_ = again.Shutdown()
	waitRing(t, rest, ids(rest), "the crashed node to leave every ring again")
	cfg.BindPort = 0
	again = start(t, cfg)
	if again.LocalAddr() == victim.LocalAddr() {
		t.Fatalf("restart did not get a new port")
	}
	now = append(slices.Clone(rest), again)
	d = waitRing(t, now, all, "the node restarted at a new port to rejoin every ring")
	t.Logf("restart at a new port: in every ring after %v", d)

	// Crash and restart at once at a new port (a pod rescheduled with a new
	// IP): the others still hold the old address as alive, refuse the new
	// one as a conflict until the old one is dead and DeadNodeReclaimTime
	// has passed, then take it at the next alive message or push/pull.
	_ = again.Shutdown()
	again = start(t, cfg)
	now = append(slices.Clone(rest), again)
	d = waitFor(t, converge, "the new address everywhere", func() bool {
		for _, m := range now {
			if mb, _ := m.Member(cfg.Name); mb.Addr != again.LocalAddr() || mb.State != StateActive {
				return false
			}
		}
		return true
	})
	waitRing(t, now, all, "the node restarted at once at a new port to be in every ring")
	t.Logf("immediate restart at a new port: in every ring with its new address after %v", d)
}

func TestWrongGossipKey(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	ms := cluster(t, "e", 2, func(c *Config) { c.SecretKey = key })
	waitRing(t, ms, ids(ms), "encrypted pair to converge")

	for _, tc := range []struct {
		name string
		key  []byte
	}{{"other key", bytes.Repeat([]byte{2}, 32)}, {"no key", nil}} {
		cfg := testConfig(t, "intruder")
		cfg.SecretKey = tc.key
		cfg.Join = []string{ms[0].LocalAddr()}
		// Refused whatever JoinRequired says: it never starts alone.
		for _, required := range []bool{true, false} {
			cfg.JoinRequired = required
			if m, err := Start(cfg); !errors.Is(err, ErrJoinRefused) {
				if m != nil {
					_ = m.Shutdown()
				}
				t.Fatalf("%s (required %v): Start = %v, want ErrJoinRefused", tc.name, required, err)
			}
		}
	}
	for _, m := range ms {
		if _, ok := m.Member("intruder"); ok {
			t.Fatalf("%s knows the node with the wrong key", m.name)
		}
	}
	if !sameRing(ms, ids(ms)) {
		t.Fatalf("rings changed:%s", describe(ms))
	}
}

func TestIncompatibleRefused(t *testing.T) {
	ms := cluster(t, "p", 2, nil)
	waitRing(t, ms, ids(ms), "pair to converge")
	def, _ := ring.New(ring.Config{}, nil)

	for _, tc := range []struct {
		name     string
		mut      func(*Config)
		required bool
	}{
		{"page size", func(c *Config) { c.Ring.PageSize = 2 * def.Config().PageSize }, false},
		{"partitions", func(c *Config) { c.Ring.Partitions = def.Config().Partitions + 2 }, true},
	} {
		before := ms[0].Stats().Refused
		cfg := testConfig(t, "odd")
		cfg.Join = []string{ms[0].LocalAddr()}
		cfg.JoinRequired = tc.required
		tc.mut(&cfg)
		m, err := Start(cfg)
		if !errors.Is(err, ErrIncompatible) {
			if m != nil {
				_ = m.Shutdown()
			}
			t.Fatalf("%s: Start = %v, want ErrIncompatible", tc.name, err)
		}
		t.Logf("%s: %v", tc.name, err)
		// The contacted member merges after it has sent its state, so
		// its refusal may come after the joiner's.
		waitFor(t, converge, tc.name+": the contacted member to refuse the joiner too",
			func() bool { return ms[0].Stats().Refused > before })
	}
	for _, m := range ms {
		if _, ok := m.Member("odd"); ok {
			t.Fatalf("%s lists the incompatible node", m.name)
		}
	}
	if !sameRing(ms, ids(ms)) {
		t.Fatalf("rings changed:%s", describe(ms))
	}
}

func TestJoinNobody(t *testing.T) {
	// A port nobody listens on: bind, note, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()

	cfg := testConfig(t, "first")
	cfg.Join = []string{dead}
	cfg.JoinAttempts = 2
	cfg.JoinRetryInterval = time.Millisecond
	cfg.TCPTimeout = 500 * time.Millisecond
	m := start(t, cfg)
	if got := m.Ring().Members(); !slices.Equal(got, []string{"first"}) {
		t.Fatalf("first node's ring %v", got)
	}
	_ = m.Shutdown()

	cfg.JoinRequired = true
	if m, err := Start(cfg); !errors.Is(err, ErrJoinFailed) {
		if m != nil {
			_ = m.Shutdown()
		}
		t.Fatalf("JoinRequired with nobody to join: %v, want ErrJoinFailed", err)
	}
}

// burstConfig is gentler than testConfig: 21 members (under -race, on a
// shared 2-core machine) with 100ms probe timeouts suspect each other
// falsely and flap; this test is about joins, not failure detection. A
// smaller partition count keeps the 21 x rebuilds cheap. Debounce is 1s,
// not the LAN default, because on a loaded machine (seen: load 8 on 2 cores)
// 20 "simultaneous" Starts spread over 1-2s, and the members that started
// first learn the others one by one over that time.
func burstConfig(t *testing.T, name string) Config {
	c := testConfig(t, name)
	c.Debounce = time.Second
	// memberlist's LAN timers: 21 members gossiping every 30ms under -race
	// starve a shared CPU into false deaths.
	c.ProbeInterval = time.Second
	c.ProbeTimeout = 500 * time.Millisecond
	c.SuspicionMult = 5
	c.GossipInterval = 200 * time.Millisecond
	c.PushPullInterval = time.Second
	c.TCPTimeout = 5 * time.Second
	c.Ring.Partitions = 1021
	return c
}

func TestBurstOfJoinsRebuildsFew(t *testing.T) {
	const n = 20
	seed := start(t, burstConfig(t, "b00"))
	ms := make([]*Membership, n)
	var wg sync.WaitGroup
	var failed atomic.Value
	burst := time.Now()
	for i := range n {
		wg.Go(func() {
			cfg := burstConfig(t, fmt.Sprintf("b%02d", i+1))
			cfg.Join = []string{seed.LocalAddr()}
			cfg.JoinRequired = true
			m, err := Start(cfg)
			if err != nil {
				failed.Store(err)
				return
			}
			ms[i] = m
		})
	}
	wg.Wait()
	t.Logf("20 concurrent Starts returned after %v; seed ring has %d members", time.Since(burst), len(seed.Ring().Members()))
	for _, m := range ms {
		if m != nil {
			t.Cleanup(func() { _ = m.Shutdown() })
		}
	}
	if err := failed.Load(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	all := append([]*Membership{seed}, ms...)
	d := waitRing(t, all, ids(all), "21 nodes to converge")
	t.Cleanup(func() {
		// Shut down in parallel: 21 sequential shutdowns under -race are slow.
		var wg sync.WaitGroup
		for _, m := range all {
			wg.Go(func() { _ = m.Shutdown() })
		}
		wg.Wait()
	})
	t.Logf("21 nodes: one ring %v after the burst", d)
	var worst uint64
	var total uint64
	for _, m := range all {
		s := m.Stats()
		total += s.Rebuilds
		worst = max(worst, s.Rebuilds)
		// Each member sees n+1 joins (itself included). Anything beyond is a
		// member falsely declared dead and back (a starved CPU), a real
		// change that may cost a rebuild of its own, not one of the burst.
		flaps := int(s.Events) - (n + 1)
		if flaps > 0 {
			t.Logf("%s saw %d events beyond the %d joins (false deaths under load)", m.name, flaps, n+1)
		}
		if limit := 5 + max(flaps, 0); s.Rebuilds > uint64(limit) {
			t.Errorf("%s rebuilt its ring %d times for one burst of %d joins (events %d, limit %d)", m.name, s.Rebuilds, n, s.Events, limit)
		}
	}
	t.Logf("rebuilds per node: max %d, mean %.1f (events on seed: %d)", worst, float64(total)/float64(len(all)), seed.Stats().Events)
}

func TestWatchDeliversNewest(t *testing.T) {
	ms := cluster(t, "w", 1, nil)
	a := ms[0]
	ch, cancel := a.Watch()
	first := <-ch
	if first != a.Ring() {
		t.Fatalf("Watch did not start with the current ring")
	}
	// Let several rings go by without reading.
	for i := 1; i <= 3; i++ {
		cfg := testConfig(t, fmt.Sprintf("w%d", i))
		cfg.Join = []string{a.LocalAddr()}
		ms = append(ms, start(t, cfg))
		waitRing(t, ms, ids(ms), "cluster to grow")
	}
	if c := a.Stats().RingChanges; c < 3 {
		t.Fatalf("only %d ring changes", c)
	}
	select {
	case r := <-ch:
		if r != a.Ring() {
			t.Fatalf("Watch gave ring %s %v, current is %s", r.VersionString(), r.Members(), a.Ring().VersionString())
		}
	default:
		t.Fatal("no ring pending after changes")
	}
	select {
	case r := <-ch:
		t.Fatalf("second ring pending: %v", r.Members())
	default:
	}
	// A cancelled or shut down watch is closed.
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("channel open after cancel")
	}
	cancel()
	ch2, _ := a.Watch()
	<-ch2
	_ = a.Shutdown()
	if _, ok := <-ch2; ok {
		t.Fatal("channel open after Shutdown")
	}
	ch3, cancel3 := a.Watch()
	if _, ok := <-ch3; ok {
		t.Fatal("Watch after Shutdown gave a ring")
	}
	cancel3()
}

func TestPruneGoneBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	m := &Membership{cfg: Config{KeepGone: time.Minute, MaxGone: 2}, nodes: map[string]*entry{}}
	add := func(id string, gone bool, ago time.Duration) {
		m.nodes[id] = &entry{Member: Member{ID: id, State: StateDead}, gone: gone, goneAt: now.Add(-ago)}
	}
	add("alive", false, 0)
	add("expired", true, 2*time.Minute)
	add("old", true, 50*time.Second)
	add("mid", true, 30*time.Second)
	add("new", true, time.Second)
	m.pruneLocked(now)
	var got []string
	for id := range m.nodes {
		got = append(got, id)
	}
	slices.Sort(got)
	if want := []string{"alive", "mid", "new"}; !slices.Equal(got, want) {
		t.Fatalf("after prune: %v, want %v", got, want)
	}
}
