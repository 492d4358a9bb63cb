package node_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/node"
)

// BenchmarkWriteThrough compares a 64 MiB Put through the cluster (taken
// by the owner, or by another node that streams it to the owner) with the
// same Put straight to the under-store, in one run:
//
//	go test -run '^$' -bench BenchmarkWriteThrough -benchtime 10x ./node/
func BenchmarkWriteThrough(b *testing.B) {
	const size = 64 << 20
	rng := rand.New(rand.NewPCG(1, 2))
	data := randBytes(rng, size)
	under := localStore(b)
	c := startCluster(b, 3, under, node.Config{PageSize: 1 << 20, Capacity: 4 << 30})
	cl := newClient(b, c, client.Config{})
	ctx := context.Background()
	const p = "lake/bench/write.bin"
	owner := cl.Preferred(p, 1)[0].ID
	var ownerNode, other *node.Node
	for _, n := range c.Nodes {
		if n.ID() == owner {
			ownerNode = n
		} else {
			other = n
		}
	}
	run := func(name string, put func() error) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if err := put(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("understore", func() error {
		_, err := under.Put(ctx, "lake/bench/direct.bin", bytes.NewReader(data), size)
		return err
	})
	run("owner", func() error {
		_, err := ownerNode.PutObject(ctx, p, bytes.NewReader(data), size)
		return err
	})
	run("forwarded", func() error {
		_, err := other.PutObject(ctx, p, bytes.NewReader(data), size)
		return err
	})
	run("sdk", func() error {
		_, err := cl.Put(ctx, p, bytes.NewReader(data), size)
		return err
	})
	_ = fmt.Sprint
}
