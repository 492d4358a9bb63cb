package membership

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/ring"
)

// testSeed seeds every random choice of the tests; set RINGCACHE_TEST_SEED
// to replay a failure.
func testSeed(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("RINGCACHE_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("RINGCACHE_TEST_SEED: %v", err)
		}
		seed = v
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("random seed: RINGCACHE_TEST_SEED=%d", seed)
		}
	})
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// testWriter sends log lines to t.Log until the test ends; memberlist's
// goroutines may still log after Shutdown, and t.Log would then panic.
type testWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	level := slog.LevelWarn
	if os.Getenv("RINGCACHE_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// testConfig is a member on loopback with timers turned down so that a
// cluster converges and detects failures in well under a second, while
// staying gentle on a shared 2-core machine.
func testConfig(t *testing.T, name string) Config {
	return Config{
		Name:                name,
		BindAddr:            "127.0.0.1",
		JoinAttempts:        1,
		Logger:              testLogger(t),
		Debounce:            30 * time.Millisecond,
		DeadNodeReclaimTime: 100 * time.Millisecond,
		ProbeInterval:       200 * time.Millisecond,
		ProbeTimeout:        200 * time.Millisecond,
		GossipInterval:      30 * time.Millisecond,
		SuspicionMult:       4,
		PushPullInterval:    time.Second,
		TCPTimeout:          2 * time.Second,
		GossipToTheDeadTime: 2 * time.Second,
	}
}

func start(t *testing.T, cfg Config) *Membership {
	t.Helper()
	m, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start(%s): %v", cfg.Name, err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// cluster starts n members; all but the first join the first.
func cluster(t *testing.T, prefix string, n int, mut func(*Config)) []*Membership {
	t.Helper()
	var ms []*Membership
	for i := range n {
		cfg := testConfig(t, fmt.Sprintf("%s%d", prefix, i))
		if i > 0 {
			cfg.Join = []string{ms[0].LocalAddr()}
			cfg.JoinRequired = true
		}
		if mut != nil {
			mut(&cfg)
		}
		ms = append(ms, start(t, cfg))
	}
	return ms
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	return waitForState(t, timeout, what, cond, func() string { return "" })
}

// waitForState is waitFor that describes the state it saw on a timeout.
func waitForState(t *testing.T, timeout time.Duration, what string, cond func() bool, state func() string) time.Duration {
	t.Helper()
	begin := time.Now()
	deadline := begin.Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s%s", timeout, what, state())
		}
		<-tick.C
	}
	return time.Since(begin)
}

func ids(ms []*Membership) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.name)
	}
	slices.Sort(out)
	return out
}

// sameRing reports whether every member's ring holds exactly want, with one
// version.
func sameRing(ms []*Membership, want []string) bool {
	want = slices.Sorted(slices.Values(want))
	var v uint64
	for i, m := range ms {
		r := m.Ring()
		if !slices.Equal(r.Members(), want) {
			return false
		}
		if i == 0 {
			v = r.Version()
		} else if r.Version() != v {
			return false
		}
	}
	return true
}

func describe(ms []*Membership) string {
	var b strings.Builder
	for _, m := range ms {
		r := m.Ring()
		fmt.Fprintf(&b, "\n  %s: ring %s %v", m.name, r.VersionString(), r.Members())
	}
	return b.String()
}

const converge = 20 * time.Second // generous: the suite shares 2 cores

func waitRing(t *testing.T, ms []*Membership, want []string, what string) time.Duration {
	t.Helper()
	return waitForState(t, converge, what, func() bool { return sameRing(ms, want) },
		func() string { return fmt.Sprintf("; want %v, have:%s", want, describe(ms)) })
}

func stateOf(m *Membership, id string) State {
	mb, ok := m.Member(id)
	if !ok {
		return ""
	}
	return mb.State
}

