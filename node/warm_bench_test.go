package node_test

import (
	"context"
	"testing"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/node"
)

// BenchmarkWarmSequentialSDK: one reader scanning a warm file with 1 MiB
// reads through the SDK, the warm half of the cold-vs-warm scan.
func BenchmarkWarmSequentialSDK(b *testing.B) {
	under := localStore(b)
	const size = 64 << 20
	writeBigFile(b, under, "lake/bench/seq.bin", size)
	c := startCluster(b, 3, under, node.Config{PageSize: 1 << 20})
	cl := newClient(b, c, client.Config{})
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
}
