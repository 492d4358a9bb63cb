package node_test

// Benchmarks of the whole read path, each with its baseline in the same run:
//
//	go test -run '^$' -bench . -benchtime 3s ./node/
//
// The nodes and the client run in one process (the page stream still goes
// over real loopback TCP sockets, with sendfile on the serving side).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// delayStore adds a fixed latency to every under-store request, so a local
// directory behaves like a remote object store.
type delayStore struct {
	understore.Store
	delay time.Duration
}

func (d delayStore) wait(ctx context.Context) error {
	t := time.NewTimer(d.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d delayStore) Stat(ctx context.Context, p string) (understore.ObjectInfo, error) {
	if err := d.wait(ctx); err != nil {
		return understore.ObjectInfo{}, err
	}
	return d.Store.Stat(ctx, p)
}

func (d delayStore) ReadAt(ctx context.Context, p string, want understore.ObjectInfo, buf []byte, off int64) (int, error) {
	if err := d.wait(ctx); err != nil {
		return 0, err
	}
	return d.Store.ReadAt(ctx, p, want, buf, off)
}

// ReadFirst passes the under-store's one-request cold read through, with
// one delay.
func (d delayStore) ReadFirst(ctx context.Context, p string, buf []byte, off int64) (understore.ObjectInfo, int, error) {
	if err := d.wait(ctx); err != nil {
		return understore.ObjectInfo{}, 0, err
	}
	return d.Store.(interface {
		ReadFirst(ctx context.Context, path string, p []byte, off int64) (understore.ObjectInfo, int, error)
	}).ReadFirst(ctx, p, buf, off)
}

// writeBigFile puts size bytes of pseudo-random data at p.
func writeBigFile(b *testing.B, under understore.Store, p string, size int64) {
	b.Helper()
	rng := rand.New(rand.NewPCG(uint64(size), 42))
	data := make([]byte, size)
	for i := 0; i+8 <= len(data); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	if _, err := under.Put(context.Background(), p, bytes.NewReader(data), size); err != nil {
		b.Fatal(err)
	}
}

// rawTCPServer writes 1 MiB buffers from memory to every connection until
// it closes: the baseline the page stream is measured against.
func rawTCPServer(b *testing.B, chunk int) (addr string, stop func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, chunk)
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				req := make([]byte, 1)
				for {
					// One byte in, one chunk out: request/response like
					// the page stream, not a one-way firehose.
					if _, err := io.ReadFull(c, req); err != nil {
						return
					}
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String(), func() { l.Close(); wg.Wait() }
}

// rawTCPConns starts a rawTCPServer of chunk-byte responses and dials n
// connections to it; all are closed when the benchmark ends.
func rawTCPConns(b *testing.B, chunk, n int) []net.Conn {
	addr, stop := rawTCPServer(b, chunk)
	b.Cleanup(stop)
	var conns []net.Conn
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	return conns
}

// benchStreams is how many streams BenchmarkRemoteCachedRead runs: 4, or
// RINGCACHE_BENCH_STREAMS.
func benchStreams() int {
	if v, err := strconv.Atoi(os.Getenv("RINGCACHE_BENCH_STREAMS")); err == nil && v > 0 {
		return v
	}
	return 4
}

// parallelRound makes n calls of read(w, i) (i = 0..n-1, w = worker) from
// workers goroutines and returns when all are done.
func parallelRound(b *testing.B, workers, n int, read func(w, i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := read(w, i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkRemoteCachedRead: 4 streams (RINGCACHE_BENCH_STREAMS) reading
// cached 1 MiB pages from a remote node, against raw loopback TCP moving
// 1 MiB buffers from memory over as many connections. The two alternate in
// rounds of 64 reads, so both see the same machine (run-to-run noise here is
// +-20%, more than the difference measured); b.N pages are moved by each.
// Reports both rates and ringcache's as a percentage of raw TCP's.
func BenchmarkRemoteCachedRead(b *testing.B) {
	const page = 1 << 20
	streams := benchStreams()
	raw := rawTCPConns(b, page, streams)
	under := localStore(b)
	const size = 256 << 20
	writeBigFile(b, under, "lake/bench/remote.bin", size)
	c := startCluster(b, 3, under, node.Config{PageSize: page})
	cl := newClient(b, c, client.Config{})
	if err := cl.Load(context.Background(), "lake/bench/remote.bin", false, nil); err != nil {
		b.Fatal(err)
	}
	owner := cl.Preferred("lake/bench/remote.bin", 1)[0].GRPCAddr
	peers, err := transport.NewClient(transport.ClientConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer peers.Close()
	bufs := make([][]byte, streams)
	for i := range bufs {
		bufs[i] = make([]byte, page)
	}
	const round = 64
	var rawTime, rcTime time.Duration
	pages := 0 // next page of the file, so reads sweep all of it
	b.SetBytes(2 * page)
	runtime.GC() // the set-up's garbage is not collected during the rounds
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		t0 := time.Now()
		parallelRound(b, streams, n, func(w, _ int) error {
			if _, err := raw[w].Write([]byte{1}); err != nil {
				return err
			}
			_, err := io.ReadFull(raw[w], bufs[w])
			return err
		})
		t1 := time.Now()
		first := pages
		parallelRound(b, streams, n, func(w, i int) error {
			off := int64((first+i)%(size/page)) * page
			req := transport.ReadRequest{Path: "lake/bench/remote.bin", Offset: off, Length: page}
			_, err := peers.Read(context.Background(), owner, &req, bufs[w])
			return err
		})
		pages += n
		rawTime += t1.Sub(t0)
		rcTime += time.Since(t1)
	}
	b.StopTimer()
	bytes := float64(b.N) * page
	b.ReportMetric(bytes/rawTime.Seconds()/1e9, "raw-GB/s")
	b.ReportMetric(bytes/rcTime.Seconds()/1e9, "ringcache-GB/s")
	b.ReportMetric(100*rawTime.Seconds()/rcTime.Seconds(), "ringcache/raw-%")
	if misses := clusterMetric(b, c, "ringcache_cache_misses_total", ""); misses > size/page {
		b.Fatalf("pages missed during a warm benchmark: %v", misses)
	}
}

// BenchmarkRandom64KiB: 16 readers (RINGCACHE_BENCH_READERS) doing 64 KiB
// reads at random offsets through the SDK on a warm 3-node cluster; reports
// p50/p99 latency. Baselines, in rounds alternating with ringcache's (same
// machine load; b.N reads each): raw loopback TCP request/response of 64 KiB
// from memory, each reader on its own connection (the floor for any network
// read here), and pread of the same bytes from a local file.
func BenchmarkRandom64KiB(b *testing.B) {
	const readSize = 64 << 10
	readers := 16
	if v, err := strconv.Atoi(os.Getenv("RINGCACHE_BENCH_READERS")); err == nil && v > 0 {
		readers = v
	}
	under := localStore(b)
	const files, size = 8, 32 << 20
	var paths []string
	for i := range files {
		p := fmt.Sprintf("lake/bench/r-%d.bin", i)
		writeBigFile(b, under, p, size)
		paths = append(paths, p)
	}

	raw := rawTCPConns(b, readSize, readers) // one connection per reader
	// Local pread: the same bytes in local files.
	dir := b.TempDir()
	local := map[string]*os.File{}
	for i, p := range paths {
		buf := make([]byte, size)
		if _, err := under.ReadAt(context.Background(), p, understore.ObjectInfo{}, buf, 0); err != nil && !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
		name := dir + "/" + strconv.Itoa(i)
		if err := os.WriteFile(name, buf, 0o644); err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		local[p] = f
	}
	c := startCluster(b, 3, under, node.Config{PageSize: 1 << 20})
	cl := newClient(b, c, client.Config{})
	if err := cl.Load(context.Background(), "lake/bench/", false, nil); err != nil {
		b.Fatal(err)
	}

	type side struct {
		name string
		read func(w int, p string, buf []byte, off int64) error
		lat  []time.Duration
	}
	sides := []*side{
		{name: "raw-tcp", read: func(w int, _ string, buf []byte, _ int64) error {
			if _, err := raw[w].Write([]byte{1}); err != nil {
				return err
			}
			_, err := io.ReadFull(raw[w], buf)
			return err
		}},
		{name: "local-pread", read: func(_ int, p string, buf []byte, off int64) error {
			_, err := local[p].ReadAt(buf, off)
			return err
		}},
		{name: "ringcache", read: func(_ int, p string, buf []byte, off int64) error {
			_, err := cl.ReadAt(context.Background(), p, buf, off)
			return err
		}},
	}
	rngs := make([]*rand.Rand, readers)
	bufs := make([][]byte, readers)
	lats := make([][]time.Duration, readers)
	for r := range readers {
		rngs[r] = rand.New(rand.NewPCG(uint64(r), 64))
		bufs[r] = make([]byte, readSize)
	}
	const round = 2048
	b.SetBytes(readSize * int64(len(sides)))
	runtime.GC() // the set-up's garbage is not collected during the rounds
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		for _, sd := range sides {
			parallelRound(b, readers, n, func(w, _ int) error {
				p := paths[rngs[w].IntN(files)]
				off := rngs[w].Int64N(size - readSize)
				t0 := time.Now()
				err := sd.read(w, p, bufs[w], off)
				lats[w] = append(lats[w], time.Since(t0))
				return err
			})
			for w := range lats {
				sd.lat = append(sd.lat, lats[w]...)
				lats[w] = lats[w][:0]
			}
		}
	}
	b.StopTimer()
	for _, sd := range sides {
		slices.Sort(sd.lat)
		if len(sd.lat) > 0 {
			b.ReportMetric(float64(sd.lat[len(sd.lat)/2].Microseconds()), sd.name+"-p50-µs")
			b.ReportMetric(float64(sd.lat[len(sd.lat)*99/100].Microseconds()), sd.name+"-p99-µs")
		}
	}
}

// BenchmarkColdVsWarmScan scans a file set (1 GiB by default;
// RINGCACHE_BENCH_SCAN_MIB to change) with 1 MiB reads in order, as a query
// engine scans column chunks, with 20 ms added to every under-store request:
// first cold, then warm, plus the same scan straight from the under-store.
func BenchmarkColdVsWarmScan(b *testing.B) {
	mib := int64(1024)
	if v := os.Getenv("RINGCACHE_BENCH_SCAN_MIB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		mib = n
	}
	const fileMiB = 64
	const delay = 20 * time.Millisecond
	base := localStore(b)
	var paths []string
	for i := range max(1, mib/fileMiB) {
		p := fmt.Sprintf("lake/scan/part-%04d.parquet", i)
		writeBigFile(b, base, p, min(fileMiB, mib)<<20)
		paths = append(paths, p)
	}
	under := delayStore{Store: base, delay: delay}
	scan := func(read func(p string, buf []byte, off int64) (int, error)) time.Duration {
		buf := make([]byte, 1<<20)
		t0 := time.Now()
		for _, p := range paths {
			for off := int64(0); ; off += int64(len(buf)) {
				n, err := read(p, buf, off)
				if errors.Is(err, io.EOF) || n < len(buf) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		return time.Since(t0)
	}
	for range b.N {
		infos := map[string]understore.ObjectInfo{}
		direct := scan(func(p string, buf []byte, off int64) (int, error) {
			// Straight from the under-store, as an engine without a cache
			// reads: one Stat per file, then one ranged GET per read.
			info, ok := infos[p]
			if !ok {
				var err error
				if info, err = under.Stat(context.Background(), p); err != nil {
					return 0, err
				}
				infos[p] = info
			}
			if off >= info.Size {
				return 0, io.EOF
			}
			return under.ReadAt(context.Background(), p, info, buf[:min(int64(len(buf)), info.Size-off)], off)
		})
		c := startCluster(b, 3, under, node.Config{PageSize: 1 << 20, Capacity: 2 * (mib << 20), SyncInterval: time.Hour})
		cl := newClient(b, c, client.Config{})
		read := func(p string, buf []byte, off int64) (int, error) {
			return cl.ReadAt(context.Background(), p, buf, off)
		}
		cold := scan(read)
		warm := scan(read)
		b.ReportMetric(direct.Seconds(), "direct-s")
		b.ReportMetric(cold.Seconds(), "cold-s")
		b.ReportMetric(warm.Seconds(), "warm-s")
		b.ReportMetric(cold.Seconds()/warm.Seconds(), "warm-speedup")
		b.ReportMetric(direct.Seconds()/warm.Seconds(), "vs-direct")
		c.Close(context.Background())
	}
}