func TestMetaEncoding(t *testing.T) {
	m := Meta{
		GRPCAddr: "10.0.0.1:7100", HTTPAddr: "10.0.0.1:7180", S3Addr: "10.0.0.1:9000",
		Zone: "eu-west-1a", Capacity: 10 << 40, PageSize: 1 << 20,
		RingVersionParams: 0x1234567890abcdef, State: StateActive, Build: "v0.1.0-abcdef",
	}
	b, err := EncodeMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("typical meta: %d bytes of %d", len(b), MetaMaxSize)
	if len(b) > 128 {
		t.Errorf("typical meta is %d bytes; the short keys should keep it under 128", len(b))
	}
	got, err := DecodeMeta(b)
	if err != nil || got != m {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, m)
	}
	m.Zone = strings.Repeat("z", MetaMaxSize)
	if _, err := EncodeMeta(m); !errors.Is(err, ErrMetaTooLarge) {
		t.Fatalf("oversized meta: %v, want ErrMetaTooLarge", err)
	}
	if _, err := DecodeMeta(nil); !errors.Is(err, ErrBadMeta) {
		t.Fatalf("empty meta: %v, want ErrBadMeta", err)
	}
	if _, err := DecodeMeta([]byte{0xc1}); !errors.Is(err, ErrBadMeta) {
		t.Fatalf("garbage meta: %v, want ErrBadMeta", err)
	}
}

