package client

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ringcache/ringcache/transport"
)

// TestJoinPieces: the pieces of a split read join into one result only when
// they can be of one version of the file.
func TestJoinPieces(t *testing.T) {
	hdr := transport.ReadHeader{Size: 1000, ETag: "v1"}
	ok := func(n, want int, h transport.ReadHeader) piece {
		return piece{p: make([]byte, want), res: transport.ReadResult{Header: h, N: n}, st: ReadStats{BytesLocal: int64(n), Attempts: 1}}
	}
	pastEnd := piece{p: make([]byte, 10), err: fmt.Errorf("read: %w", transport.ErrOutOfRange), st: ReadStats{Attempts: 1}}
	other := transport.ReadHeader{Size: 1000, ETag: "v2"}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name  string
		pcs   []piece
		n     int
		mixed bool
		err   error
	}{
		{"all full", []piece{ok(10, 10, hdr), ok(10, 10, hdr), ok(5, 5, hdr)}, 25, false, nil},
		{"end in the second", []piece{ok(10, 10, hdr), ok(4, 10, hdr), ok(0, 10, hdr)}, 14, false, nil},
		{"later pieces past the end", []piece{ok(3, 10, hdr), pastEnd, pastEnd}, 3, false, nil},
		{"other version", []piece{ok(10, 10, hdr), ok(10, 10, other)}, 0, true, nil},
		{"other size", []piece{ok(10, 10, hdr), ok(10, 10, transport.ReadHeader{Size: 2000, ETag: "v1"})}, 0, true, nil},
		{"bytes after the end", []piece{ok(4, 10, hdr), ok(2, 10, hdr)}, 0, true, nil},
		{"past an end nobody saw", []piece{ok(10, 10, hdr), pastEnd}, 0, true, nil},
		{"first piece out of range", []piece{pastEnd, pastEnd}, 0, false, transport.ErrOutOfRange},
		{"a piece failed", []piece{ok(10, 10, hdr), {p: make([]byte, 10), err: boom}}, 0, false, boom},
	} {
		res, st, mixed, err := joinPieces(tc.pcs)
		switch {
		case !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil):
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
		case mixed != tc.mixed:
			t.Errorf("%s: mixed %v, want %v", tc.name, mixed, tc.mixed)
		case err == nil && !mixed && res.N != tc.n:
			t.Errorf("%s: %d bytes, want %d", tc.name, res.N, tc.n)
		case err == nil && (st.Attempts != 1 || st.BytesLocal != int64(tc.n) && !mixed):
			t.Errorf("%s: stats not joined (bytes summed, attempts the most of one piece): %+v", tc.name, st)
		}
	}
}

// TestPieceBounds: pieces cover the read exactly, in order, at most n of
// them; over several pages every cut is on a page boundary, within one page
// on 64 KiB from the read's start.
func TestPieceBounds(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		off      int64
		length   int
		n        int
		pageSize int64
		want     []int // nil: check the properties only
	}{
		{0, mib, 4, mib, []int{0, 256 << 10, 512 << 10, 768 << 10, mib}}, // one page: within it
		{0, 4 * mib, 4, mib, []int{0, mib, 2 * mib, 3 * mib, 4 * mib}},
		{mib / 2, 2 * mib, 4, mib, []int{0, mib / 2, 3 * mib / 2, 2 * mib}}, // 3 pages: 3 pieces
		{1000, 2 * mib, 8, 64 << 10, nil},
		{12345, 3*mib + 7, 4, 256 << 10, nil},
		{5, mib, 4, 0, []int{0, 256 << 10, 512 << 10, 768 << 10, mib}}, // page size unknown
	} {
		b := pieceBounds(tc.off, tc.length, tc.n, tc.pageSize)
		if tc.want != nil && fmt.Sprint(b) != fmt.Sprint(tc.want) {
			t.Errorf("pieceBounds(%d, %d, %d, %d) = %v, want %v", tc.off, tc.length, tc.n, tc.pageSize, b, tc.want)
			continue
		}
		if b[0] != 0 || b[len(b)-1] != tc.length || len(b)-1 > tc.n {
			t.Errorf("pieceBounds(%d, %d, %d, %d) = %v: not a cover of the read in at most n pieces", tc.off, tc.length, tc.n, tc.pageSize, b)
		}
		multi := tc.pageSize > 0 && tc.off/tc.pageSize != (tc.off+int64(tc.length)-1)/tc.pageSize
		for i := 1; i < len(b); i++ {
			if b[i] <= b[i-1] {
				t.Errorf("pieceBounds(%d, %d, ...) = %v: not increasing", tc.off, tc.length, b)
			}
			if i < len(b)-1 && multi && (tc.off+int64(b[i]))%tc.pageSize != 0 {
				t.Errorf("pieceBounds(%d, %d, ...) = %v: cut %d inside a page", tc.off, tc.length, b, b[i])
			}
		}
	}
}
