package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testObject is an object held in one file at dataOff, cut into pages with
// chunk CRCs, as the storage engine's page files would be.
type testObject struct {
	data     []byte
	f        *os.File
	mapped   []byte // f mapped whole (nil for an empty object)
	dataOff  int64
	pageSize int64
	crcs     [][]uint32 // per page
}

func newTestObject(t testing.TB, dir string, name string, data []byte, pageSize int64) *testObject {
	t.Helper()
	const dataOff = 4096
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.WriteAt(data, dataOff); err != nil {
		t.Fatal(err)
	}
	o := &testObject{data: data, f: f, dataOff: dataOff, pageSize: pageSize}
	if len(data) > 0 {
		m, err := unix.Mmap(int(f.Fd()), 0, dataOff+len(data), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		o.mapped = m
		t.Cleanup(func() { unix.Munmap(m) })
	}
	for p := int64(0); p < int64(len(data)); p += pageSize {
		o.crcs = append(o.crcs, ChunkCRCs(nil, data[p:min(p+pageSize, int64(len(data)))], DefaultChunkSize))
	}
	return o
}

// testHandler serves objects page by page: every page the range touches is
// one segment, widened to chunk boundaries (so segments overhang the range).
type testHandler struct {
	objects map[string]*testObject
	memory  bool // WriteSegment instead of WriteFileSegment
	// mapped: WriteMappedSegment instead of WriteFileSegment, counting
	// the segments handed over and their releases.
	mapped           bool
	handed, released atomic.Int64
	// hook, if set, runs first; a non-nil error or done=true ends the read.
	hook func(ctx context.Context, req *ReadRequest, w ResponseWriter) (done bool, err error)
}

func (h *testHandler) ServeRead(ctx context.Context, req *ReadRequest, w ResponseWriter) error {
	if h.hook != nil {
		if done, err := h.hook(ctx, req, w); done || err != nil {
			return err
		}
	}
	o, ok := h.objects[req.Path]
	if !ok {
		return Errorf(StatusNotFound, "no object %s", req.Path)
	}
	size := int64(len(o.data))
	if req.Offset > size {
		return Errorf(StatusOutOfRange, "offset %d past size %d", req.Offset, size)
	}
	if err := w.WriteHeader(ReadHeader{Size: size, ETag: "etag-1", Version: 1, RingVersion: 7}); err != nil {
		return err
	}
	end := min(req.Offset+req.Length, size)
	const cs = DefaultChunkSize
	for off := req.Offset; off < end; {
		page := off / o.pageSize
		pStart := page * o.pageSize
		pLen := min(o.pageSize, size-pStart)
		lo := (off - pStart) / cs * cs
		hi := min(((min(end, pStart+pLen)-pStart)+cs-1)/cs*cs, pLen)
		var err error
		switch {
		case h.memory:
			err = w.WriteSegment(pStart+lo, o.data[pStart+lo:pStart+hi])
		case h.mapped:
			crcs := o.crcs[page][lo/cs : (hi+cs-1)/cs]
			fileOff := o.dataOff + pStart + lo
			h.handed.Add(1)
			err = w.WriteMappedSegment(pStart+lo, o.f, fileOff, o.mapped[fileOff:fileOff+hi-lo], cs, crcs, releaseFunc(func() { h.released.Add(1) }))
		default:
			crcs := o.crcs[page][lo/cs : (hi+cs-1)/cs]
			err = w.WriteFileSegment(pStart+lo, o.f, o.dataOff+pStart+lo, hi-lo, cs, crcs)
		}
		if err != nil {
			return err
		}
		w.Stats().BytesLocal += hi - lo
		w.Stats().PagesHit++
		off = pStart + hi
	}
	return nil
}

// releaseFunc is an io.Closer calling a func.
type releaseFunc func()

func (f releaseFunc) Close() error { f(); return nil }

type testServer struct {
	srv  *Server
	addr string
	done chan error
}

func startServer(t testing.TB, cfg ServerConfig, impl ControlServer, h ReadHandler) *testServer {
	t.Helper()
	if cfg.NodeID == "" {
		cfg.NodeID = "node-a"
	}
	srv, err := NewServer(cfg, impl, h)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, addr: l.Addr().String(), done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-ts.done; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ts
}

func newTestClient(t testing.TB, cfg ClientConfig) *Client {
	t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func pattern(seed int64, n int) []byte {
	b := make([]byte, n)
	x := uint64(seed)*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

func describe(req *ReadRequest) string {
	return fmt.Sprintf("%s@%d+%d", req.Path, req.Offset, req.Length)
}
