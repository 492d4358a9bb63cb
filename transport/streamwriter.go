package transport

import (
	"fmt"
	"io"
	"net"
	"os"
	"slices"
)

// ResponseWriter sends one response. It is not safe for concurrent use.
type ResponseWriter interface {
	// WriteHeader sends the header; exactly once, before any segment.
	WriteHeader(h ReadHeader) error
	// WriteFileSegment sends length bytes of f at fileOff as the object's
	// bytes at logicalOff, with sendfile on Linux (no copy through user
	// space; elsewhere through a buffer). crcs[i] is the CRC32C of chunk i (chunkSize bytes, the last may be
	// short) of those bytes; the client verifies them. f is not read through
	// its file offset, so handles may be shared.
	WriteFileSegment(logicalOff int64, f *os.File, fileOff, length int64, chunkSize int, crcs []uint32) error
	// WriteMappedSegment is WriteFileSegment for bytes [fileOff,
	// fileOff+len(mapped)) of f that the caller also has mapped in memory.
	// A small response sends them with writev straight from the mapping
	// after the handler returns (the kernel copies them once; they are
	// never read in user space, where a truncated file would raise
	// SIGBUS); a larger one uses sendfile from f at once. The writer takes
	// over release, even on error, and closes it when it no longer needs
	// the mapping or f.
	WriteMappedSegment(logicalOff int64, f *os.File, fileOff int64, mapped []byte, chunkSize int, crcs []uint32, release io.Closer) error
	// WriteSegment sends data as the object's bytes at logicalOff; CRCs are
	// computed over DefaultChunkSize chunks.
	WriteSegment(logicalOff int64, data []byte) error
	// Stats is the trailer's statistics; the handler fills it in.
	Stats() *ReadStats
}

// responseWriter is the stream server's ResponseWriter, one per connection.
type responseWriter struct {
	c          *streamConn
	id         uint64
	req        *ReadRequest
	header     ReadHeader
	headerSent bool
	stats      ReadStats
	buf        []byte
	crcs       []uint32
	werr       error   // sticky: a failed write breaks the connection
	small      bool    // assemble the response in out, sent by finish
	out        []byte  // the small response so far
	outBuf     *[]byte // the pooled buffer out came from; endResponse returns it
	// iov is the small response as writev sends it once it has mapped
	// segments: pieces of out (up to outDone) and mappings, in order.
	iov     net.Buffers
	outDone int
	held    []io.Closer // releases of the mappings in iov
	corked  bool        // the socket is corked: endResponse uncorks it
}

// finish sends what the handler's outcome herr leaves to send: the header
// if the handler sent none (also the empty OK response of a handler that
// sent nothing) and the trailer, whose status is herr's, or the header's if
// that was not OK.
func (w *responseWriter) finish(herr error) error {
	c := w.c
	st, msg := StatusOf(herr)
	if herr != nil && st == StatusInternal {
		c.s.log.Warn("stream read failed", "path", w.req.Path, "err", herr)
	}
	if !w.headerSent {
		if err := w.WriteHeader(ReadHeader{Status: st, Error: msg}); err != nil {
			return err
		}
	} else if w.header.Status != StatusOK && st == StatusOK {
		st, msg = w.header.Status, w.header.Error
	}
	if w.stats.Node == "" {
		w.stats.Node = c.s.cfg.NodeID
	}
	w.buf = appendTrailer(w.buf[:0], st, msg, &w.stats)
	if w.small {
		w.out = append(w.out, w.buf...)
		return w.flushSmall() // nothing is buffered in bw
	}
	if _, err := c.bw.Write(w.buf); err != nil {
		return err
	}
	return c.bw.Flush()
}

// put sends p, or appends it to the small response.
func (w *responseWriter) put(p []byte) error {
	if w.small {
		w.out = append(w.out, p...)
		return nil
	}
	_, w.werr = w.c.bw.Write(p)
	return w.werr
}

