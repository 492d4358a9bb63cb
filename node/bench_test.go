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
	"slices"
	"strconv"
	"sync"
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

// benchStreams is how many streams BenchmarkRemoteCachedRead runs: 4, or
// RINGCACHE_BENCH_STREAMS.
func benchStreams() int {
	if v, err := strconv.Atoi(os.Getenv("RINGCACHE_BENCH_STREAMS")); err == nil && v > 0 {
		return v
	}
	return 4
}

// BenchmarkRemoteCachedRead: 4 streams (RINGCACHE_BENCH_STREAMS) reading
// cached 1 MiB pages from a remote node, vs raw loopback TCP moving 1 MiB
// buffers from memory.
func BenchmarkRemoteCachedRead(b *testing.B) {
	const page = 1 << 20
	streams := benchStreams()
	b.Run("raw-tcp", func(b *testing.B) {
		addr, stop := rawTCPServer(b, page)
		defer stop()
		b.SetBytes(page)
		var next sync.Mutex
		left := b.N
		b.ResetTimer()
		var wg sync.WaitGroup
		for range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				buf := make([]byte, page)
				for {
					next.Lock()
					if left == 0 {
						next.Unlock()
						return
					}
					left--
					next.Unlock()
					if _, err := c.Write([]byte{1}); err != nil {
						b.Error(err)
						return
					}
					if _, err := io.ReadFull(c, buf); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
	b.Run("ringcache", func(b *testing.B) {
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
		b.SetBytes(page)
		var next sync.Mutex
		left, i := b.N, 0
		b.ResetTimer()
		var wg sync.WaitGroup
		for range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, page)
				for {
					next.Lock()
					if left == 0 {
						next.Unlock()
						return
					}
					left--
					off := int64(i%(size/page)) * page
					i++
					next.Unlock()
					req := transport.ReadRequest{Path: "lake/bench/remote.bin", Offset: off, Length: page}
					if _, err := peers.Read(context.Background(), owner, &req, buf); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		if misses := clusterMetric(b, c, "ringcache_cache_misses_total", ""); misses > size/page {
			b.Fatalf("pages missed during a warm benchmark: %v", misses)
		}
	})
}

// BenchmarkRandom64KiB: 16 readers doing 64 KiB random reads through the
// SDK on a warm 3-node cluster; reports p50/p99 latency. Baselines in the
// same run: raw loopback TCP request/response of 64 KiB from memory (the
// floor for any network read here), and pread of the same bytes in a local
// file.
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
	run := func(b *testing.B, read func(p string, buf []byte, off int64) error) {
		lat := make([][]time.Duration, readers)
		var next sync.Mutex
		left := b.N
		b.ResetTimer()
		var wg sync.WaitGroup
		for r := range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(r), 64))
				buf := make([]byte, readSize)
				for {
					next.Lock()
					if left == 0 {
						next.Unlock()
						return
					}
					left--
					next.Unlock()
					p := paths[rng.IntN(files)]
					off := rng.Int64N(size - readSize)
					t0 := time.Now()
					if err := read(p, buf, off); err != nil {
						b.Error(err)
						return
					}
					lat[r] = append(lat[r], time.Since(t0))
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		all := slices.Concat(lat...)
		slices.Sort(all)
		if len(all) > 0 {
			b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
		}
		b.SetBytes(readSize)
	}
	b.Run("raw-tcp", func(b *testing.B) {
		// The floor: the same readers, each on its own loopback
		// connection, asking for 64 KiB from memory with one byte.
		addr, stop := rawTCPServer(b, readSize)
		defer stop()
		conns := make(chan net.Conn, readers)
		for range readers {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			conns <- c
		}
		run(b, func(_ string, buf []byte, _ int64) error {
			c := <-conns
			defer func() { conns <- c }()
			if _, err := c.Write([]byte{1}); err != nil {
				return err
			}
			_, err := io.ReadFull(c, buf)
			return err
		})
	})
	b.Run("local-pread", func(b *testing.B) {
		dir := b.TempDir()
		fs := map[string]*os.File{}
		for i, p := range paths {
			f, err := os.Create(dir + "/" + strconv.Itoa(i))
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, size)
			if _, err := under.ReadAt(context.Background(), p, understore.ObjectInfo{}, buf, 0); err != nil && !errors.Is(err, io.EOF) {
				b.Fatal(err)
			}
			f.Write(buf)
			fs[p] = f
			defer f.Close()
		}
		run(b, func(p string, buf []byte, off int64) error {
			_, err := fs[p].ReadAt(buf, off)
			return err
		})
	})
	b.Run("ringcache-3-nodes", func(b *testing.B) {
		c := startCluster(b, 3, under, node.Config{PageSize: 1 << 20})
		cl := newClient(b, c, client.Config{})
		if err := cl.Load(context.Background(), "lake/bench/", false, nil); err != nil {
			b.Fatal(err)
		}
		run(b, func(p string, buf []byte, off int64) error {
			_, err := cl.ReadAt(context.Background(), p, buf, off)
			return err
		})
	})
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
