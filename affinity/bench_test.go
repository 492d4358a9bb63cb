package affinity

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkAssign places 1,000,000 splits (distinct files) over 100 nodes
// at maxLoad 1.25; goal <= 1 s per op. The rank0% metric is the fraction of
// splits on their owner.
func BenchmarkAssign(b *testing.B) {
	r := newRing(b, 100)
	splits := uniformSplits(rand.New(rand.NewPCG(1, 1)), 1_000_000)
	b.Run("splits=1M/nodes=100", func(b *testing.B) {
		var res Result
		for b.Loop() {
			var err error
			if res, err = Assign(r, Config{}, splits, 1.25); err != nil {
				b.Fatal(err)
			}
		}
		rank0 := 0
		for _, a := range res.Assignments {
			if a.PreferredRank == 0 {
				rank0++
			}
		}
		b.ReportMetric(100*float64(rank0)/float64(len(splits)), "rank0%")
	})
	// Hot files: 1M splits of 10 files, so most splits overflow their
	// owner and the first fallbacks.
	hot := make([]Split, 1_000_000)
	for i := range hot {
		hot[i] = Split{Path: fmt.Sprintf("lake/hot/f%d", i%10), Offset: int64(i) << 20, Length: 1 << 20}
	}
	b.Run("splits=1M/nodes=100/files=10", func(b *testing.B) {
		for b.Loop() {
			if _, err := Assign(r, Config{}, hot, 1.25); err != nil {
				b.Fatal(err)
			}
		}
	})
}
