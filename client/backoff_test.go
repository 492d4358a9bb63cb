package client

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestBackoff: the delays double from min to max, each within [step/2,
// step] (equal jitter), stay at max, and start from min again after reset.
func TestBackoff(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	b := newBackoff(100*time.Millisecond, 5*time.Second, rand.New(rand.NewPCG(seed, 1)))
	for round := range 2 {
		step := 100 * time.Millisecond
		for i := range 12 {
			d := b.next()
			if d < step/2 || d > step {
				t.Fatalf("round %d, delay %d: %v, want %v to %v", round, i, d, step/2, step)
			}
			step = min(2*step, 5*time.Second)
		}
		if b.attempts != 12 {
			t.Fatalf("attempts %d, want 12", b.attempts)
		}
		b.reset()
	}
}
