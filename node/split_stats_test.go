package node_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/transport"
)

// TestSplitReadCountsItsOwnFetchAsAMiss sends the pieces of one split read
// inside one page (FlagPiece, one ReadID) in the order that made the SDK's
// TestSplitWithinAPage flaky: a later piece fetches the page and it is
// written to the store, then the piece that starts the page (the one that
// counts it) finds it on disk. The read fetched the page, so that piece
// counts a miss, with its bytes from the page file; a read with another ID
// counts the same page as a hit.
func TestSplitReadCountsItsOwnFetchAsAMiss(t *testing.T) {
	const page = 1 << 20
	const q = page / 4
	under := localStore(t)
	data := make([]byte, 2*page)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	const p = "lake/split/within.bin"
	if _, err := under.Put(context.Background(), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, 1, under, node.Config{PageSize: page})
	tc, err := transport.NewClient(transport.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	addr := c.GRPCAddrs()[0]
	read := func(what string, off int64, flags uint32, readID uint64, etag string) (transport.ReadResult, error) {
		buf := make([]byte, q)
		req := transport.ReadRequest{Path: p, Offset: off, Length: q, Flags: flags, ReadID: readID, ETag: etag}
		res, err := tc.Read(context.Background(), addr, &req, buf)
		if err == nil && (res.N != q || !bytes.Equal(buf, data[off:off+q])) {
			t.Fatalf("%s: %d wrong bytes", what, res.N)
		}
		return res, err
	}
	must := func(what string, off int64, flags uint32, readID uint64) transport.ReadStats {
		t.Helper()
		res, err := read(what, off, flags, readID, "")
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return res.Stats
	}

	const id = 0x5eed0001
	later := must("later piece", page+q, transport.FlagPiece, id)
	if later.PagesHit+later.PagesMissed != 0 || later.BytesUnderstore != q {
		t.Fatalf("later piece (fetches, does not count the page): %+v", later)
	}
	// Wait for the page to be on disk: a cached-only read succeeds then.
	res, err := read("probe", page, 0, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := read("cached-only", page, transport.FlagCachedOnly, 0, res.Header.ETag); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fetched page was never stored")
		}
		time.Sleep(time.Millisecond) // a yield between checks of the condition
	}
	misses := metric(t, c.Nodes[0], "ringcache_cache_misses_total", "")

	first := must("first piece", page, 0, id)
	if first.PagesMissed != 1 || first.PagesHit != 0 || first.BytesLocal != q || first.BytesUnderstore != 0 {
		t.Errorf("first piece (counts the page the read fetched, from disk): %+v, want 1 miss, %d local bytes", first, q)
	}
	if got := metric(t, c.Nodes[0], "ringcache_cache_misses_total", "") - misses; got != 1 {
		t.Errorf("cache misses metric grew by %v, want 1", got)
	}
	other := must("another read", page, 0, id+2)
	if other.PagesHit != 1 || other.PagesMissed != 0 || other.BytesLocal != q {
		t.Errorf("another read of the cached page: %+v, want 1 hit", other)
	}
}