func (w *responseWriter) Stats() *ReadStats { return &w.stats }

func (w *responseWriter) WriteHeader(h ReadHeader) error {
	if w.werr != nil {
		return w.werr
	}
	if w.headerSent {
		return ErrHeaderSent
	}
	w.headerSent = true
	w.header = h
	w.buf = appendHeader(w.buf[:0], w.id, &h, w.req.Flags&FlagModTime != 0)
	return w.put(w.buf)
}

func (w *responseWriter) checkSegment(logicalOff, length int64, chunkSize, ncrcs int) error {
	if w.werr != nil {
		return w.werr
	}
	if !w.headerSent {
		return ErrNoHeader
	}
	if w.header.Status != StatusOK {
		return fmt.Errorf("%w: segment after a non-OK header", ErrProtocol)
	}
	return checkSegment(logicalOff, length, chunkSize, ncrcs)
}

func (w *responseWriter) WriteSegment(logicalOff int64, data []byte) error {
	for len(data) > 0 {
		n := min(len(data), MaxSegmentLength)
		w.crcs = ChunkCRCs(w.crcs[:0], data[:n], DefaultChunkSize)
		if err := w.checkSegment(logicalOff, int64(n), DefaultChunkSize, len(w.crcs)); err != nil {
			return err
		}
		w.buf = appendSegmentHeader(w.buf[:0], logicalOff, int64(n), DefaultChunkSize, w.crcs)
		if err := w.put(w.buf); err != nil {
			return err
		}
		if err := w.put(data[:n]); err != nil {
			return err
		}
		data, logicalOff = data[n:], logicalOff+int64(n)
	}
	return nil
}

func (w *responseWriter) WriteFileSegment(logicalOff int64, f *os.File, fileOff, length int64, chunkSize int, crcs []uint32) error {
	_, err := w.writeFileSegment(logicalOff, f, fileOff, length, nil, chunkSize, crcs)
	return err
}

func (w *responseWriter) WriteMappedSegment(logicalOff int64, f *os.File, fileOff int64, mapped []byte, chunkSize int, crcs []uint32, release io.Closer) error {
	if release == nil {
		return fmt.Errorf("%w: a mapped segment needs its release", ErrBadRequest)
	}
	queued, err := w.writeFileSegment(logicalOff, f, fileOff, int64(len(mapped)), mapped, chunkSize, crcs)
	if !queued {
		// Sent with sendfile, or failed: the mapping is not needed any more.
		release.Close()
		return err
	}
	w.held = append(w.held, release)
	return nil
}

// writeFileSegment sends length bytes of f at fileOff; mapped, if not nil,
// holds the same bytes in memory. queued reports that the small response
// refers to mapped, to be written by finish.
func (w *responseWriter) writeFileSegment(logicalOff int64, f *os.File, fileOff, length int64, mapped []byte, chunkSize int, crcs []uint32) (queued bool, err error) {
	if length == 0 && len(crcs) == 0 && w.headerSent {
		return false, w.werr
	}
	if err := w.checkSegment(logicalOff, length, chunkSize, len(crcs)); err != nil {
		return false, err
	}
	if fileOff < 0 {
		return false, fmt.Errorf("%w: negative file offset", ErrBadRequest)
	}
	w.buf = appendSegmentHeader(w.buf[:0], logicalOff, length, chunkSize, crcs)
	if w.small && len(mapped) > 0 && w.c.sendfileOK {
		// No copy at all: the segment joins the writev as a reference to
		// the mapping (request length bounds the response, so it stays
		// small). Not over TLS: the cipher would read the mapping in user
		// space, where a truncated page file raises SIGBUS; the bytes are
		// read with pread below instead.
		w.out = append(w.out, w.buf...)
		w.iov = append(w.iov, w.out[w.outDone:], mapped)
		w.outDone = len(w.out)
		return true, nil
	}
	if w.small && len(w.out)+int(length) > smallCopyMax {
		// Too many bytes to be worth copying (measured: at 128 KiB the
		// copy cost more than the syscalls it saved): what is assembled
		// goes to the connection buffer, the rest streams with sendfile
		// under a cork that endResponse releases.
		w.c.cork(true)
		w.corked = true
		w.small = false
		if w.werr = w.flushSmall(); w.werr != nil {
			return false, w.werr
		}
	}
	if w.small {
		// Nothing is on the wire yet: a failed pread takes the segment
		// back, and the handler can still report the error cleanly.
		mark := len(w.out)
		w.out = append(w.out, w.buf...)
		start := len(w.out)
		w.out = slices.Grow(w.out, int(length))[:start+int(length)]
		if _, err := f.ReadAt(w.out[start:], fileOff); err != nil {
			w.out = w.out[:mark]
			return false, fmt.Errorf("transport: reading %d bytes of %s at %d: %w", length, f.Name(), fileOff, err)
		}
		return false, nil
	}
	if _, w.werr = w.c.bw.Write(w.buf); w.werr != nil {
		return false, w.werr
	}
	// From here on a failure leaves a partial segment on the wire: the
	// connection is broken whatever the cause.
	if w.werr = w.c.bw.Flush(); w.werr != nil {
		return false, w.werr
	}
	w.werr = w.c.sendFile(f, fileOff, length)
	return false, w.werr
}

