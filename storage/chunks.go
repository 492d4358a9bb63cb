package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// This file reads a run of a page's chunks and verifies each one.

// readChunks fills p with page bytes [off, off+len(p)), reading whole
// chunks so each can be verified: full chunks straight into p with one
// pread, partial ones through scratch.
func (s *Store) readChunks(f *os.File, crcs []uint32, chunk, length, off int64, p []byte, scratch []byte) error {
	end := off + int64(len(p))
	pos := off
	for pos < end {
		c := pos / chunk
		cStart := c * chunk
		cEnd := min(cStart+chunk, length)
		if pos == cStart && end >= cEnd {
			// Run of whole chunks inside p.
			runEnd := cEnd
			for runEnd < end && min(runEnd+chunk, length) <= end {
				runEnd = min(runEnd+chunk, length)
			}
			// Read in groups of readGroup chunks and verify each group
			// right away, while it is still in the CPU cache.
			for pos < runEnd {
				gEnd := min(pos+readGroupBytes, runEnd)
				dst := p[pos-off : gEnd-off]
				if err := preadFull(f, dst, DataOffset+pos); err != nil {
					return err
				}
				for o := int64(0); o < int64(len(dst)); o += chunk {
					ch := dst[o:min(o+chunk, int64(len(dst)))]
					if crc32c(ch) != crcs[(pos+o)/chunk] {
						return fmt.Errorf("%w: chunk %d CRC mismatch", ErrCorrupt, (pos+o)/chunk)
					}
				}
				pos = gEnd
			}
			continue
		}
		buf := scratch[:cEnd-cStart]
		if err := preadFull(f, buf, DataOffset+cStart); err != nil {
			return err
		}
		if crc32c(buf) != crcs[c] {
			return fmt.Errorf("%w: chunk %d CRC mismatch", ErrCorrupt, c)
		}
		stop := min(end, cEnd)
		copy(p[pos-off:stop-off], buf[pos-cStart:stop-cStart])
		pos = stop
	}
	return nil
}

// readGroupBytes is how much ReadPage reads per pread before verifying the
// chunks in it (measured with 64 KiB chunks as 4 chunks: small enough to
// stay in L2, large enough to amortize the syscall).
const readGroupBytes = 256 << 10

func preadFull(f *os.File, p []byte, off int64) error {
	n, err := f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: page file truncated", ErrCorrupt)
	}
	return fmt.Errorf("storage: reading page: %w", err)
}

// PageHandle is an open page for zero-copy transfer: the page's data lives
