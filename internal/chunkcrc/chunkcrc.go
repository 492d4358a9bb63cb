// Package chunkcrc reads chunked bytes and verifies each chunk's CRC32C:
// the one implementation of "read a group of chunks, then verify them" of
// the client's segment reads (transport) and the store's page reads
// (storage).
//
// Bytes are verified in whole chunks, so a read of a range reads every chunk
// the range touches: chunks wholly inside the range go straight into the
// caller's buffer, the others (the overhanging edges) into a scratch buffer
// from which only the wanted bytes are copied. Chunks are read in groups of
// up to GroupBytes, each group with one call to the source, and verified
// right after it is read, while it is still in the CPU cache.
//
// The package does no I/O of its own: it reads only the io.ReaderAt or
// PieceReader it is given.
package chunkcrc

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Chunks describes chunked bytes: [Start, Start+Length) in the caller's
// offsets (an object's logical offsets, a page's own), cut into Size-byte
// chunks from Start, the last possibly short. CRCs[i] is the CRC32C of
// chunk i.
type Chunks struct {
	Start  int64
	Length int64
	Size   int64
	CRCs   []uint32
}

// Count is the number of chunks of length bytes cut into size-byte chunks.
func Count(length, size int64) int {
	return int((length + size - 1) / size)
}

// Validate reports chunks that cannot be read: a size that is not positive,
// a negative length, or a CRC count that does not match.
func (c Chunks) Validate() error {
	switch {
	case c.Size <= 0:
		return fmt.Errorf("%w: chunk size %d", ErrLayout, c.Size)
	case c.Length < 0:
		return fmt.Errorf("%w: length %d", ErrLayout, c.Length)
	case len(c.CRCs) != Count(c.Length, c.Size):
		return fmt.Errorf("%w: %d CRCs for %d bytes in %d-byte chunks", ErrLayout, len(c.CRCs), c.Length, c.Size)
	}
	return nil
}

// bounds returns chunk k's offset and length.
func (c *Chunks) bounds(k int) (off, n int64) {
	off = c.Start + int64(k)*c.Size
	return off, min(c.Size, c.Start+c.Length-off)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Sum is the CRC32C (Castagnoli) of p: a chunk's checksum.
func Sum(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }

// AppendSums appends to dst the CRC32C of every size-byte chunk of p (the
// last may be short).
func AppendSums(dst []uint32, p []byte, size int) []uint32 {
	for len(p) > 0 {
		n := min(size, len(p))
		dst = append(dst, Sum(p[:n]))
		p = p[n:]
	}
	return dst
}

// Errors. A mismatch is a *MismatchError (errors.Is with ErrMismatch).
var (
	// ErrMismatch: a chunk's bytes do not match its CRC.
	ErrMismatch = errors.New("chunkcrc: chunk CRC mismatch")
	// ErrLayout: the Chunks or the arguments cannot describe a read.
	ErrLayout = errors.New("chunkcrc: bad chunk layout")
	// ErrTruncated: an io.ReaderAt ended inside the chunks. It matches
	// io.ErrUnexpectedEOF too.
	ErrTruncated = fmt.Errorf("chunkcrc: source ends inside a chunk: %w", io.ErrUnexpectedEOF)
)

// MismatchError is a chunk whose bytes do not match its CRC.
type MismatchError struct {
	Index  int   // the chunk's index in Chunks.CRCs
	Offset int64 // the chunk's first byte, in the caller's offsets
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("chunkcrc: chunk %d at offset %d: CRC mismatch", e.Index, e.Offset)
}

// Is makes errors.Is(err, ErrMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }
