package main

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ringcache/ringcache/bench"
)

// result is what one timed phase measured.
type result struct {
	ops     uint64
	elapsed time.Duration
	hist    bench.Histogram
	wrong   int64 // bytes that were not the object's content
	errs    uint64
	lastErr error
	// firstErrAt is when, after the phase began, a client first saw an
	// error (the earliest over the clients).
	firstErrAt time.Duration
}

// drive runs clients goroutines for d, each reading Zipf(s)-distributed
// objects of 0..n-1 through r and verifying every byte. Client c's key
// sequence is seeded by (seed, phase, c), so every system sees the same
// sequence.
func drive(ctx context.Context, r reader, src source, n, clients int, s float64, seed uint64, phase int, d time.Duration) result {
	start := time.Now()
	end := start.Add(d)
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	parts := make([]result, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &parts[c]
			rng := rand.New(rand.NewPCG(seed, uint64(phase)<<32|uint64(c)))
			z := rand.NewZipf(rng, s, 1, uint64(n-1))
			buf := make([]byte, src.size+1) // one spare byte shows a long answer
			for op := 0; ctx.Err() == nil; op++ {
				i := int(z.Uint64())
				t0 := time.Now()
				p, err := r.read(ctx, c, op, keyName(i), buf)
				if ctx.Err() != nil || !time.Now().Before(end) {
					// The phase ended mid-read. The clock, not only
					// ctx.Err, says so: a dial can fail on the
					// context's deadline a moment before ctx.Err is set.
					return
				}
				if err != nil {
					if res.errs == 0 {
						res.firstErrAt = time.Since(start)
					}
					res.errs++
					res.lastErr = err
					continue
				}
				res.hist.Record(time.Since(t0))
				res.ops++
				res.wrong += src.wrongBytes(i, p)
			}
		}()
	}
	wg.Wait()
	var out result
	out.elapsed = time.Since(start)
	for i := range parts {
		out.ops += parts[i].ops
		out.wrong += parts[i].wrong
		out.errs += parts[i].errs
		if parts[i].lastErr != nil {
			out.lastErr = parts[i].lastErr
			if out.firstErrAt == 0 || parts[i].firstErrAt < out.firstErrAt {
				out.firstErrAt = parts[i].firstErrAt
			}
		}
		out.hist.Merge(&parts[i].hist)
	}
	return out
}
