package transport

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkTLSVsPlain reads cached pages from a server over plaintext
// (sendfile, or writev from the mapping for small reads) and over mTLS
// (pread into a buffer, then crypto/tls) in alternating rounds of the same
// run, so both see the same machine load:
//
//	go test -run '^$' -bench TLSVsPlain -benchtime 2000x -count 1 ./transport
//
// It reports both rates, their ratio and the p99 latency of each: the
// issue's bar is TLS at >= 60% of plaintext throughput and p99 <= 1.5x at
// 64 KiB.
func BenchmarkTLSVsPlain(b *testing.B) {
	p := newTestPKI(b)
	h := &mappedBenchHandler{newBenchPageHandler(b)}
	plain := startServer(b, ServerConfig{}, nil, h)
	secure := startServer(b, ServerConfig{TLS: p.node.ServerConfig()}, nil, h)
	for _, size := range []int64{64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			pc := newTestClient(b, ClientConfig{MaxIdlePerAddr: benchStreams})
			tc := newTestClient(b, ClientConfig{TLS: p.client, MaxIdlePerAddr: benchStreams})
			const round = 64
			var plainTime, tlsTime time.Duration
			var plainLat, tlsLat []time.Duration
			b.SetBytes(2 * size)
			b.ResetTimer()
			for done := 0; done < b.N; done += round {
				n := min(round, b.N-done)
				t0 := time.Now()
				plainLat = sizedRound(b, pc, plain.addr, size, done, n, plainLat)
				t1 := time.Now()
				tlsLat = sizedRound(b, tc, secure.addr, size, done, n, tlsLat)
				plainTime += t1.Sub(t0)
				tlsTime += time.Since(t1)
			}
			b.StopTimer()
			bytes := float64(b.N) * float64(size)
			b.ReportMetric(bytes/plainTime.Seconds()/1e6, "plain-MB/s")
			b.ReportMetric(bytes/tlsTime.Seconds()/1e6, "tls-MB/s")
			b.ReportMetric(100*plainTime.Seconds()/tlsTime.Seconds(), "tls/plain-%")
			b.ReportMetric(float64(p99(plainLat).Microseconds()), "plain-p99-µs")
			b.ReportMetric(float64(p99(tlsLat).Microseconds()), "tls-p99-µs")
		})
	}
}

func p99(l []time.Duration) time.Duration {
	if len(l) == 0 {
		return 0
	}
	slices.Sort(l)
	return l[len(l)*99/100]
}

// sizedRound reads n ranges of size bytes on benchStreams goroutines,
// appending each read's latency to lat.
func sizedRound(b *testing.B, c *Client, addr string, size int64, first, n int, lat []time.Duration) []time.Duration {
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	total := int64(benchPages * benchPage)
	for range benchStreams {
		wg.Go(func() {
			buf := make([]byte, size)
			var mine []time.Duration
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					break
				}
				off := (int64(first) + i) * size * 7 % total / size * size // spread over the pages
				req := &ReadRequest{Path: "lake/bench", Offset: off, Length: size}
				t0 := time.Now()
				if res, err := c.Read(context.Background(), addr, req, buf); err != nil || res.N != int(size) {
					b.Errorf("%s: n=%d err=%v", describe(req), res.N, err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return lat
}

// mappedBenchHandler serves the bench pages as the node serves cached
// pages: WriteMappedSegment (writev from the mapping for small responses,
// sendfile for large ones; pread and crypto/tls over TLS).
type mappedBenchHandler struct{ *benchPageHandler }

func (h *mappedBenchHandler) ServeRead(ctx context.Context, req *ReadRequest, w ResponseWriter) error {
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
		fo := p.dataOff + lo
		if err := w.WriteMappedSegment(pStart+lo, p.f, fo, p.mapped[fo:fo+hi-lo], cs, p.crcs[0][lo/cs:(hi+cs-1)/cs], releaseFunc(func() {})); err != nil {
			return err
		}
		off = pStart + hi
	}
	return nil
}
