// Test helpers shared by the tests of this package: real members on
// loopback with fast timers, and waits on conditions with deadlines.

package membership

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

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
		DeadNodeReclaimTime: 100 * time.Millisecond,
		Timing: Timing{
			Debounce:            30 * time.Millisecond,
			ProbeInterval:       200 * time.Millisecond,
			ProbeTimeout:        200 * time.Millisecond,
			GossipInterval:      30 * time.Millisecond,
			SuspicionMult:       4,
			PushPullInterval:    time.Second,
			TCPTimeout:          2 * time.Second,
			GossipToTheDeadTime: 2 * time.Second,
		},
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
