package client

import (
	"math/rand/v2"
	"time"
)

// backoff spaces the reconnects of the ring watch: the delay doubles from
// min to max, each one with equal jitter (half fixed, half random), so that
// the clients of a cluster that went away neither spin (a node that is
// shutting down ends every WatchRing at once: one client made about 3,000
// calls in 1.4 s) nor come back all in the same instant. Equal rather than
// full jitter keeps a floor of half the step under every delay. Not safe for
// concurrent use: the watch loop owns it.
type backoff struct {
	min, max time.Duration
	rand     *rand.Rand
	step     time.Duration // the next delay before jitter; 0 after reset
	attempts int           // delays handed out since the last reset
}

func newBackoff(min, max time.Duration, r *rand.Rand) *backoff {
	return &backoff{min: min, max: max, rand: r}
}

// next returns the delay before the next attempt and doubles the step up to
// max: with min 100 ms and max 5 s, 50-100 ms, 100-200 ms, ... up to 2.5-5 s.
func (b *backoff) next() time.Duration {
	if b.step == 0 {
		b.step = b.min
	}
	d := b.step
	b.step = min(2*b.step, b.max)
	b.attempts++
	half := d / 2
	return half + time.Duration(b.rand.Int64N(int64(d-half)+1))
}

// reset starts again from min, after a healthy stream.
func (b *backoff) reset() {
	b.step = 0
	b.attempts = 0
}
