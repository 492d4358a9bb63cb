package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ringcache/ringcache/transport"
)

// pieces is how many pieces a read of n bytes is split into.
func (c *Client) pieces(n int) int {
	return min(c.cfg.ReadParallelism, n/c.cfg.SplitSize)
}

// readSplit reads p as up to n pieces at once, each on its own stream (and
// each with its own failover). The pieces are separate requests, so a file
// that changes meanwhile could hand back pieces of two versions: the pieces'
// versions are compared, and a mixed read is done again as one request.
func (c *Client) readSplit(ctx context.Context, path string, p []byte, off int64, o readOpts, n int) (transport.ReadResult, ReadStats, error) {
	start := time.Now()
	bounds := pieceBounds(off, len(p), n, c.view.Load().pageSize)
	pcs := make([]piece, len(bounds)-1)
	for i := range pcs {
		pcs[i] = piece{off: off + int64(bounds[i]), p: p[bounds[i]:bounds[i+1]]}
	}
	// One ID for all pieces: a page one piece fetched is, for the others,
	// part of the same read's fetch, not a hit.
	readID := rand.Uint64() | 1
	var wg sync.WaitGroup
	for i := 1; i < len(pcs); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pc := &pcs[i]
			pc.res, pc.st, pc.err = c.read(ctx, path, pc.p, pc.off, o, transport.FlagPiece, readID)
		}()
	}
	pcs[0].res, pcs[0].st, pcs[0].err = c.read(ctx, path, pcs[0].p, off, o, 0, readID)
	wg.Wait()

	res, st, mixed, err := joinPieces(pcs)
	st.Pieces = len(pcs)
	if mixed {
		again, st2, err2 := c.read(ctx, path, p, off, o, 0, 0)
		st.add(st2)
		res, err = again, err2
	}
	st.Latency = time.Since(start)
	return res, st, err
}

// pieceBounds cuts a read of length bytes at off into at most n pieces of
// about equal size and returns their bounds relative to off (first 0, last
// length). A read over several pages is cut at page boundaries, so that no
// two pieces share a page (each page is fetched and counted by one piece);
// within one page (or when the page size is unknown) it is cut on 64 KiB
// bounds, and the node keeps the stats exact (FlagPiece, ReadID).
func pieceBounds(off int64, length, n int, pageSize int64) []int {
	const align = 64 << 10
	size := (length/n + align - 1) &^ (align - 1)
	spansPages := pageSize > 0 && off/pageSize != (off+int64(length)-1)/pageSize
	b := []int{0}
	for i := 1; i < n; i++ {
		cut := int64(i * size)
		if spansPages {
			abs := off + cut
			abs = (abs + pageSize/2) / pageSize * pageSize // nearest page boundary
			cut = abs - off
		}
		if cut > int64(b[len(b)-1]) && cut < int64(length) {
			b = append(b, int(cut))
		}
	}
	return append(b, length)
}

// piece is one part of a split read: p is its slice of the caller's buffer.
type piece struct {
	off int64
	p   []byte
	res transport.ReadResult
	st  ReadStats
	err error
}

// joinPieces makes one result of the pieces of a split read, in order: their
// bytes up to the first short piece (the end of the file), their stats
// summed but for Attempts (the most of any one piece). mixed reports pieces that cannot be of one version of the file
// (different ETag or size, bytes or an out-of-range past an end another
// piece saw); the caller reads again.
func joinPieces(pcs []piece) (res transport.ReadResult, st ReadStats, mixed bool, err error) {
	res.Header = pcs[0].res.Header
	end := false
	for i := range pcs {
		pc := &pcs[i]
		attempts := max(st.Attempts, pc.st.Attempts)
		st.add(pc.st)
		st.Attempts = attempts // the pieces ran side by side
		switch {
		case pc.err != nil && errors.Is(pc.err, transport.ErrOutOfRange) && i > 0:
			// Wholly past the end of the file: expected after a short
			// piece, a sign of a change after a full one.
			mixed = mixed || !end
		case pc.err != nil:
			return transport.ReadResult{}, st, false, pc.err
		case pc.res.Header.ETag != res.Header.ETag || pc.res.Header.Size != res.Header.Size:
			mixed = true
		case end:
			mixed = mixed || pc.res.N > 0
		default:
			res.N += pc.res.N
			end = pc.res.N < len(pc.p)
		}
	}
	return res, st, mixed, nil
}
