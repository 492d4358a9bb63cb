package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"time"
)

// ReadHandler serves page-stream reads; the node implements it.
type ReadHandler interface {
	// ServeRead answers req through w. It sends the header (WriteHeader)
	// before any segment. A returned error becomes the response's status
	// (see StatusOf): in the header if none was sent yet, else in the
	// trailer. ctx ends with the request's deadline or when the client goes
	// away. w (and req) are valid only until ServeRead returns.
	ServeRead(ctx context.Context, req *ReadRequest, w ResponseWriter) error
}

// ReadHandlerFunc adapts a function to ReadHandler.
type ReadHandlerFunc func(ctx context.Context, req *ReadRequest, w ResponseWriter) error

// ServeRead calls f.
func (f ReadHandlerFunc) ServeRead(ctx context.Context, req *ReadRequest, w ResponseWriter) error {
	return f(ctx, req, w)
}

// ResponseWriter sends one response. It is not safe for concurrent use.
type ResponseWriter interface {
	// WriteHeader sends the header; exactly once, before any segment.
	WriteHeader(h ReadHeader) error
	// WriteFileSegment sends length bytes of f at fileOff as the object's
	// bytes at logicalOff, with sendfile on Linux (no copy through user
	// space; elsewhere a copy).
	// crcs[i] is the CRC32C of chunk i (chunkSize bytes, the last may be
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

// streamConn is one page-stream connection on the server.
type streamConn struct {
	s      *Server
	raw    net.Conn      // the accepted connection (writes, deadlines)
	tcp    *net.TCPConn  // raw as TCP, for sendfile; nil if not TCP
	br     *bufio.Reader // holds the sniffed bytes
	bw     *bufio.Writer
	ctx    context.Context
	cancel context.CancelFunc

	w             responseWriter                            // reused by serveOne
	onWait        func(context.CancelFunc, <-chan struct{}) // c.watchHangup, bound once
	cur           streamRequest                             // the request being served: its req is the handler's, with no allocation
	writeDeadline time.Time                                 // as last set on raw

	mu       sync.Mutex
	draining bool // set by Shutdown: stop reading requests, finish the current one
}

type streamRequest struct {
	id      uint64
	req     ReadRequest
	timeout time.Duration
}

// serveStream runs a page-stream connection until it ends.
func (s *Server) serveStream(raw net.Conn, br *bufio.Reader) {
	c := &streamConn{s: s, raw: raw, br: br, bw: bufio.NewWriterSize(raw, 64<<10)}
	c.tcp, _ = raw.(*net.TCPConn)
	c.onWait = c.watchHangup
	c.ctx, c.cancel = context.WithCancel(s.baseCtx)
	defer c.cancel()
	if !s.trackStream(c, true) {
		raw.Close()
		return
	}
	defer s.trackStream(c, false)
	defer raw.Close()

	var pre [PrefaceSize]byte
	if _, err := io.ReadFull(br, pre[:]); err != nil {
		return
	}
	if err := checkPreface(pre[:]); err != nil {
		s.log.Debug("stream preface refused", "remote", raw.RemoteAddr(), "err", err)
		return
	}
	_ = raw.SetReadDeadline(time.Time{}) // the sniff deadline
	if c.isDraining() {
		c.drain() // Shutdown came between the two lines above
	}

	// Requests are read and served by this one goroutine, in order: a
	// pipelined request waits in the socket buffer while the one before it
	// is served. (A separate reader goroutine handing requests over a
	// channel cost a goroutine switch per request, and tail latency under
	// load.) A client that hangs up while the handler waits is noticed by
	// watchHangup; otherwise by the next write or read failing.
	var buf []byte
	for {
		q, body, err := c.readRequest(buf)
		buf = body
		if err != nil {
			if !c.isDraining() && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("stream read failed", "remote", raw.RemoteAddr(), "err", err)
			}
			return
		}
		c.cur = q
		if err := c.serveOne(&c.cur); err != nil {
			s.log.Debug("stream write failed", "remote", raw.RemoteAddr(), "err", err)
			return
		}
	}
}

// readRequest reads and decodes the next request frame, reusing buf.
func (c *streamConn) readRequest(buf []byte) (streamRequest, []byte, error) {
	h, body, err := readFrame(c.br, buf)
	if err != nil {
		return streamRequest{}, body, err
	}
	if h.typ != frameRequest {
		return streamRequest{}, body, fmt.Errorf("%w: frame type %d, want a request", ErrProtocol, h.typ)
	}
	id, req, tmo, err := parseRequest(body)
	if err != nil {
		return streamRequest{}, body, err
	}
	q := streamRequest{id: id, req: req}
	if tmo > 0 {
		q.timeout = time.Duration(min(tmo, uint64(1<<62)/1000)) * time.Microsecond
	}
	return q, body, nil
}

