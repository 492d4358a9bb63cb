package chunkcrc

import (
	"errors"
	"fmt"
	"io"
)

// PieceReader reads the next bytes of a stream into several buffers, in
// order, filling each (as readv does); an end of stream before they are
// full is an error.
type PieceReader interface {
	ReadPieces(pieces [][]byte) error
}

// DefaultGroupBytes is Reader.GroupBytes' default: small enough for a group
// to stay in the CPU cache between its read and its verification, large
// enough to amortize the read call (measured in storage with 64 KiB chunks
// and in the client's readv).
const DefaultGroupBytes = 256 << 10

// Reader reads chunks and verifies them. Its zero value is ready; keeping
// one per connection or per goroutine reuses its piece list. A Reader is
// not safe for concurrent use.
type Reader struct {
	// GroupBytes bounds the bytes read in one call to the source before
	// they are verified (a group has at least one chunk). Zero means
	// DefaultGroupBytes.
	GroupBytes int

	pieces [][]byte
}

// span is one read: the chunks, the wanted range [off, end) and where its
// bytes go.
type span struct {
	c        Chunks
	dst      []byte // bytes [off, end) of the chunks' offsets
	off, end int64
	scratch  []byte
}

// inside reports whether chunk k lies wholly in the wanted range.
func (s *span) inside(k int) bool {
	off, n := s.c.bounds(k)
	return off >= s.off && off+n <= s.end
}

// ReadStream reads every chunk of c from src, which is positioned at
// c.Start, verifying each, and puts the bytes of [off, off+len(dst)) that c
// holds into dst (byte x at dst[x-off]); the rest is read (a stream cannot
// skip) and verified but dropped. Chunks not wholly inside the range go
// through scratch, which must hold a chunk, unless every chunk is inside.
// An end of stream inside the chunks is io.ErrUnexpectedEOF; a mismatch a
// *MismatchError, after which the stream is not at a frame boundary.
func (rd *Reader) ReadStream(src PieceReader, c Chunks, dst []byte, off int64, scratch []byte) error {
	if err := c.Validate(); err != nil {
		return err
	}
	s := span{c: c, dst: dst, off: off, end: off + int64(len(dst)), scratch: scratch}
	for i := 0; i < len(c.CRCs); {
		j, err := rd.group(&s, i, len(c.CRCs))
		if err != nil {
			return err
		}
		rd.pieces = rd.pieces[:0]
		for k, used := i, int64(0); k < j; {
			var p []byte
			p, k, used = s.piece(k, j, used)
			rd.pieces = append(rd.pieces, p)
		}
		err = src.ReadPieces(rd.pieces)
		clear(rd.pieces) // no reference to the caller's buffers stays behind
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		if err := s.verify(i, j); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// ReadAt fills dst with bytes [off, off+len(dst)) of c, which must lie
// within c, reading the chunks that range touches from r, chunk bytes at
// base+(x-c.Start) in r, and verifying each. Chunks not wholly inside the
// range go through scratch, which must hold a chunk. A read that ends
// early is ErrTruncated; another failure of r is returned as it is; a
// mismatch is a *MismatchError.
func (rd *Reader) ReadAt(r io.ReaderAt, base int64, c Chunks, dst []byte, off int64, scratch []byte) error {
	if err := c.Validate(); err != nil {
		return err
	}
	end := off + int64(len(dst))
	if off < c.Start || end > c.Start+c.Length {
		return fmt.Errorf("%w: range [%d, %d) outside chunks [%d, %d)", ErrLayout, off, end, c.Start, c.Start+c.Length)
	}
	if len(dst) == 0 {
		return nil
	}
	s := span{c: c, dst: dst, off: off, end: end, scratch: scratch}
	first, last := int((off-c.Start)/c.Size), Count(end-c.Start, c.Size)
	for i := first; i < last; {
		j, err := rd.group(&s, i, last)
		if err != nil {
			return err
		}
		at, _ := c.bounds(i)
		at += base - c.Start
		for k, used := i, int64(0); k < j; {
			var p []byte
			p, k, used = s.piece(k, j, used)
			if err := readFullAt(r, p, at); err != nil {
				return err
			}
			at += int64(len(p))
		}
		if err := s.verify(i, j); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func readFullAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	switch {
	case n == len(p):
		return nil
	case err == nil || errors.Is(err, io.EOF):
		return ErrTruncated
	}
	return err
}

// group returns the end j of the group of chunks [i, j) that starts at i
// and ends by last: bounded by GroupBytes and by what its chunks not wholly
// inside the range need of scratch (a group has at least one chunk).
func (rd *Reader) group(s *span, i, last int) (j int, err error) {
	limit := int64(rd.GroupBytes)
	if limit <= 0 {
		limit = DefaultGroupBytes
	}
	var group, used int64
	for j = i; j < last; j++ {
		_, n := s.c.bounds(j)
		inside := s.inside(j)
		if !inside && used+n > int64(len(s.scratch)) {
			if j == i {
				return 0, fmt.Errorf("%w: scratch of %d bytes for a %d-byte chunk", ErrLayout, len(s.scratch), n)
			}
			break
		}
		if j > i && group+n > limit {
			break
		}
		if !inside {
			used += n
		}
		group += n
	}
	return j, nil
}

// piece returns the buffer the next bytes of a group go to, from chunk k
// (of a group ending at j) on, and the chunk after it: consecutive chunks
// inside the range are one piece of dst; every other chunk is a piece of
// scratch, after the used bytes of it the group's earlier pieces took.
func (s *span) piece(k, j int, used int64) (p []byte, next int, nowUsed int64) {
	off, n := s.c.bounds(k)
	if !s.inside(k) {
		return s.scratch[used : used+n], k + 1, used + n
	}
	end := off + n
	for next = k + 1; next < j && s.inside(next); next++ {
		_, m := s.c.bounds(next)
		end += m
	}
	return s.dst[off-s.off : end-s.off], next, used
}

// verify checks the chunks [i, j) just read (into piece's buffers) and copies
// the wanted bytes of the edge chunks from scratch into dst.
func (s *span) verify(i, j int) error {
	var used int64
	for k := i; k < j; k++ {
		off, n := s.c.bounds(k)
		inside := s.inside(k)
		var q []byte
		if inside {
			q = s.dst[off-s.off : off-s.off+n]
		} else {
			q = s.scratch[used : used+n]
			used += n
		}
		if Sum(q) != s.c.CRCs[k] {
			return &MismatchError{Index: k, Offset: off}
		}
		if lo, hi := max(off, s.off), min(off+n, s.end); !inside && lo < hi {
			copy(s.dst[lo-s.off:hi-s.off], q[lo-off:hi-off])
		}
	}
	return nil
}
