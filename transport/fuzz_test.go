package transport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// seedResponses are valid and almost-valid responses to request id 1 for
// bytes [off, off+n) of a 200000-byte object: the fuzz corpus starts here.
func seedResponses() []struct {
	b      []byte
	off, n int64
} {
	data := pattern(3, 200000)
	ok := appendHeader(nil, 1, &ReadHeader{Size: int64(len(data)), ETag: "e"}, false)
	seg := func(b []byte, off, n int64) []byte {
		crcs := ChunkCRCs(nil, data[off:off+n], MinChunkSize)
		b = appendSegmentHeader(b, off, n, MinChunkSize, crcs)
		return append(b, data[off:off+n]...)
	}
	full := seg(seg(append([]byte(nil), ok...), 0, 3*MinChunkSize), 3*MinChunkSize, 2*MinChunkSize+7)
	full = appendTrailer(full, StatusOK, "", &ReadStats{BytesLocal: 5, Node: "n"})
	bad := bytes.Clone(full)
	bad[len(ok)+FrameHeaderSize+segmentFixed+4*3+100] ^= 0xff // corrupt data
	notFound := appendTrailer(appendHeader(nil, 1, &ReadHeader{Status: StatusNotFound, Error: "no"}, false), StatusOK, "", &ReadStats{})
	return []struct {
		b      []byte
		off, n int64
	}{
		{full, 0, 5*MinChunkSize + 7},
		{full, 100, 4 * MinChunkSize},
		{full, 5000, 0},
		{bad, 0, 1000},
		{notFound, 0, 10},
		{full[:len(full)/2], 0, 100},
	}
}

func FuzzResponse(f *testing.F) {
	for _, s := range seedResponses() {
		f.Add(s.b, s.off, s.n)
	}
	c, err := NewClient(ClientConfig{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte, off, n int64) {
		if off < 0 || n < 0 || n > 1<<20 {
			return
		}
		req := &ReadRequest{Path: "lake/f", Offset: off, Length: n}
		dst := make([]byte, n)
		cn := &clientConn{addr: "fuzz", br: newConnReader(bytes.NewReader(b), clientReadBuffer)}
		res, _, err := c.readResponse(cn, 1, req, dst)
		if err == nil && (res.N < 0 || res.N > len(dst)) {
			t.Fatalf("N=%d for a %d-byte buffer", res.N, len(dst))
		}
		var keep errStatusKeep
		if err != nil && !errors.As(err, &keep) && !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrCorrupt) &&
			!errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			t.Fatalf("unexpected error type: %v", err)
		}
	})
}

func FuzzRequest(f *testing.F) {
	for _, r := range []ReadRequest{
		{Path: "lake/a/b", Offset: 1 << 40, Length: 1 << 20, RingVersion: 99, Scope: "db/t", Flags: FlagNoForward},
		{Path: "x"},
		{Path: "lake/p", Offset: 4096, Length: 1 << 18, Flags: FlagPiece, ReadID: 0xfeedface},
		{Path: "lake/m", Length: 10, Flags: FlagModTime | FlagCachedOnly, ETag: "e"},
		{},
	} {
		f.Add(appendRequest(nil, 7, &r, 12345))
	}
	srv := &Server{cfg: ServerConfig{}.withDefaults()}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, body, err := readFrame(bufio.NewReader(bytes.NewReader(b)), nil)
		if err != nil || h.typ != frameRequest {
			return
		}
		id, r, tmo, err := parseRequest(body)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error not ErrProtocol: %v", err)
			}
			return
		}
		_ = srv.validateRead(&r) // what the server does next: any answer, no panic
		again := appendRequest(nil, id, &r, tmo)
		if !bytes.Equal(again, b[:FrameHeaderSize+len(body)]) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, b[:FrameHeaderSize+len(body)])
		}
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz from the seeds when
// RINGCACHE_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("RINGCACHE_WRITE_CORPUS") != "1" {
		t.Skip("set RINGCACHE_WRITE_CORPUS=1 to regenerate testdata/fuzz")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzResponse")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seedResponses() {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\nint64(%d)\nint64(%d)\n", strconv.Quote(string(s.b)), s.off, s.n)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir = filepath.Join("testdata", "fuzz", "FuzzRequest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := ReadRequest{Path: "lake/a/b", Offset: 4096, Length: 1 << 20, RingVersion: 5, Scope: "db/t"}
	body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(appendRequest(nil, 1, &r, 1000))))
	if err := os.WriteFile(filepath.Join(dir, "seed-0"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFrameCorpora(t)
}
