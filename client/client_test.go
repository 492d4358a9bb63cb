package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

func setup(t *testing.T, nodes int) (understore.Store, *node.LocalCluster, *client.Client) {
	t.Helper()
	return setupPages(t, nodes, 64<<10)
}

func setupPages(t *testing.T, nodes int, pageSize int64) (understore.Store, *node.LocalCluster, *client.Client) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(dir+"/lake", 0o755); err != nil {
		t.Fatal(err)
	}
	under, err := understore.Open(context.Background(), understore.Config{URL: "file://" + dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { under.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: nodes, BaseDir: t.TempDir(), UnderStore: under,
		Template: node.Config{PageSize: pageSize}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	cl, err := client.New(ctx, client.Config{Seeds: c.GRPCAddrs(), Fallback: under, AttemptTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return under, c, cl
}

func put(t *testing.T, under understore.Store, p string, data []byte) {
	t.Helper()
	if _, err := under.Put(context.Background(), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := client.New(context.Background(), client.Config{}); !errors.Is(err, client.ErrConfig) {
		t.Fatalf("no seeds: %v", err)
	}
	_, err := client.New(context.Background(), client.Config{Seeds: []string{"127.0.0.1:1"}, CallTimeout: time.Second})
	if !errors.Is(err, client.ErrNoMembers) {
		t.Fatalf("unreachable seed: %v", err)
	}
}

func TestFileIsAReadSeekerBoundToOneVersion(t *testing.T) {
	under, _, cl := setup(t, 2)
	data := bytes.Repeat([]byte("abcdefghij"), 30_000)
	put(t, under, "lake/f/a.bin", data)
	ctx := context.Background()
	f, err := cl.Open(ctx, "lake/f/a.bin")
	if err != nil {
		t.Fatal(err)
	}
	if f.Size() != int64(len(data)) {
		t.Fatalf("size %d", f.Size())
	}
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll: %v, equal=%v", err, bytes.Equal(got, data))
	}
	if _, err := f.Seek(-5, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(f)
	if string(tail) != "fghij" {
		t.Fatalf("tail %q", tail)
	}
	buf := make([]byte, 10)
	if n, err := f.ReadAt(buf, int64(len(data))-4); n != 4 || !errors.Is(err, io.EOF) {
		t.Fatalf("ReadAt across the end: n=%d err=%v", n, err)
	}
	if _, err := f.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("seek before the start accepted")
	}
	// The object changes: the open File refuses to mix versions.
	put(t, under, "lake/f/a.bin", bytes.Repeat([]byte("Z"), len(data)))
	if _, err := cl.Invalidate(ctx, "lake/f/a.bin"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(buf, 0); !errors.Is(err, transport.ErrChanged) {
		t.Fatalf("read of a changed file: %v, want ErrChanged", err)
	}
	g, err := cl.Open(ctx, "lake/f/a.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.ReadAt(buf, 0); err != nil || string(buf) != "ZZZZZZZZZZ" {
		t.Fatalf("reopened: %q %v", buf, err)
	}
}

func TestStatsAndFallbackToUnderStore(t *testing.T) {
	under, c, cl := setup(t, 1)
	data := bytes.Repeat([]byte{7}, 200_000)
	put(t, under, "lake/s/x.bin", data)
	ctx := context.Background()
	buf := make([]byte, len(data))
	var cold, warm client.ReadStats
	if _, err := cl.ReadAt(ctx, "lake/s/x.bin", buf, 0, client.WithStats(&cold)); err != nil {
		t.Fatal(err)
	}
	// The cold read returns before its pages are on disk; Load waits for
	// them (a read meanwhile would share the in-flight fetch).
	if err := cl.Load(ctx, "lake/s/x.bin", false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ReadAt(ctx, "lake/s/x.bin", buf, 0, client.WithStats(&warm)); err != nil {
		t.Fatal(err)
	}
	if cold.BytesUnderstore != int64(len(data)) || cold.PagesMissed != 4 || warm.BytesLocal != int64(len(data)) || warm.PagesHit != 4 {
		t.Fatalf("stats: cold %+v warm %+v", cold, warm)
	}
	if _, err := cl.Stat(ctx, "lake/s/x.bin"); err != nil {
		t.Fatal(err)
	}
	// Every node down: the configured fallback reads the under-store.
	c.Nodes[0].Crash()
	var st client.ReadStats
	clear(buf)
	if _, err := cl.ReadAt(ctx, "lake/s/x.bin", buf, 0, client.WithStats(&st)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, data) || st.BytesDirect != int64(len(data)) {
		t.Fatalf("fallback: equal=%v stats %+v", bytes.Equal(buf, data), st)
	}
}

// TestSplitReadsAreExact: large reads are split over several streams
// (pieces of 64 KiB here, so a read has up to 8 of them); whatever the
// range, including ranges that run past the end of the file, the bytes, the
// count and io.EOF are those of a read in one piece, and the stats add up.
func TestSplitReadsAreExact(t *testing.T) {
	under, c, one := setup(t, 3)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(uint64(seed), 9))
	data := make([]byte, 3<<20+12345)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	put(t, under, "lake/split/a.bin", data)
	ctx := context.Background()
	split, err := client.New(ctx, client.Config{Seeds: c.GRPCAddrs(), ReadParallelism: 8, SplitSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer split.Close()
	// A cold read over many pages, split on page boundaries: every byte is
	// a fetch for this read, every page one miss.
	put(t, under, "lake/split/cold.bin", data)
	var cold client.ReadStats
	coldBuf := make([]byte, 2<<20)
	if n, err := split.ReadAt(ctx, "lake/split/cold.bin", coldBuf, 1000, client.WithStats(&cold)); err != nil || n != len(coldBuf) || !bytes.Equal(coldBuf, data[1000:1000+len(coldBuf)]) {
		t.Fatalf("cold split read: n=%d err=%v", n, err)
	}
	if want := int64(len(coldBuf)); cold.BytesUnderstore != want || cold.PagesMissed != (1000+want-1)/(64<<10)+1 || cold.PagesHit != 0 {
		t.Fatalf("cold split read stats: %+v", cold)
	}

	size := int64(len(data))
	cases := [][2]int64{{0, size}, {size - 100_000, 1 << 20}, {size - 200_000, 200_000}, {size - 65536, 2 << 20}, {size, 1 << 20}}
	for range 30 {
		off := r.Int64N(size)
		cases = append(cases, [2]int64{off, 128<<10 + r.Int64N(2<<20)})
	}
	for pass := range 2 { // cold, then warm
		for _, tc := range cases {
			off, n := tc[0], tc[1]
			want := data[off:min(off+n, size)]
			buf := make([]byte, n)
			var st client.ReadStats
			got, err := split.ReadAt(ctx, "lake/split/a.bin", buf, off, client.WithStats(&st))
			if got != len(want) || !bytes.Equal(buf[:got], want) {
				t.Fatalf("pass %d, %d bytes at %d: got %d bytes (equal=%v), want %d", pass, n, off, got, bytes.Equal(buf[:got], want), len(want))
			}
			if wantEOF := int64(len(want)) < n; wantEOF != errors.Is(err, io.EOF) || (!wantEOF && err != nil) {
				t.Fatalf("pass %d, %d bytes at %d: err %v", pass, n, off, err)
			}
			// Every page the read touched is counted once, whichever
			// pieces touched it (FlagPiece).
			const ps = 64 << 10 // setup's page size
			var pages int64
			if got > 0 {
				pages = (off+int64(got)-1)/ps - off/ps + 1
			}
			if st.BytesLocal+st.BytesPeer+st.BytesUnderstore != int64(got) || st.PagesHit+st.PagesMissed != pages ||
				(pass == 1 && (st.PagesHit != pages || st.BytesLocal != int64(got))) {
				t.Fatalf("pass %d, %d bytes at %d: stats %+v for %d bytes, %d pages", pass, n, off, st, got, pages)
			}
			// The same read in one piece agrees.
			buf1 := make([]byte, n)
			got1, err1 := one.ReadAt(ctx, "lake/split/a.bin", buf1, off)
			if got1 != got || !bytes.Equal(buf1[:got1], buf[:got]) || errors.Is(err1, io.EOF) != errors.Is(err, io.EOF) {
				t.Fatalf("one piece: %d bytes, err %v; split: %d bytes, err %v", got1, err1, got, err)
			}
		}
		if err := split.Load(ctx, "lake/split/a.bin", false, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Past the end is an error, as for a read in one piece.
	if _, err := split.ReadAt(ctx, "lake/split/a.bin", make([]byte, 1<<20), size+1); !errors.Is(err, transport.ErrOutOfRange) {
		t.Fatalf("read past the end: %v", err)
	}
}

// TestNoCacheReadsDoNotFillTheCache: WithNoCache reads the under-store for
// what is not cached and keeps nothing; pages already cached still serve it.
func TestNoCacheReadsDoNotFillTheCache(t *testing.T) {
	under, _, cl := setup(t, 2)
	data := bytes.Repeat([]byte("no-cache!"), 50_000) // 450 KB: 7 pages of 64 KiB
	put(t, under, "lake/nc/a.bin", data)
	ctx := context.Background()
	read := func(opts ...client.ReadOption) client.ReadStats {
		t.Helper()
		var st client.ReadStats
		buf := make([]byte, len(data))
		if n, err := cl.ReadAt(ctx, "lake/nc/a.bin", buf, 0, append(opts, client.WithStats(&st))...); err != nil || n != len(data) || !bytes.Equal(buf, data) {
			t.Fatalf("read: n=%d err=%v equal=%v", n, err, bytes.Equal(buf, data))
		}
		return st
	}
	for range 2 {
		if st := read(client.WithNoCache()); st.BytesUnderstore != int64(len(data)) || st.PagesMissed != 7 {
			t.Fatalf("no-cache read: %+v, want every byte from the under-store", st)
		}
	}
	// Nothing was kept: a normal read still misses, and fills the cache.
	if st := read(); st.BytesUnderstore != int64(len(data)) {
		t.Fatalf("read after no-cache reads: %+v, want every byte from the under-store", st)
	}
	if err := cl.Load(ctx, "lake/nc/a.bin", false, nil); err != nil {
		t.Fatal(err)
	}
	// Cached pages serve a no-cache read.
	if st := read(client.WithNoCache()); st.BytesLocal != int64(len(data)) || st.PagesHit != 7 {
		t.Fatalf("no-cache read of cached pages: %+v", st)
	}
}

// TestSplitWithinAPage: a read inside one page is still split (4 pieces of
// one 1 MiB page); the page is fetched once, counted once, as a miss when
// cold and a hit when warm, and the bytes are right.
func TestSplitWithinAPage(t *testing.T) {
	under, _, cl := setupPages(t, 2, 1<<20)
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	put(t, under, "lake/split/page.bin", data)
	ctx := context.Background()
	for pass, want := range []string{"cold", "warm"} {
		var st client.ReadStats
		buf := make([]byte, 1<<20)
		if n, err := cl.ReadAt(ctx, "lake/split/page.bin", buf, 1<<20, client.WithStats(&st)); err != nil || n != len(buf) || !bytes.Equal(buf, data[1<<20:2<<20]) {
			t.Fatalf("%s read: n=%d err=%v", want, n, err)
		}
		switch {
		case st.Pieces != 4 || st.Attempts != 1:
			t.Fatalf("%s read in %d pieces, %d attempts; want 4 pieces, 1 attempt each", want, st.Pieces, st.Attempts)
		case st.BytesLocal+st.BytesUnderstore != 1<<20 || st.PagesHit+st.PagesMissed != 1:
			t.Fatalf("%s read stats: %+v, want one page, 1 MiB", want, st)
		case pass == 0 && (st.PagesMissed != 1 || st.BytesUnderstore < 256<<10):
			// Whichever piece gets to the page first fetches it (at
			// least its 256 KiB are under-store bytes). Pieces that joined
			// that fetch report its bytes as under-store bytes (ReadID);
			// one that came after the page was written reads it from disk.
			// Either way the piece that counts the page (lo == 0) counts
			// the miss: the read fetched it (the node remembers which
			// read fetched a page, node/internal/pagefetch/recent.go).
			t.Fatalf("cold read stats: %+v", st)
		case pass == 1 && (st.PagesHit != 1 || st.BytesLocal != 1<<20):
			t.Fatalf("warm read stats: %+v", st)
		}
		if err := cl.Load(ctx, "lake/split/page.bin", false, nil); err != nil {
			t.Fatal(err)
		}
	}
}
