package node_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/node"
)

// BenchmarkWarmSequentialSDK: one reader scanning a warm file with 1 MiB
// reads through the SDK, the warm half of the cold-vs-warm scan; each read
// split over 1 (no split), 2 or 4 streams (client ReadParallelism). The three
// alternate in rounds of 16 reads (same machine load); b.N reads each.
func BenchmarkWarmSequentialSDK(b *testing.B) {
	under := localStore(b)
	const size = 64 << 20
	writeBigFile(b, under, "lake/bench/seq.bin", size)
	c := startCluster(b, 3, under, node.Config{PageSize: 1 << 20})
	pars := []int{1, 2, 4}
	cls := make([]*client.Client, len(pars))
	for i, par := range pars {
		cls[i] = newClient(b, c, client.Config{ReadParallelism: par})
	}
	if err := cls[0].Load(context.Background(), "lake/bench/seq.bin", false, nil); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	took := make([]time.Duration, len(pars))
	b.SetBytes(int64(len(pars)) << 20)
	runtime.GC()
	b.ResetTimer()
	for done := 0; done < b.N; done += 16 {
		for k, cl := range cls {
			t0 := time.Now()
			for i := done; i < min(done+16, b.N); i++ {
				off := int64(i%(size>>20)) << 20
				if _, err := cl.ReadAt(context.Background(), "lake/bench/seq.bin", buf, off); err != nil {
					b.Fatal(err)
				}
			}
			took[k] += time.Since(t0)
		}
	}
	b.StopTimer()
	for k, par := range pars {
		b.ReportMetric(float64(b.N<<20)/took[k].Seconds()/1e9, fmt.Sprintf("streams=%d-GB/s", par))
	}
}