func (c *streamConn) isDraining() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.draining
}

// drain stops reading new requests; queued ones are still answered.
func (c *streamConn) drain() {
	c.mu.Lock()
	c.draining = true
	c.mu.Unlock()
	_ = c.raw.SetReadDeadline(time.Unix(1, 0))
}

// validate checks a decoded request's fields.
func (s *Server) validateRead(r *ReadRequest) error {
	switch {
	case r.Path == "":
		return Errorf(StatusBadRequest, "empty path")
	case len(r.Path) > MaxPathLength || len(r.Scope) > MaxPathLength || len(r.ETag) > MaxPathLength:
		return Errorf(StatusBadRequest, "path, scope or etag longer than %d bytes", MaxPathLength)
	case r.Offset < 0:
		return Errorf(StatusBadRequest, "negative offset %d", r.Offset)
	case r.Length < 0:
		return Errorf(StatusBadRequest, "negative length %d", r.Length)
	case r.Length > s.cfg.MaxRequestLength:
		return Errorf(StatusTooLarge, "length %d over the limit of %d", r.Length, s.cfg.MaxRequestLength)
	}
	return nil
}

// serveOne answers one request; an error means the connection is broken.
func (c *streamConn) serveOne(q *streamRequest) (err error) {
	timeout := c.s.cfg.WriteTimeout
	if q.timeout > 0 {
		timeout = min(timeout, q.timeout)
	}
	now := time.Now()
	rctx := newReqContext(c.ctx, now.Add(timeout))
	rctx.onWait = c.onWait
	defer rctx.release()
	var ctx context.Context = rctx
	// The write deadline keeps a stuck client from pinning this goroutine;
	// slack lets the handler report its own deadline in a trailer. It is
	// moved only when less than timeout+1s is left (to now+2*timeout+1s),
	// not on every request (its timer cost tail latency): a stuck client is
	// cut off after at most 2*WriteTimeout+1s.
	if need := now.Add(timeout + time.Second); c.writeDeadline.Before(need) {
		c.writeDeadline = need.Add(timeout)
		_ = c.raw.SetWriteDeadline(c.writeDeadline)
	}

	// Small responses are assembled in memory (below). Medium ones are
	// corked: header, segment (sendfile) and trailer leave as few full
	// packets, so the reader wakes once or twice per response instead of
	// once per frame. Large responses are not corked: there the frames are
	// negligible and the cork only delays the stream.
	// One writer per connection, reset per request, keeps its buffers.
	w := &c.w
	*w = responseWriter{c: c, id: q.id, req: &q.req, buf: w.buf[:0], crcs: w.crcs[:0], iov: w.iov[:0], held: w.held[:0]}
	defer func() {
		if w.corked {
			c.cork(false)
		}
		w.releaseHeld() // a response that never went out
	}()
	small := q.req.Length <= smallResponseLength
	if !small && q.req.Length <= corkMaxLength {
		c.cork(true)
		w.corked = true
	}
	if small {
		// A small response is assembled whole (page bytes by pread, or
		// referred to in their mapping) and leaves in one write or writev:
		// one syscall instead of write, sendfile, write, and the reader
		// wakes once.
		bp, ok := c.s.smallBufs.Get().(*[]byte)
		if !ok {
			b := make([]byte, 0, smallResponseLength+64<<10)
			bp = &b
		}
		w.small, w.out = true, (*bp)[:0]
		defer func() {
			if cap(w.out) <= 2*smallResponseLength {
				*bp = w.out[:0]
				c.s.smallBufs.Put(bp)
			}
			w.small, w.out = false, nil
		}()
	}
	herr := c.s.validateRead(&q.req)
	if herr == nil {
		herr = c.callHandler(ctx, &q.req, w)
	}
	if w.werr != nil {
		return w.werr
	}
	st, msg := StatusOf(herr)
	if herr != nil && st == StatusInternal {
		c.s.log.Warn("stream read failed", "path", q.req.Path, "err", herr)
	}
	if !w.headerSent {
		// Also the empty OK response of a handler that sent nothing.
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

// flushSmall writes the small response assembled so far: with one write, or
// with one writev when it refers to mapped page bytes. A mapped file
// truncated behind the store's back fails the writev with EFAULT; the
// connection is then broken (part of the response may be out).
func (w *responseWriter) flushSmall() error {
	var err error
	if len(w.iov) == 0 {
		_, err = w.c.raw.Write(w.out)
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
// memory and sent with one write (see serveOne), as long as it stays within
// smallCopyMax bytes: a 64 KiB read with 16 KiB chunks sends ~80 KiB.
const (
	smallResponseLength = 128 << 10
	smallCopyMax        = 96 << 10
)

// hangupPoll is how often a waiting request checks for the client hanging up.
const hangupPoll = 20 * time.Millisecond

// watchHangup cancels a request whose handler waits (it asked for its
// context's Done) when the client closes the connection meanwhile, as a
// reader goroutine would notice, without one per connection: cached reads
// never wait and never pay for it. It polls the socket for a hang-up without
// consuming anything (a pipelined request stays in the socket buffer), with
// a non-blocking poll every hangupPoll, until the request is released. At
// most maxHangupWatchers run per server.
func (c *streamConn) watchHangup(cancel context.CancelFunc, released <-chan struct{}) {
	if c.tcp == nil || !canWatchHangup {
		return
	}
	rc, err := c.tcp.SyscallConn()
	if err != nil {
		return
	}
	select {
	case c.s.watchSlots <- struct{}{}:
	default:
		// Enough watchers already: this request still ends at its
		// deadline or at the next failed write.
		return
	}
	go func() {
		defer func() { <-c.s.watchSlots }()
		tick := time.NewTicker(hangupPoll)
		defer tick.Stop()
		for {
			hup := false
			// A poll that does not block (no thread is pinned while the
			// request waits); Control keeps the descriptor from being
			// closed, and its number reused, while poll looks at it.
			cerr := rc.Control(func(fd uintptr) { hup = peerClosed(fd) })
			if cerr != nil || hup {
				cancel()
				return
			}
			select {
			case <-released:
				return
			case <-tick.C:
			}
		}
	}()
}

// maxHangupWatchers bounds the goroutines watching waiting requests for a
// hang-up (each polls its socket every hangupPoll).
const maxHangupWatchers = 256

// corkMaxLength is the largest request whose response is corked.
const corkMaxLength = 256 << 10

// callHandler runs the handler, turning a panic into StatusInternal: a
// panicking read must not take the node down, nor show its stack remotely.
func (c *streamConn) callHandler(ctx context.Context, req *ReadRequest, w *responseWriter) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.s.log.Error("panic in ReadHandler", "panic", p, "path", req.Path, "stack", string(stack()))
			err = Errorf(StatusInternal, "internal error")
		}
	}()
	return c.s.readHandler.ServeRead(ctx, req, w)
}

type responseWriter struct {
	c          *streamConn
	id         uint64
	req        *ReadRequest
	header     ReadHeader
	headerSent bool
	stats      ReadStats
	buf        []byte
	crcs       []uint32
	werr       error  // sticky: a failed write breaks the connection
	small      bool   // assemble the response in out, sent by serveOne
	out        []byte // the small response so far
	// iov is the small response as writev sends it once it has mapped
	// segments: pieces of out (up to outDone) and mappings, in order.
	iov     net.Buffers
	outDone int
	held    []io.Closer // releases of the mappings in iov
	corked  bool        // the socket is corked: serveOne uncorks when done
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
	w.buf = appendHeader(w.buf[:0], w.id, &h)
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
// refers to mapped, to be written by serveOne.
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
	if w.small && len(mapped) > 0 {
		// No copy at all: the segment joins the writev as a reference to
		// the mapping (request length bounds the response, so it stays
		// small).
		w.out = append(w.out, w.buf...)
		w.iov = append(w.iov, w.out[w.outDone:], mapped)
		w.outDone = len(w.out)
		return true, nil
	}
	if w.small && len(w.out)+int(length) > smallCopyMax {
		// Too many bytes to be worth copying (measured: at 128 KiB the
		// copy cost more than the syscalls it saved): what is assembled
		// goes to the connection buffer, the rest streams with sendfile
		// under a cork that serveOne releases.
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

// copyFileRange writes n bytes of f at off to dst through user space: the
// fallback of sendfile. f's own offset is neither used nor moved.
func copyFileRange(dst io.Writer, f *os.File, off, n int64) error {
	m, err := io.Copy(dst, io.NewSectionReader(f, off, n))
	if err == nil && m < n {
		err = fmt.Errorf("%w: page file shorter than the segment", io.ErrUnexpectedEOF)
	}
	return err
}

// logger returns l or a discarding logger.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
