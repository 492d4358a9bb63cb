package node_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/node"
)

// BenchmarkWarmSequentialSDK: one reader scanning a warm file with 1 MiB
// reads through the SDK, the warm half of the cold-vs-warm scan; each read
// split over 1 (no split), 2 or 4 streams (client ReadParallelism).
func BenchmarkWarmSequentialSDK(b *testing.B) {
	under := localStore(b)
	const size = 64 << 20
	writeBigFile(b, under, "lake/bench/seq.bin", size)
	c := startCluster(b, 3, under, node.Config{PageSize: 1 << 20})
	for _, par := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("streams=%d", par), func(b *testing.B) {
			cl := newClient(b, c, client.Config{ReadParallelism: par})
			if err := cl.Load(context.Background(), "lake/bench/seq.bin", false, nil); err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 1<<20)
			b.SetBytes(1 << 20)
			b.ResetTimer()
			for i := range b.N {
				off := int64(i%(size>>20)) << 20
				if _, err := cl.ReadAt(context.Background(), "lake/bench/seq.bin", buf, off); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
