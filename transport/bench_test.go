package transport

// Benchmarks of the page stream against raw loopback TCP, in one run:
//
//	go test -run '^$' -bench . -benchtime 2s -count 1 ./transport
//
// Server and clients run in this one test process (on real loopback
// sockets); the figures in the issue were measured with two processes.

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const (
	benchPage    = 1 << 20
	benchPages   = 32
	benchStreams = 4
)

// BenchmarkRawTCP is the baseline: a server writes 1 MiB buffers from memory
// to 4 connections; the clients read them into reused buffers.
func BenchmarkRawTCP(b *testing.B) {
	addr := startRawServer(b)
	conns := dialRaw(b, addr)
	b.SetBytes(benchPage)
	b.ResetTimer()
	rawRound(b, conns, b.N)
}

// startRawServer runs the baseline server: on each connection it reads a
// page count and writes that many 1 MiB buffers from memory, repeatedly.
func startRawServer(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	src := pattern(1, benchPage)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				var n [8]byte
				for {
					if _, err := io.ReadFull(conn, n[:]); err != nil {
						return
					}
					for range binary.BigEndian.Uint64(n[:]) {
						if _, err := conn.Write(src); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func dialRaw(b *testing.B, addr string) []net.Conn {
	var conns []net.Conn
	for range benchStreams {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		conns = append(conns, conn)
	}
	return conns
}

// rawRound reads pages 1 MiB buffers spread over the connections, each
// client reading into one reused buffer.
func rawRound(b *testing.B, conns []net.Conn, pages int) {
	var wg sync.WaitGroup
	for s, conn := range conns {
		n := pages / len(conns)
		if s < pages%len(conns) {
			n++
		}
		wg.Go(func() {
			var hdr [8]byte
			binary.BigEndian.PutUint64(hdr[:], uint64(n))
			if _, err := conn.Write(hdr[:]); err != nil {
				b.Error(err)
				return
			}
			buf := make([]byte, benchPage)
			for range n {
				if _, err := io.ReadFull(conn, buf); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// benchPageHandler serves an object of benchPages 1 MiB pages, each in its
// own page file at a 4 KiB data offset, with sendfile.
type benchPageHandler struct {
	pages []*testObject
}

func newBenchPageHandler(b *testing.B) *benchPageHandler {
	dir := b.TempDir()
	h := &benchPageHandler{}
	for i := range benchPages {
		h.pages = append(h.pages, newTestObject(b, dir, fmt.Sprintf("page-%d", i), pattern(int64(i), benchPage), benchPage))
	}
	return h
}

func (h *benchPageHandler) ServeRead(ctx context.Context, req *ReadRequest, w ResponseWriter) error {
	size := int64(benchPages * benchPage)
	if err := w.WriteHeader(ReadHeader{Size: size, ETag: "e", Version: 1}); err != nil {
		return err
	}
	end := min(req.Offset+req.Length, size)
	const cs = DefaultChunkSize
	for off := req.Offset; off < end; {
		p := h.pages[off/benchPage]
		pStart := off / benchPage * benchPage
		lo := (off - pStart) / cs * cs
		hi := min((min(end, pStart+benchPage)-pStart+cs-1)/cs*cs, benchPage)
		if err := w.WriteFileSegment(pStart+lo, p.f, p.dataOff+lo, hi-lo, cs, p.crcs[0][lo/cs:(hi+cs-1)/cs]); err != nil {
			return err
		}
		off = pStart + hi
	}
	return nil
}

// BenchmarkStream: 4 clients read whole 1 MiB pages (sendfile from page files
// on the server, CRC verification into reused buffers on the client).
func BenchmarkStream(b *testing.B) {
	ts := startServer(b, ServerConfig{}, nil, newBenchPageHandler(b))
	c := newTestClient(b, ClientConfig{})
	b.SetBytes(benchPage)
	b.ResetTimer()
	streamRound(b, c, ts.addr, 0, b.N)
}

// streamRound reads pages [first, first+pages) (modulo the object) on 4
// goroutines, each into one reused buffer.
func streamRound(b *testing.B, c *Client, addr string, first, pages int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchStreams {
		wg.Go(func() {
			buf := make([]byte, benchPage)
			for {
				i := next.Add(1) - 1
				if i >= int64(pages) {
					return
				}
				off := int64(first+int(i)) % benchPages * benchPage
				req := &ReadRequest{Path: "lake/bench", Offset: off, Length: benchPage}
				if res, err := c.Read(context.Background(), addr, req, buf); err != nil || res.N != benchPage {
					b.Errorf("%s: n=%d err=%v", describe(req), res.N, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkStreamVsRaw alternates rounds of 64 pages of the raw TCP baseline
// and of the page stream, so that both see the same machine load (the CPU is
// shared with other work), and reports both rates and their ratio. b.N pages
// are moved by each side.
func BenchmarkStreamVsRaw(b *testing.B) {
	rawConns := dialRaw(b, startRawServer(b))
	ts := startServer(b, ServerConfig{}, nil, newBenchPageHandler(b))
	c := newTestClient(b, ClientConfig{})
	const round = 64
	var rawTime, streamTime time.Duration
	b.SetBytes(2 * benchPage)
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		t0 := time.Now()
		rawRound(b, rawConns, n)
		t1 := time.Now()
		streamRound(b, c, ts.addr, done, n)
		rawTime += t1.Sub(t0)
		streamTime += time.Since(t1)
	}
	b.StopTimer()
	bytes := float64(b.N) * benchPage
	b.ReportMetric(bytes/rawTime.Seconds()/1e9, "raw-GB/s")
	b.ReportMetric(bytes/streamTime.Seconds()/1e9, "stream-GB/s")
	b.ReportMetric(100*rawTime.Seconds()/streamTime.Seconds(), "stream/raw-%")
}

// BenchmarkRandom64K: 16 readers, 64 KiB reads at random offsets of cached
// page files; reports p50 and p99 latency.
// readers=16 is the bar; readers=1 shows the latency of one read
// without queueing behind the others on 2 cores.
func BenchmarkRandom64K(b *testing.B) {
	for _, readers := range []int{16, 1} {
		b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) { benchRandom(b, readers) })
	}
}

func benchRandom(b *testing.B, readers int) {
	const size = 64 << 10
	ts := startServer(b, ServerConfig{}, nil, newBenchPageHandler(b))
	c := newTestClient(b, ClientConfig{MaxIdlePerAddr: readers})
	b.SetBytes(size)
	lat := make([][]time.Duration, readers)
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for g := range readers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 64))
			buf := make([]byte, size)
			for next.Add(1) <= int64(b.N) {
				req := &ReadRequest{Path: "lake/bench", Offset: r.Int64N(benchPages*benchPage - size), Length: size}
				t0 := time.Now()
				res, err := c.Read(context.Background(), ts.addr, req, buf)
				lat[g] = append(lat[g], time.Since(t0))
				if err != nil || res.N != size {
					b.Errorf("%s: n=%d err=%v", describe(req), res.N, err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
}

// pageMsg carries a page over gRPC in BenchmarkGRPCPages.
type pageMsg struct {
	Index int    `msgpack:"i"`
	Data  []byte `msgpack:"d"`
}

// BenchmarkGRPCPages moves the same 1 MiB pages over gRPC + msgpack (unary
// calls on 4 goroutines, one connection), for comparison with the stream.
func BenchmarkGRPCPages(b *testing.B) {
	h := newBenchPageHandler(b)
	desc := grpc.ServiceDesc{
		ServiceName: "ringcache.bench.Pages",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Get",
			Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				in := new(pageMsg)
				if err := dec(in); err != nil {
					return nil, err
				}
				p := h.pages[in.Index%benchPages]
				out := &pageMsg{Index: in.Index, Data: make([]byte, benchPage)}
				if _, err := p.f.ReadAt(out.Data, p.dataOff); err != nil {
					return nil, err
				}
				return out, nil
			},
		}},
	}
	srv, err := NewServer(ServerConfig{}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	var impl any = struct{}{}
	srv.GRPC().RegisterService(&desc, impl)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	cc, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(Codec{}), grpc.MaxCallRecvMsgSize(4<<20)))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	b.SetBytes(benchPage)
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchStreams {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				out := new(pageMsg)
				if err := cc.Invoke(context.Background(), "/ringcache.bench.Pages/Get", &pageMsg{Index: int(i)}, out); err != nil || len(out.Data) != benchPage {
					b.Errorf("page %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
