package transport

import (
	"bufio"
	"io"
)

// connReader is the client's buffered reader of a stream connection. Its
// buffer is small: it holds frame headers and CRC lists, while page bytes go
// from the socket straight into the caller's buffers. readFull reads a
// group of chunks with one readv: the chunks inside the requested range into
// dst, the overhanging ones into scratch, and whatever follows (the next
// frame, usually the trailer) into the buffer. A 64 KiB read then costs one
// read system call for its data instead of one per piece plus one for the
// trailer.
//
// readv is Linux only (connreader_linux.go); elsewhere, and for a source
// that is not a socket, readFull reads piece by piece (connreader_other.go).
type connReader struct {
	src  io.Reader
	buf  []byte
	r, w int // buffered bytes are buf[r:w]

	rv readvState // the platform's readv state; see initReadv
}

func newConnReader(src io.Reader, size int) *connReader {
	cr := &connReader{src: src, buf: make([]byte, size)}
	cr.initReadv()
	return cr
}

// fill reads at least one more byte into the buffer, or fails.
func (cr *connReader) fill() error {
	if cr.r > 0 {
		copy(cr.buf, cr.buf[cr.r:cr.w])
		cr.w -= cr.r
		cr.r = 0
	}
	if cr.w == len(cr.buf) {
		return bufio.ErrBufferFull
	}
	for range 100 {
		n, err := cr.src.Read(cr.buf[cr.w:])
		cr.w += n
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// Peek returns the next n bytes without consuming them (n <= buffer size).
func (cr *connReader) Peek(n int) ([]byte, error) {
	if n > len(cr.buf) {
		return nil, bufio.ErrBufferFull
	}
	for cr.w-cr.r < n {
		if err := cr.fill(); err != nil {
			return cr.buf[cr.r:cr.w], err
		}
	}
	return cr.buf[cr.r : cr.r+n], nil
}

// Discard drops n bytes that a Peek returned.
func (cr *connReader) Discard(n int) (int, error) {
	n = min(n, cr.w-cr.r)
	cr.r += n
	return n, nil
}

// Read implements io.Reader: from the buffer, or for a large p straight
// from the connection.
func (cr *connReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if cr.r == cr.w {
		cr.r, cr.w = 0, 0
		if len(p) >= len(cr.buf) {
			return cr.src.Read(p)
		}
		if err := cr.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, cr.buf[cr.r:cr.w])
	cr.r += n
	return n, nil
}

// readFull fills every slice of bufs, in order (it reslices bufs' elements
// as it goes). A connection that ends first is io.ErrUnexpectedEOF.
func (cr *connReader) readFull(bufs [][]byte) error {
	bufs = consume(bufs, 0)
	for len(bufs) > 0 && cr.r < cr.w {
		n := copy(bufs[0], cr.buf[cr.r:cr.w])
		cr.r += n
		bufs = consume(bufs, n)
	}
	if len(bufs) == 0 {
		return nil
	}
	return cr.readDirect(bufs)
}

// ReadPieces is readFull, for chunkcrc.
func (cr *connReader) ReadPieces(bufs [][]byte) error { return cr.readFull(bufs) }

// readPieces fills bufs from the source with one read per slice (or more):
// the portable path of readDirect.
func (cr *connReader) readPieces(bufs [][]byte) error {
	for _, b := range bufs {
		if _, err := io.ReadFull(cr.src, b); err != nil {
			return unexpected(err)
		}
	}
	return nil
}

// consume drops n bytes from the front of bufs, and empty slices.
func consume(bufs [][]byte, n int) [][]byte {
	if len(bufs) > 0 {
		bufs[0] = bufs[0][n:]
	}
	for len(bufs) > 0 && len(bufs[0]) == 0 {
		bufs = bufs[1:]
	}
	return bufs
}
