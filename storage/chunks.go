package storage

import (
	"errors"
	"fmt"
	"os"

	"github.com/ringcache/ringcache/internal/chunkcrc"
)

// This file reads a run of a page's chunks and verifies each one, with the
// chunk reader the transport client uses too (internal/chunkcrc).

// readChunks fills p with page bytes [off, off+len(p)), reading whole
// chunks so each can be verified: full chunks straight into p, partial ones
// through scratch. A CRC mismatch or a short file is ErrCorrupt.
func (s *Store) readChunks(f *os.File, crcs []uint32, chunk, length, off int64, p []byte, scratch []byte) error {
	var rd chunkcrc.Reader
	c := chunkcrc.Chunks{Length: length, Size: chunk, CRCs: crcs}
	err := rd.ReadAt(f, DataOffset, c, p, off, scratch)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, chunkcrc.ErrMismatch):
		var me *chunkcrc.MismatchError // declared here: errors.As moves it to the heap
		if errors.As(err, &me) {
			return fmt.Errorf("%w: chunk %d CRC mismatch", ErrCorrupt, me.Index)
		}
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	case errors.Is(err, chunkcrc.ErrTruncated):
		return fmt.Errorf("%w: page file truncated", ErrCorrupt)
	case errors.Is(err, chunkcrc.ErrLayout):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	default:
		return fmt.Errorf("storage: reading page: %w", err)
	}
}

// PageHandle is an open page for zero-copy transfer: the page's data lives
