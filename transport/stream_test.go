package transport

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ringcache/ringcache/internal/testseed"
)

func objects(t *testing.T) map[string]*testObject {
	dir := t.TempDir()
	m := map[string]*testObject{}
	for i, size := range []int{0, 1, 1000, DefaultChunkSize, 3*256<<10 + 12345, 4 << 20} {
		name := "lake/obj-" + string(rune('a'+i))
		m[name] = newTestObject(t, dir, name[5:], pattern(int64(i), size), 256<<10)
	}
	return m
}

func TestReadRoundTrip(t *testing.T) {
	for _, mode := range []string{"sendfile", "memory", "mapped"} {
		t.Run(mode, func(t *testing.T) {
			r := testseed.Rand(t)
			objs := objects(t)
			h := &testHandler{objects: objs, memory: mode == "memory", mapped: mode == "mapped"}
			// Runs after the server's shutdown (cleanups run last first):
			// every mapped segment handed over was released, once.
			t.Cleanup(func() {
				if h.handed.Load() != h.released.Load() {
					t.Errorf("%d mapped segments handed over, %d released", h.handed.Load(), h.released.Load())
				}
			})
			ts := startServer(t, ServerConfig{}, nil, h)
			c := newTestClient(t, ClientConfig{})
			dst := make([]byte, 5<<20)
			for path, o := range objs {
				size := int64(len(o.data))
				cases := [][2]int64{{0, size}, {0, 0}, {size, 0}, {size / 2, size}}
				for range 20 {
					off := r.Int64N(size + 1)
					cases = append(cases, [2]int64{off, r.Int64N(size - off + 1)})
				}
				// Small reads: assembled in memory, or (over smallCopyMax
				// with the overhanging chunks) sent with sendfile after
				// all, or corked; at random offsets, so chunks overhang.
				for _, l := range []int64{1, 4095, 16 << 10, 64<<10 - 1, 64 << 10, 64<<10 + 1, 100 << 10, 128 << 10, 200 << 10} {
					off := r.Int64N(size + 1)
					cases = append(cases, [2]int64{off, min(l, size-off)})
				}
				for _, tc := range cases {
					req := &ReadRequest{Path: path, Offset: tc[0], Length: tc[1]}
					want := o.data[tc[0]:min(tc[0]+tc[1], size)]
					clear(dst)
					res, err := c.Read(context.Background(), ts.addr, req, dst)
					if err != nil {
						t.Fatalf("%s: %v", describe(req), err)
					}
					if res.N != len(want) || !bytes.Equal(dst[:res.N], want) {
						t.Fatalf("%s: got %d bytes, want %d (equal=%v)", describe(req), res.N, len(want), bytes.Equal(dst[:res.N], want))
					}
					if res.Header.Size != size || res.Header.ETag != "etag-1" || res.Header.RingVersion != 7 {
						t.Fatalf("%s: header %+v", describe(req), res.Header)
					}
					if res.Stats.Node != "node-a" || (len(want) > 0 && res.Stats.BytesLocal < int64(len(want))) {
						t.Fatalf("%s: stats %+v", describe(req), res.Stats)
					}
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	objs := objects(t)
	h := &testHandler{objects: objs}
	h.hook = func(ctx context.Context, req *ReadRequest, w ResponseWriter) (bool, error) {
		switch req.Path {
		case "lake/late-failure":
			// Fails after the header and one segment: the trailer says so.
			if err := w.WriteHeader(ReadHeader{Size: 1 << 20}); err != nil {
				return true, err
			}
			if err := w.WriteSegment(0, make([]byte, 1000)); err != nil {
				return true, err
			}
			return true, ErrChanged
		case "lake/short":
			// A buggy handler: fewer bytes than the object has.
			if err := w.WriteHeader(ReadHeader{Size: 1 << 20}); err != nil {
				return true, err
			}
			return true, w.WriteSegment(0, make([]byte, 1000))
		case "lake/header-status":
			return true, w.WriteHeader(ReadHeader{Status: StatusThrottled, Error: "slow down"})
		case "lake/panic":
			panic("boom in handler")
		}
		return false, nil
	}
	ts := startServer(t, ServerConfig{MaxRequestLength: 1 << 20}, nil, h)
	c := newTestClient(t, ClientConfig{MaxRequestLength: 1 << 30})
	dst := make([]byte, 2<<20)
	ctx := context.Background()
	cases := []struct {
		req    ReadRequest
		status Status
		is     error
	}{
		{ReadRequest{Path: "lake/missing", Length: 10}, StatusNotFound, ErrNotFound},
		{ReadRequest{Path: "lake/obj-c", Offset: 5000, Length: 10}, StatusOutOfRange, ErrOutOfRange},
		{ReadRequest{Path: "lake/obj-f", Length: 2 << 20}, StatusTooLarge, ErrTooLarge},
		{ReadRequest{Path: "lake/late-failure", Length: 1000}, StatusChanged, ErrChanged},
		{ReadRequest{Path: "lake/header-status", Length: 1000}, StatusThrottled, ErrThrottled},
		{ReadRequest{Path: "lake/panic", Length: 1000}, StatusInternal, ErrInternal},
	}
	for _, tc := range cases {
		// Twice: an error response leaves the pooled connection usable.
		for range 2 {
			res, err := c.Read(ctx, ts.addr, &tc.req, dst)
			var se *StatusError
			if !errors.As(err, &se) || se.Status != tc.status || !errors.Is(err, tc.is) || res.N != 0 {
				t.Fatalf("%s: got %v (n=%d), want status %d", describe(&tc.req), err, res.N, tc.status)
			}
			if se.Addr != ts.addr || se.Path != tc.req.Path {
				t.Fatalf("%s: error lacks addr/path: %v", describe(&tc.req), err)
			}
			if tc.status == StatusInternal && bytes.Contains([]byte(err.Error()), []byte("goroutine")) {
				t.Fatalf("stack trace sent to the client: %v", err)
			}
		}
	}
	if n := len(c.idle[ts.addr]); n != 1 {
		t.Fatalf("%d idle connections after clean error responses, want 1 (reused)", n)
	}
	if _, err := c.Read(ctx, ts.addr, &ReadRequest{Path: "lake/short", Length: 5000}, dst); !errors.Is(err, ErrProtocol) {
		t.Fatalf("short response: got %v, want ErrProtocol", err)
	}
	// Refused on the client before sending.
	for _, req := range []ReadRequest{{Path: "", Length: 1}, {Path: "lake/x", Offset: -1}, {Path: "lake/x", Length: 10}} {
		if _, err := c.Read(ctx, ts.addr, &req, dst[:5]); !errors.Is(err, ErrBadRequest) {
			t.Fatalf("%s: got %v, want ErrBadRequest", describe(&req), err)
		}
	}
}

func TestReadCorrupt(t *testing.T) {
	objs := objects(t)
	h := &testHandler{objects: objs}
	h.hook = func(ctx context.Context, req *ReadRequest, w ResponseWriter) (bool, error) {
		if req.Path != "lake/bad" {
			return false, nil
		}
		o := objs["lake/obj-f"]
		if err := w.WriteHeader(ReadHeader{Size: int64(len(o.data))}); err != nil {
			return true, err
		}
		crcs := append([]uint32(nil), o.crcs[0]...)
		crcs[2] ^= 1 // the third chunk's checksum no longer matches
		return true, w.WriteFileSegment(0, o.f, o.dataOff, 256<<10, DefaultChunkSize, crcs)
	}
	ts := startServer(t, ServerConfig{}, nil, h)
	c := newTestClient(t, ClientConfig{})
	dst := make([]byte, 1<<20)
	for _, off := range []int64{0, 100} { // chunk read into dst, and via scratch
		_, err := c.Read(context.Background(), ts.addr, &ReadRequest{Path: "lake/bad", Offset: off, Length: 200 << 10}, dst)
		var ce *CorruptError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.Offset != 2*DefaultChunkSize || ce.Path != "lake/bad" || ce.Addr != ts.addr {
			t.Fatalf("got %v, want CorruptError at %d", err, 2*DefaultChunkSize)
		}
		if n := len(c.idle[ts.addr]); n != 0 {
			t.Fatalf("connection with a corrupt response kept (%d idle)", n)
		}
	}
	// The client goes on working.
	if _, err := c.Read(context.Background(), ts.addr, &ReadRequest{Path: "lake/obj-f", Length: 1 << 20}, dst); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentReads(t *testing.T) {
	seed := testseed.New(t)
	objs := objects(t)
	ts := startServer(t, ServerConfig{}, nil, &testHandler{objects: objs})
	c := newTestClient(t, ClientConfig{MaxIdlePerAddr: 4})
	o := objs["lake/obj-f"]
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		rg := rand.New(rand.NewPCG(seed, uint64(g)))
		wg.Go(func() {
			dst := make([]byte, 1<<20)
			for range 20 {
				off := rg.Int64N(int64(len(o.data)))
				n := rg.Int64N(min(int64(len(dst)), int64(len(o.data))-off) + 1)
				req := &ReadRequest{Path: "lake/obj-f", Offset: off, Length: n}
				res, err := c.Read(context.Background(), ts.addr, req, dst)
				if err != nil || !bytes.Equal(dst[:res.N], o.data[off:off+n]) {
					errs <- errors.New(describe(req) + ": wrong bytes or error: " + errString(err))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(c.idle[ts.addr]); n > 4 {
		t.Fatalf("%d idle connections, max 4", n)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestPipelining sends several requests before reading any response, as the
// wire format allows, and checks the responses come back in order.
func TestPipelining(t *testing.T) {
	objs := objects(t)
	ts := startServer(t, ServerConfig{}, nil, &testHandler{objects: objs})
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	reqs := []ReadRequest{
		{Path: "lake/obj-f", Offset: 10, Length: 300 << 10},
		{Path: "lake/missing", Length: 5},
		{Path: "lake/obj-c", Offset: -3, Length: 5}, // bad request: answered, connection stays
		{Path: "lake/obj-c", Offset: 1, Length: 998},
	}
	b := appendPreface(nil)
	for i := range reqs {
		b = appendRequest(b, uint64(100+i), &reqs[i], 0)
	}
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, ClientConfig{})
	cn := &clientConn{addr: ts.addr, conn: conn, br: newConnReader(conn, clientReadBuffer)}
	wantStatus := []Status{StatusOK, StatusNotFound, StatusBadRequest, StatusOK}
	for i := range reqs {
		dst := make([]byte, reqs[i].Length)
		res, _, err := c.readResponse(cn, uint64(100+i), &reqs[i], dst)
		st := StatusOK
		var keep errStatusKeep
		if errors.As(err, &keep) {
			st = keep.err.Status
		} else if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if st != wantStatus[i] {
			t.Fatalf("response %d: status %d, want %d", i, st, wantStatus[i])
		}
		if st == StatusOK {
			o := objs[reqs[i].Path]
			if !bytes.Equal(dst[:res.N], o.data[reqs[i].Offset:reqs[i].Offset+reqs[i].Length]) {
				t.Fatalf("response %d: wrong bytes", i)
			}
		}
	}
}

// blockingHandler sends a header and a first segment, reports that, and then
// waits for release or the end of its context.
type blockingHandler struct {
	sent     chan struct{}
	release  chan struct{}
	ctxEnded chan error
}

func newBlockingHandler() *blockingHandler {
	return &blockingHandler{sent: make(chan struct{}, 8), release: make(chan struct{}), ctxEnded: make(chan error, 8)}
}

func (h *blockingHandler) ServeRead(ctx context.Context, req *ReadRequest, w ResponseWriter) error {
	if req.Path == "lake/warm" {
		return nil
	}
	data := pattern(1, int(req.Length))
	if err := w.WriteHeader(ReadHeader{Size: req.Length}); err != nil {
		return err
	}
	half := req.Length / 2
	if err := w.WriteSegment(0, data[:half]); err != nil {
		return err
	}
	h.sent <- struct{}{}
	select {
	case <-h.release:
		return w.WriteSegment(half, data[half:])
	case <-ctx.Done():
		h.ctxEnded <- ctx.Err()
		return ctx.Err()
	}
}

func TestReadDeadlineMidResponse(t *testing.T) {
	h := newBlockingHandler()
	ts := startServer(t, ServerConfig{}, nil, h)
	c := newTestClient(t, ClientConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	dst := make([]byte, 1<<20)
	_, err := c.Read(ctx, ts.addr, &ReadRequest{Path: "lake/slow", Length: 1 << 20}, dst)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	<-h.sent
	// The server's handler ends too: by the timeout the request carried,
	// or because the client closed the connection.
	if err := <-h.ctxEnded; err == nil {
		t.Fatal("handler context did not end")
	}
	// The connection is kept only if the server's deadline fired first and
	// it answered with a clean error trailer; otherwise it was closed.
	var se *StatusError
	if n := len(c.idle[ts.addr]); n != 0 && !errors.As(err, &se) {
		t.Fatalf("connection of a read cut by the client's deadline was kept")
	}
}

func TestReadCancelMidResponse(t *testing.T) {
	h := newBlockingHandler()
	ts := startServer(t, ServerConfig{}, nil, h)
	c := newTestClient(t, ClientConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-h.sent
		cancel()
	}()
	_, err := c.Read(ctx, ts.addr, &ReadRequest{Path: "lake/slow", Length: 1 << 20}, make([]byte, 1<<20))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want Canceled", err)
	}
	if err := <-h.ctxEnded; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler context: %v, want Canceled (connection closed)", err)
	}
	// The hang-up watcher gives its slot back.
	deadline := time.Now().Add(10 * time.Second)
	for len(ts.srv.watchSlots) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d hang-up watchers still running", len(ts.srv.watchSlots))
		}
		time.Sleep(time.Millisecond)
	}
}

func TestShutdownDrainsReads(t *testing.T) {
	h := newBlockingHandler()
	srv, err := NewServer(ServerConfig{}, nil, h)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	c := newTestClient(t, ClientConfig{})

	// An idle pooled connection and an in-flight read.
	if _, err := c.Read(context.Background(), addr, &ReadRequest{Path: "lake/warm", Length: 0}, nil); err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, 1<<20)
	readDone := make(chan error, 1)
	go func() {
		res, err := c.Read(context.Background(), addr, &ReadRequest{Path: "lake/slow", Length: 1 << 20}, dst)
		if err == nil && (res.N != 1<<20 || !bytes.Equal(dst, pattern(1, 1<<20))) {
			err = errors.New("wrong bytes")
		}
		readDone <- err
	}()
	<-h.sent
	shutdownDone := make(chan error, 1)
	go func() { shutdownDone <- srv.Shutdown(context.Background()) }()
	// Wait until the listener is closed (new connections refused), then
	// let the in-flight read finish.
	for {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		conn.Close()
	}
	close(h.release)
	if err := <-readDone; err != nil {
		t.Fatalf("in-flight read: %v", err)
	}
	if err := <-shutdownDone; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func TestStaleIdleConnRetried(t *testing.T) {
	objs := objects(t)
	h := &testHandler{objects: objs}
	ts1 := startServer(t, ServerConfig{}, nil, h)
	c := newTestClient(t, ClientConfig{})
	dst := make([]byte, 100)
	req := &ReadRequest{Path: "lake/obj-c", Length: 100}
	if _, err := c.Read(context.Background(), ts1.addr, req, dst); err != nil {
		t.Fatal(err)
	}
	// Break the idle connection from the server side, as a restart would.
	ts1.srv.mu.Lock()
	for sc := range ts1.srv.streams {
		sc.raw.Close()
	}
	ts1.srv.mu.Unlock()
	if _, err := c.Read(context.Background(), ts1.addr, req, dst); err != nil {
		t.Fatalf("read after the idle connection broke: %v", err)
	}
	c.Forget(ts1.addr)
	if n := len(c.idle[ts1.addr]); n != 0 {
		t.Fatalf("%d idle connections after Forget", n)
	}
	if _, err := c.Read(context.Background(), ts1.addr, req, dst); err != nil {
		t.Fatalf("read after Forget: %v", err)
	}
}

// TestProtocolViolations: frames that break the format close the connection
// (the server never guesses); garbage that is not the magic goes to gRPC,
// which refuses it too.
func TestProtocolViolations(t *testing.T) {
	ts := startServer(t, ServerConfig{}, nil, &testHandler{objects: objects(t)})
	huge := appendPreface(nil)
	huge = append(huge, frameRequest, 0, 0, 0, 0xff, 0xff, 0xff, 0xff)
	badVersion := []byte{'R', 'C', 'P', 'S', 9, 0, 0, 0}
	wrongType := appendPreface(nil)
	wrongType = appendHeader(wrongType, 1, &ReadHeader{}, false)
	badLens := appendRequest(appendPreface(nil), 1, &ReadRequest{Path: "lake/x"}, 0)
	badLens[PrefaceSize+FrameHeaderSize+44] = 0xff // path length past the frame
	for name, b := range map[string][]byte{
		"oversized frame": huge, "unknown version": badVersion, "response frame from client": wrongType,
		"inconsistent lengths": badLens, "garbage": []byte("GET / HTTP/1.1\r\n\r\n"),
	} {
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // a bound, not a wait
		buf := make([]byte, 4096)
		var rerr error
		for rerr == nil {
			_, rerr = conn.Read(buf)
		}
		conn.Close()
		if errors.Is(rerr, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: connection left open", name)
		}
	}
}

// TestSmallResponseShortPageFile: a small response is assembled in memory,
// so a page file that turns out shorter than the segment costs the handler
// an error it can report (a clean status to the reader), not a broken
// connection; the next read on the same connection works.
func TestSmallResponseShortPageFile(t *testing.T) {
	data := pattern(3, 64<<10)
	obj := newTestObject(t, t.TempDir(), "short", data, int64(len(data)))
	h := ReadHandlerFunc(func(ctx context.Context, req *ReadRequest, w ResponseWriter) error {
		if err := w.WriteHeader(ReadHeader{Size: int64(len(data)), ETag: "e", Version: 1}); err != nil {
			return err
		}
		if req.Path == "lake/short" {
			// Claims 4 KiB more than the file holds.
			crcs := ChunkCRCs(nil, make([]byte, len(data)+4096), DefaultChunkSize)
			if err := w.WriteFileSegment(0, obj.f, obj.dataOff, int64(len(data))+4096, DefaultChunkSize, crcs); err != nil {
				return Errorf(StatusInternal, "page file: %v", err)
			}
			return nil
		}
		return w.WriteFileSegment(0, obj.f, obj.dataOff, int64(len(data)), DefaultChunkSize, obj.crcs[0])
	})
	ts := startServer(t, ServerConfig{}, nil, h)
	c := newTestClient(t, ClientConfig{MaxIdlePerAddr: 1})
	dst := make([]byte, len(data))
	_, err := c.Read(context.Background(), ts.addr, &ReadRequest{Path: "lake/short", Length: int64(len(data))}, dst)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != StatusInternal {
		t.Fatalf("short page file: %v, want a StatusInternal error", err)
	}
	if n := len(c.idle[ts.addr]); n != 1 {
		t.Fatalf("%d idle connections after a clean error response, want 1 (kept)", n)
	}
	res, err := c.Read(context.Background(), ts.addr, &ReadRequest{Path: "lake/ok", Length: int64(len(data))}, dst)
	if err != nil || res.N != len(data) || !bytes.Equal(dst, data) {
		t.Fatalf("read after the error: n=%d err=%v", res.N, err)
	}
}