// copyFileRange writes n bytes of f at off to the connection through user
// space: the fallback of sendfile, and the path of every page byte on a
// TLS connection. Each piece is read with pread into the connection's
// buffer and written from there: crypto/tls encrypts it straight into its
// record, so the bytes are copied once into user space and once by the
// cipher, nothing more. f's own offset is neither used nor moved.
func (c *streamConn) copyFileRange(f *os.File, off, n int64) error {
	if c.fileBuf == nil {
		c.fileBuf = make([]byte, fileCopyBuffer)
	}
	for n > 0 {
		p := c.fileBuf[:min(n, int64(len(c.fileBuf)))]
		m, err := f.ReadAt(p, off)
		if m < len(p) {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("%w: page file shorter than the segment", io.ErrUnexpectedEOF)
			}
			return err
		}
		if err := c.writeRaw(p); err != nil {
			return err
		}
		off, n = off+int64(m), n-int64(m)
	}
	return nil
}

// fileCopyBuffer is the piece copyFileRange reads and writes at once: 16
// TLS records of 16 KiB, few enough syscalls per MiB.
const fileCopyBuffer = 256 << 10

// flushSmall writes the small response assembled so far: with one write, or
// with one writev when it refers to mapped page bytes. A mapped file
// truncated behind the store's back fails the writev with EFAULT; the
// connection is then broken (part of the response may be out).
func (w *responseWriter) flushSmall() error {
	var err error
	if len(w.iov) == 0 {
		err = w.c.writeRaw(w.out)
	} else {
		w.iov = append(w.iov, w.out[w.outDone:])
		keep := w.iov
		_, err = w.iov.WriteTo(w.c.raw) // consumes w.iov
		w.iov = keep
	}
	w.out, w.outDone = w.out[:0], 0
	w.releaseHeld()
	return err
}

// releaseHeld closes the releases of mappings the response referred to.
func (w *responseWriter) releaseHeld() {
	for i, r := range w.held {
		r.Close()
		w.held[i] = nil
	}
	w.held = w.held[:0]
	clear(w.iov[:cap(w.iov)])
	w.iov = w.iov[:0]
}

// smallResponseLength is the largest request whose response is assembled in
// memory and sent with one write (see startResponse), as long as it stays
// within smallCopyMax bytes: a 64 KiB read with 16 KiB chunks sends ~80 KiB.
const (
	smallResponseLength = 128 << 10
	smallCopyMax        = 96 << 10
)

// corkMaxLength is the largest request whose response is corked.
const corkMaxLength = 256 << 10
