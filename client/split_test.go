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
		case err == nil && st.Attempts != len(tc.pcs):
			t.Errorf("%s: stats not summed: %+v", tc.name, st)
		}
	}
}
