package membership

import (
	"errors"
	"slices"
	"testing"
	"time"
)

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