func TestRingParams(t *testing.T) {
	a, err := RingParams(ring.Config{})
	if err != nil {
		t.Fatal(err)
	}
	def, err := ring.New(ring.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RingParams(def.Config())
	if err != nil || a != b {
		t.Fatalf("zero config and explicit defaults hash differently: %x vs %x (%v)", a, b, err)
	}
	c, err := RingParams(ring.Config{PageSize: 2 * def.Config().PageSize})
	if err != nil || c == a {
		t.Fatalf("page size not part of the params: %x vs %x (%v)", c, a, err)
	}
}

func TestConfigValidate(t *testing.T) {
	meta := func(f func(*Config)) Config { c := Config{Name: "n", BindAddr: "127.0.0.1"}; f(&c); return c }
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"ok", meta(func(*Config) {}), nil},
		{"key length", meta(func(c *Config) { c.SecretKey = make([]byte, 15) }), ErrConfig},
		{"bind addr", meta(func(c *Config) { c.BindAddr = "localhost" }), ErrConfig},
		{"port", meta(func(c *Config) { c.BindPort = 70000 }), ErrConfig},
		{"join required", meta(func(c *Config) { c.JoinRequired = true }), ErrConfig},
		{"state", meta(func(c *Config) { c.Meta.State = StateDead }), ErrConfig},
		{"negative", meta(func(c *Config) { c.Debounce = -1 }), ErrConfig},
		{"meta size", meta(func(c *Config) { c.Meta.Build = strings.Repeat("b", 600) }), ErrMetaTooLarge},
		{"page size from meta", meta(func(c *Config) { c.Meta.PageSize = 4 << 20 }), nil},
		{"page sizes differ", meta(func(c *Config) { c.Meta.PageSize = 4 << 20; c.Ring.PageSize = 2 << 20 }), ErrConfig},
	} {
		if err := tc.cfg.Validate(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: Validate() = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := Start(meta(func(c *Config) { c.Meta.Build = strings.Repeat("b", 600) })); !errors.Is(err, ErrMetaTooLarge) {
		t.Fatalf("Start with oversized meta: %v", err)
	}
}

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
	rng := testSeed(t)
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
		cfg.JoinRequired = true
		if m, err := Start(cfg); !errors.Is(err, ErrJoinFailed) {
			if m != nil {
				_ = m.Shutdown()
			}
			t.Fatalf("%s: Start = %v, want ErrJoinFailed", tc.name, err)
		}
		// Without JoinRequired it starts alone, in its own ring only.
		cfg.JoinRequired = false
		alone := start(t, cfg)
		if got := alone.Ring().Members(); !slices.Equal(got, []string{"intruder"}) {
			t.Fatalf("%s: lone node's ring %v", tc.name, got)
		}
		_ = alone.Shutdown()
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

func TestStatesAndLeave(t *testing.T) {
	ms := cluster(t, "s", 3, nil)
	waitRing(t, ms, ids(ms), "3 nodes to converge")

	// A node that starts as joining is known but not in any ring.
	cfg := testConfig(t, "s9")
	cfg.Meta.State = StateJoining
	cfg.Join = []string{ms[0].LocalAddr()}
	j := start(t, cfg)
	all := append(slices.Clone(ms), j)
	waitFor(t, converge, "joining node listed as joining everywhere", func() bool {
		for _, m := range all {
			if stateOf(m, "s9") != StateJoining {
				return false
			}
		}
		return true
	})
	if !sameRing(all, ids(ms)) {
		t.Fatalf("joining node in a ring:%s", describe(all))
	}
	if err := j.SetState(StateActive); err != nil {
		t.Fatal(err)
	}
	waitRing(t, all, ids(all), "activated node to enter every ring")

	// active -> leaving: out of every ring, still a member.
	if err := j.SetState(StateLeaving); err != nil {
		t.Fatal(err)
	}
	waitRing(t, all, ids(ms), "leaving node to leave every ring")
	for _, m := range ms {
		if s := stateOf(m, "s9"); s != StateLeaving {
			t.Fatalf("%s sees s9 as %q, want leaving", m.name, s)
		}
	}
	if err := j.SetState(StateDead); !errors.Is(err, ErrConfig) {
		t.Fatalf("SetState(dead) = %v, want ErrConfig", err)
	}

	// Graceful leave: listed as left, not dead.
	if err := j.SetState(StateActive); err != nil {
		t.Fatal(err)
	}
	waitRing(t, all, ids(all), "re-activated node to enter every ring")
	if err := j.Leave(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	_ = j.Shutdown()
	waitRing(t, ms, ids(ms), "left node to leave every ring")
	waitFor(t, converge, "left node listed as left", func() bool {
		for _, m := range ms {
			if stateOf(m, "s9") != StateLeft {
				return false
			}
		}
		return true
	})
	if err := j.SetState(StateActive); !errors.Is(err, ErrClosed) {
		t.Fatalf("SetState after Shutdown = %v, want ErrClosed", err)
	}
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

// TestImmediateRestartReadvertises: with push/pull practically off, the only
// way the others learn a restarted node's new address, once the old entry
// is dead and reclaimable, is an alive message sent after that; the
// re-advertising loop sends it. Without the loop this waits for an hour.
func TestImmediateRestartReadvertises(t *testing.T) {
	noSync := func(c *Config) { c.PushPullInterval = time.Hour }
	ms := cluster(t, "r", 3, noSync)
	waitRing(t, ms, ids(ms), "3 nodes to converge")
	cfg := ms[2].cfg
	_ = ms[2].Shutdown()
	cfg.BindPort, cfg.AdvertisePort = 0, 0
	again := start(t, cfg)
	now := []*Membership{ms[0], ms[1], again}
	d := waitForState(t, converge, "the new address everywhere", func() bool {
		for _, m := range now {
			if mb, _ := m.Member(cfg.Name); mb.Addr != again.LocalAddr() || mb.State != StateActive {
				return false
			}
		}
		return true
	}, func() string {
		var b strings.Builder
		for _, m := range now {
			mb, _ := m.Member(cfg.Name)
			fmt.Fprintf(&b, "\n  %s sees %s at %s as %s", m.name, cfg.Name, mb.Addr, mb.State)
		}
		return b.String()
	})
	waitRing(t, now, ids(now), "the restarted node in every ring")
	t.Logf("immediate restart at a new port without push/pull: new address everywhere after %v", d)
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

// A member that comes back after the others stopped gossiping to it (a
// partition longer than GossipToTheDeadTime), without joining anybody
// itself, is joined again by the members that hold it as dead.
func TestReconnectAfterGossipToTheDead(t *testing.T) {
	fast := func(c *Config) { c.ReconnectInterval = 300 * time.Millisecond }
	ms := cluster(t, "r", 2, fast)
	all := ids(ms)
	waitRing(t, ms, all, "2 nodes to converge")
	victim := ms[1]
	cfg := victim.cfg
	_, portStr, _ := net.SplitHostPort(victim.LocalAddr())
	port, _ := strconv.Atoi(portStr)
	_ = victim.Shutdown()
	waitRing(t, ms[:1], ids(ms[:1]), "the cut-off node to leave the ring")
	// The cut lasts past GossipToTheDeadTime on purpose: after it, only the
	// reconnect loop can bring the two sides together again.
	time.Sleep(cfg.GossipToTheDeadTime + 500*time.Millisecond)
	cfg.BindPort, cfg.AdvertisePort = port, 0
	cfg.Join, cfg.JoinRequired = nil, false
	again := start(t, cfg)
	d := waitRing(t, []*Membership{ms[0], again}, all, "the node held as dead to be joined again")
	t.Logf("rejoined %v after it came back", d)
}

// levelRecorder is a slog.Handler that keeps the level of each record.
type levelRecorder struct{ levels *[]slog.Level }

func (h levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h levelRecorder) Handle(_ context.Context, r slog.Record) error {
	*h.levels = append(*h.levels, r.Level)
	return nil
}
func (h levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h levelRecorder) WithGroup(string) slog.Handler      { return h }

// TestLogBridgeShutdownNoise: memberlist's "use of closed network
// connection" error is an error while running, debug once Shutdown began.
func TestLogBridgeShutdownNoise(t *testing.T) {
	var levels []slog.Level
	var closed atomic.Bool
	b := &logBridge{log: slog.New(levelRecorder{&levels}), closed: &closed}
	line := "[ERR] memberlist: Error reading UDP packet: read udp 127.0.0.1:7946: use of closed network connection\n"
	b.Write([]byte(line))
	closed.Store(true)
	b.Write([]byte(line))
	b.Write([]byte("[ERR] memberlist: something else\n"))
	b.Write([]byte("[WARN] memberlist: a warning\n"))
	want := []slog.Level{slog.LevelError, slog.LevelDebug, slog.LevelError, slog.LevelWarn}
	if !slices.Equal(levels, want) {
		t.Fatalf("levels %v, want %v", levels, want)
	}
}

// TestEveryoneLeavesAtOnce stops every member at the same moment, as a
// deploy stopping a whole cluster does, each the way node.Close does it
// (Leave, then Shutdown). The last member to leave has nobody left to hear
// its leave; that is a completed leave, not a timeout.
func TestEveryoneLeavesAtOnce(t *testing.T) {
	ms := cluster(t, "e", 3, nil)
	waitRing(t, ms, ids(ms), "3 nodes to converge")
	// Well below the 5s Leave timeout each member is given: without the
	// fix the last one waited out the whole timeout and failed.
	const bound = 3 * time.Second
	type result struct {
		name string
		err  error
		took time.Duration
	}
	results := make(chan result, len(ms))
	begin := time.Now()
	for _, m := range ms {
		go func() {
			err := m.Leave(5 * time.Second)
			_ = m.Shutdown()
			results <- result{m.name, err, time.Since(begin)}
		}()
	}
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	for range ms {
		select {
		case r := <-results:
			t.Logf("%s left after %v", r.name, r.took.Round(time.Millisecond))
			if r.err != nil {
				t.Errorf("%s: Leave: %v", r.name, r.err)
			}
		case <-deadline.C:
			t.Fatalf("not every member had left %v after all of them began leaving", bound)
		}
	}
}
