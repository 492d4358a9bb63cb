//go:build !linux

package transport

// readvState is empty: readv is used on Linux only. The page bytes still go
// from the socket straight into the caller's buffers, with one read per
// piece instead of one readv per group.
type readvState struct{}

func (cr *connReader) initReadv() {}

// readDirect fills bufs from the source, piece by piece.
func (cr *connReader) readDirect(bufs [][]byte) error { return cr.readPieces(bufs) }
