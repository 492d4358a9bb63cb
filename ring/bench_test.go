package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Run: go test -run '^$' -bench . -benchtime 200ms ./ring
// The consistent benchmarks are the baseline measured in the same run.

const benchMembers = 128

func benchKeys() []string {
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprintf("lake/warehouse/t/part-%05d.parquet", i)
	}
	return keys
}

func benchRing(b *testing.B) *Ring {
	r, err := New(Config{}, randMembers(rand.New(rand.NewPCG(1, 2)), benchMembers))
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkOwners: Owners(key, 3) (allocates the result) and AppendOwners
// (reused buffer), serial and parallel. Parallel ns/op is wall time per op
// across GOMAXPROCS goroutines; lock-free lookups scale, so it should not be
// above serial.
func BenchmarkOwners(b *testing.B) {
	r := benchRing(b)
	keys := benchKeys()
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = r.Owners(keys[i&4095], 3)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				_ = r.Owners(keys[i&4095], 3)
			}
		})
	})
	b.Run("append-serial", func(b *testing.B) {
		buf := make([]string, 0, 8)
		for i := 0; b.Loop(); i++ {
			buf = r.AppendOwners(buf[:0], keys[i&4095], 3)
		}
	})
	b.Run("append-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]string, 0, 8)
			for i := 0; pb.Next(); i++ {
				buf = r.AppendOwners(buf[:0], keys[i&4095], 3)
			}
		})
	})
	b.Run("owner-serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = r.Owner(keys[i&4095])
		}
	})
	b.Run("owner-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				_ = r.Owner(keys[i&4095])
			}
		})
	})
}

// BenchmarkConsistentLocateKey is the baseline: consistent v1.0.0's own
// lookup of the owner (RWMutex per call) on the same members and Config.
func BenchmarkConsistentLocateKey(b *testing.B) {
	c := newConsistent(Config{}, randMembers(rand.New(rand.NewPCG(1, 2)), benchMembers))
	keys := make([][]byte, 4096)
	for i, k := range benchKeys() {
		keys[i] = []byte(k)
	}
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = c.LocateKey(keys[i&4095])
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				_ = c.LocateKey(keys[i&4095])
			}
		})
	})
}

// BenchmarkNew is the rebuild time on a member-set change.
func BenchmarkNew(b *testing.B) {
	for _, n := range []int{16, 128, 512} {
		ms := randMembers(rand.New(rand.NewPCG(3, uint64(n))), n)
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := New(Config{}, ms); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConsistentNew is the baseline for BenchmarkNew (quadratic: it
// re-sorts the circle after every member). 512 members is left out: over a
// second per build at the default replication factor.
func BenchmarkConsistentNew(b *testing.B) {
	for _, n := range []int{16, 128} {
		ms := randMembers(rand.New(rand.NewPCG(3, uint64(n))), n)
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			for b.Loop() {
				newConsistent(Config{}, ms)
			}
		})
	}
}

// BenchmarkMovement reports the percentage of keys that move when one member
// joins (join%) and leaves (leave%), with the ideal 1/n next to them, and
// their ratio to ideal (x-ideal, mean of join and leave). Each iteration is
// one random member set (seeded by the iteration number).
func BenchmarkMovement(b *testing.B) {
	for _, n := range []int{3, 16, 64, 512} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			var j, l float64
			var iters int
			for b.Loop() {
				rng := rand.New(rand.NewPCG(uint64(iters), uint64(n)))
				a, c := movement(b, rng, Config{}, n)
				j += a
				l += c
				iters++
			}
			j /= float64(iters)
			l /= float64(iters)
			b.ReportMetric(100*j, "join%")
			b.ReportMetric(100/float64(n+1), "ideal-join%")
			b.ReportMetric(100*l, "leave%")
			b.ReportMetric(100/float64(n), "ideal-leave%")
			b.ReportMetric((j*float64(n+1)+l*float64(n))/2, "x-ideal")
		})
	}
}
