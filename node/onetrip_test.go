package node_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/understore"
)

// countingStore counts the requests that reach a real under-store.
type countingStore struct {
	understore.Store
	n atomic.Int64
}

func (c *countingStore) Stat(ctx context.Context, p string) (understore.ObjectInfo, error) {
	c.n.Add(1)
	return c.Store.Stat(ctx, p)
}

func (c *countingStore) ReadAt(ctx context.Context, p string, want understore.ObjectInfo, buf []byte, off int64) (int, error) {
	c.n.Add(1)
	return c.Store.ReadAt(ctx, p, want, buf, off)
}

func (c *countingStore) ReadFirst(ctx context.Context, p string, buf []byte, off int64) (understore.ObjectInfo, int, error) {
	c.n.Add(1)
	return c.Store.(interface {
		ReadFirst(context.Context, string, []byte, int64) (understore.ObjectInfo, int, error)
	}).ReadFirst(ctx, p, buf, off)
}

// A cold read of one page costs one under-store request (the ranged read
// names the version: no Stat first); a warm repeat within the sync
// interval costs none.
func TestColdReadOneUnderStoreRequest(t *testing.T) {
	under := &countingStore{Store: localStore(t)}
	const size = 1 << 20
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	if _, err := under.Store.Put(context.Background(), "lake/one.bin", bytes.NewReader(data), size); err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, 1, under, node.Config{PageSize: size, SyncInterval: time.Hour})
	cl := newClient(t, c, client.Config{})
	buf := make([]byte, size)
	for i, want := range []int64{1, 0} {
		before := under.n.Load()
		n, err := cl.ReadAt(context.Background(), "lake/one.bin", buf, 0)
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if n != size || !bytes.Equal(buf, data) {
			t.Fatalf("read %d: %d bytes, content equal %v", i, n, bytes.Equal(buf[:n], data[:n]))
		}
		if got := under.n.Load() - before; got != want {
			t.Fatalf("read %d: %d under-store requests, want %d", i, got, want)
		}
	}
}
