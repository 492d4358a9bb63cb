package transport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// oldRequestFrame builds, byte by byte, a request frame as clients sent it
// before FlagPiece and the ReadID suffix (transport/doc.go at 9ce283e): a
// 50-byte fixed body, flags among no-forward, no-cache, verify and
// cached-only, then path, scope and etag, and nothing after them. It uses
// none of the package's encoders, so it stays what an old client sends.
func oldRequestFrame(id uint64, off, length int64, ring, timeoutMicros uint64, flags uint32, path, scope, etag string) []byte {
	body := make([]byte, 50, 50+len(path)+len(scope)+len(etag))
	binary.BigEndian.PutUint64(body[0:], id)
	binary.BigEndian.PutUint64(body[8:], uint64(off))
	binary.BigEndian.PutUint64(body[16:], uint64(length))
	binary.BigEndian.PutUint64(body[24:], ring)
	binary.BigEndian.PutUint64(body[32:], timeoutMicros)
	binary.BigEndian.PutUint32(body[40:], flags)
	binary.BigEndian.PutUint16(body[44:], uint16(len(path)))
	binary.BigEndian.PutUint16(body[46:], uint16(len(scope)))
	binary.BigEndian.PutUint16(body[48:], uint16(len(etag)))
	body = append(append(append(body, path...), scope...), etag...)
	hdr := []byte{1, 0, 0, 0, 0, 0, 0, 0} // type 1 (request), flags, rsvd
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(body)))
	return append(hdr, body...)
}

// oldResponse is a response decoded by hand, as an old client would.
type oldResponse struct {
	id                 uint64
	status, endStatus  uint16
	size               int64
	etag, errMsg, node string
	bytesLocal         int64
	data               []byte // the requested bytes
}

// readOldResponse decodes one response with the old diagram: header,
// segments (every chunk's CRC-32C checked), trailer.
func readOldResponse(t *testing.T, r io.Reader, off, length int64) oldResponse {
	t.Helper()
	frame := func() (byte, []byte) {
		var fh [8]byte
		if _, err := io.ReadFull(r, fh[:]); err != nil {
			t.Fatalf("frame header: %v", err)
		}
		if fh[1] != 0 || fh[2] != 0 || fh[3] != 0 {
			t.Fatalf("frame header % x: nonzero flags or rsvd", fh)
		}
		body := make([]byte, binary.BigEndian.Uint32(fh[4:]))
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatalf("frame body: %v", err)
		}
		return fh[0], body
	}
	typ, b := frame()
	if typ != 2 || len(b) < 38 {
		t.Fatalf("first frame: type %d, %d bytes; want a header", typ, len(b))
	}
	var res oldResponse
	res.id = binary.BigEndian.Uint64(b[0:])
	res.status = binary.BigEndian.Uint16(b[8:])
	res.size = int64(binary.BigEndian.Uint64(b[18:]))
	el, ml := int(binary.BigEndian.Uint16(b[34:])), int(binary.BigEndian.Uint16(b[36:]))
	if 38+el+ml != len(b) {
		t.Fatalf("header lengths do not add up")
	}
	res.etag, res.errMsg = string(b[38:38+el]), string(b[38+el:])
	res.data = make([]byte, 0, length)
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	for {
		typ, b := frame()
		switch typ {
		case 3:
			segOff := int64(binary.BigEndian.Uint64(b[0:]))
			n := int64(binary.BigEndian.Uint32(b[8:]))
			cs := int64(binary.BigEndian.Uint32(b[12:]))
			data := make([]byte, n)
			if _, err := io.ReadFull(r, data); err != nil {
				t.Fatalf("segment data: %v", err)
			}
			for i := int64(0); i*cs < n; i++ {
				chunk := data[i*cs : min((i+1)*cs, n)]
				if got, want := crc32.Checksum(chunk, castagnoli), binary.BigEndian.Uint32(b[16+4*i:]); got != want {
					t.Fatalf("segment at %d chunk %d: CRC %08x, frame says %08x", segOff, i, got, want)
				}
			}
			lo, hi := max(segOff, off+int64(len(res.data))), min(segOff+n, off+length)
			if lo < hi {
				res.data = append(res.data, data[lo-segOff:hi-segOff]...)
			}
		case 4:
			if len(b) < 46 {
				t.Fatalf("short trailer")
			}
			res.endStatus = binary.BigEndian.Uint16(b[0:])
			res.bytesLocal = int64(binary.BigEndian.Uint64(b[2:]))
			nl := int(binary.BigEndian.Uint16(b[42:]))
			res.node = string(b[46 : 46+nl])
			return res
		default:
			t.Fatalf("frame type %d inside a response", typ)
		}
	}
}

