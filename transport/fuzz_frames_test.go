package transport

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The page-stream frames a client decodes (header, segment, trailer; the
// server's request frame is FuzzRequest): each must decode or fail with
// ErrProtocol, and what decodes must encode to the same bytes.

func seedHeaders() []struct {
	b           []byte
	withModTime bool
} {
	ok := &ReadHeader{Size: 200000, ETag: "e", RingVersion: 7, Version: 3}
	mt := &ReadHeader{Size: 1, ETag: "etag", ModTime: time.Unix(1700000000, 5)}
	body := func(b []byte) []byte { return b[FrameHeaderSize:] }
	return []struct {
		b           []byte
		withModTime bool
	}{
		{body(appendHeader(nil, 1, ok, false)), false},
		{body(appendHeader(nil, 2, mt, true)), true},
		{body(appendHeader(nil, 3, &ReadHeader{}, true)), true}, // zero mod time
		{body(appendHeader(nil, 4, ok, false)), true},           // a server that predates FlagModTime
		{body(appendHeader(nil, 5, &ReadHeader{Status: StatusNotFound, Error: "no such object"}, false)), false},
	}
}

func FuzzHeader(f *testing.F) {
	for _, s := range seedHeaders() {
		f.Add(s.b, s.withModTime)
	}
	f.Fuzz(func(t *testing.T, p []byte, withModTime bool) {
		id, h, err := parseHeader(p, withModTime)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error not ErrProtocol: %v", err)
			}
			return
		}
		if h.Size < 0 {
			t.Fatalf("negative size %d accepted", h.Size)
		}
		if clip(h.ETag) != h.ETag || clip(h.Error) != h.Error {
			return // longer than a server sends; clip would cut it
		}
		suffix := len(p) != headerFixed+len(h.ETag)+len(h.Error)
		again := appendHeader(nil, id, &h, suffix)[FrameHeaderSize:]
		if !bytes.Equal(again, p) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, p)
		}
	})
}

func seedSegments() [][]byte {
	data := pattern(5, 3*MinChunkSize+11)
	seg := func(off int64, p []byte, chunk int) []byte {
		return appendSegmentHeader(nil, off, int64(len(p)), chunk, ChunkCRCs(nil, p, chunk))[FrameHeaderSize:]
	}
	return [][]byte{
		seg(0, data, MinChunkSize),
		seg(1<<40, data[:100], DefaultChunkSize),
		seg(5, data[:MinChunkSize], MinChunkSize),
	}
}

func FuzzSegment(f *testing.F) {
	for _, s := range seedSegments() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		s, err := parseSegment(p, nil)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error not ErrProtocol: %v", err)
			}
			return
		}
		if err := checkSegment(s.off, s.length, s.chunkSize, len(s.crcs)); err != nil {
			t.Fatalf("parsed segment fails its own check: %v", err)
		}
		again := appendSegmentHeader(nil, s.off, s.length, s.chunkSize, s.crcs)[FrameHeaderSize:]
		if !bytes.Equal(again, p) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, p)
		}
	})
}

func seedTrailers() []struct {
	b    []byte
	prev string
} {
	st := &ReadStats{BytesLocal: 1 << 20, BytesPeer: 5, BytesUnderstore: -1, PagesHit: 3, PagesMissed: 1, Node: "node-a"}
	body := func(b []byte) []byte { return b[FrameHeaderSize:] }
	return []struct {
		b    []byte
		prev string
	}{
		{body(appendTrailer(nil, StatusOK, "", st)), ""},
		{body(appendTrailer(nil, StatusOK, "", st)), "node-a"},
		{body(appendTrailer(nil, StatusChanged, "object changed", &ReadStats{})), "x"},
	}
}

func FuzzTrailer(f *testing.F) {
	for _, s := range seedTrailers() {
		f.Add(s.b, s.prev)
	}
	f.Fuzz(func(t *testing.T, p []byte, prev string) {
		st, msg, s, err := parseTrailer(p, prev)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error not ErrProtocol: %v", err)
			}
			return
		}
		if clip(s.Node) != s.Node || clip(msg) != msg {
			return
		}
		again := appendTrailer(nil, st, msg, &s)[FrameHeaderSize:]
		if !bytes.Equal(again, p) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, p)
		}
	})
}

// writeFrameCorpora writes the seeds of the fuzz targets above, and of
// FuzzControlMessages, to testdata/fuzz (TestWriteFuzzCorpus).
func writeFrameCorpora(t *testing.T) {
	write := func(target string, i int, lines ...string) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := "go test fuzz v1\n"
		for _, l := range lines {
			body += l + "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bytesLit := func(b []byte) string { return "[]byte(" + strconv.Quote(string(b)) + ")" }
	for i, s := range seedHeaders() {
		write("FuzzHeader", i, bytesLit(s.b), fmt.Sprintf("bool(%v)", s.withModTime))
	}
	for i, s := range seedSegments() {
		write("FuzzSegment", i, bytesLit(s))
	}
	for i, s := range seedTrailers() {
		write("FuzzTrailer", i, bytesLit(s.b), "string("+strconv.Quote(s.prev)+")")
	}
	for i, m := range seedMessages() {
		enc, err := Codec{}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		write("FuzzControlMessages", i, bytesLit(enc.Materialize()))
	}
}