// TestOldClientFrame sends requests framed exactly as before FlagPiece and
// the ReadID suffix (no bit 4, no bit 31, nothing after the etag) to the
// current stream server over a real socket, pipelined, and checks each gets
// a correct response: the additions to version 1 are backward compatible.
func TestOldClientFrame(t *testing.T) {
	data := pattern(11, 600_000)
	obj := newTestObject(t, t.TempDir(), "f", data, 256<<10)
	var mu sync.Mutex
	var got []ReadRequest
	h := &testHandler{objects: map[string]*testObject{"lake/f": obj},
		hook: func(_ context.Context, req *ReadRequest, _ ResponseWriter) (bool, error) {
			mu.Lock()
			got = append(got, *req)
			mu.Unlock()
			return false, nil
		}}
	ts := startServer(t, ServerConfig{}, nil, h)

	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	type rq struct {
		off, length int64
		flags       uint32
		path, scope string
	}
	reqs := []rq{
		{1000, 100_000, 0, "lake/f", "lake/"},   // sendfile, chunks overhang
		{300_000, 50_000, 2 | 1, "lake/f", ""},  // no-cache + no-forward, small
		{0, int64(len(data)), 4, "lake/f", "s"}, // verify, whole object, two pages
		{5, 10, 0, "lake/missing", ""},          // an error response
		{-1, 10, 0, "lake/f", ""},               // bad request: the connection stays usable
		{599_990, 100, 0, "lake/f", ""},         // past the end: short
	}
	// Preface "RCPS", version 1, three zero bytes; then every request at
	// once (pipelined).
	out := []byte{'R', 'C', 'P', 'S', 1, 0, 0, 0}
	for i, q := range reqs {
		out = append(out, oldRequestFrame(uint64(i+1), q.off, q.length, 3, 5_000_000, q.flags, q.path, q.scope, "")...)
	}
	if _, err := conn.Write(out); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for i, q := range reqs {
		res := readOldResponse(t, br, q.off, q.length)
		if res.id != uint64(i+1) {
			t.Fatalf("response %d: id %d", i+1, res.id)
		}
		switch {
		case q.path == "lake/missing":
			if res.status != uint16(StatusNotFound) || res.endStatus != uint16(StatusNotFound) || len(res.data) != 0 {
				t.Fatalf("missing object: status %d/%d, %d bytes", res.status, res.endStatus, len(res.data))
			}
		case q.off < 0:
			if res.status != uint16(StatusBadRequest) {
				t.Fatalf("negative offset: status %d", res.status)
			}
		default:
			want := data[q.off:min(q.off+q.length, int64(len(data)))]
			if res.status != 0 || res.endStatus != 0 || res.size != int64(len(data)) || res.etag != "etag-1" || res.node != "node-a" {
				t.Fatalf("request %d: %+v", i+1, res)
			}
			if !bytes.Equal(res.data, want) {
				t.Fatalf("request %d: %d bytes, want %d (or other bytes)", i+1, len(res.data), len(want))
			}
		}
	}
	// The server saw the old fields, and no read ID.
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(reqs)-1 { // the bad request never reaches the handler
		t.Fatalf("handler saw %d requests, want %d", len(got), len(reqs)-1)
	}
	for i, r := range got {
		q := reqs[i]
		if i >= 4 {
			q = reqs[i+1]
		}
		if r.Path != q.path || r.Scope != q.scope || r.Offset != q.off || r.Length != q.length || r.Flags != q.flags || r.ReadID != 0 || r.RingVersion != 3 || r.ETag != "" {
			t.Fatalf("handler got %+v for %+v", r, q)
		}
	}
}

// TestRequestFrameUnchanged checks that today's encoder still writes the
// old frame, byte for byte, for a request without FlagPiece or a read ID,
// and that the read ID is exactly the 8-byte suffix announced by bit 31.
func TestRequestFrameUnchanged(t *testing.T) {
	req := ReadRequest{Path: "lake/f", Offset: 7, Length: 9, RingVersion: 3, Scope: "s", Flags: FlagNoCache | FlagVerify, ETag: "e"}
	got := appendRequest(nil, 5, &req, 1234)
	want := oldRequestFrame(5, 7, 9, 3, 1234, FlagNoCache|FlagVerify, "lake/f", "s", "e")
	if !bytes.Equal(got, want) {
		t.Fatalf("request frame\n got % x\nwant % x", got, want)
	}
	req.Flags |= FlagPiece
	req.ReadID = 0x0102030405060708
	got = appendRequest(nil, 5, &req, 1234)
	want = oldRequestFrame(5, 7, 9, 3, 1234, FlagNoCache|FlagVerify|FlagPiece|1<<31, "lake/f", "s", "e")
	want = binary.BigEndian.AppendUint64(want, req.ReadID)
	binary.BigEndian.PutUint32(want[4:], uint32(len(want)-FrameHeaderSize))
	if !bytes.Equal(got, want) {
		t.Fatalf("request frame with a read ID\n got % x\nwant % x", got, want)
	}
}
