package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
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

// streamConn is one page-stream connection on the server.
type streamConn struct {
	s   *Server
	raw net.Conn     // the connection (writes, deadlines): TCP, or TLS over it
	tcp *net.TCPConn // the TCP socket under raw (cork, hang-up watch); nil if not TCP
	// sendfileOK says page bytes may go to tcp with sendfile: raw is tcp
	// itself, not TLS (Go's crypto/tls has no kernel TLS).
	sendfileOK bool
	// refuse, if set, answers every request (a plaintext client of a TLS
	// port).
	refuse error
	// fileBuf is copyFileRange's buffer, made on first use.
	fileBuf []byte
	// batch, on a TLS connection, gathers the records of one write into
	// one system call (see batchConn); nil otherwise.
	batch  *batchConn
	br     *bufio.Reader // holds the sniffed bytes
	bw     *bufio.Writer
	ctx    context.Context
	cancel context.CancelFunc

	w             responseWriter                            // reused by serveOne
	onWait        func(context.CancelFunc, <-chan struct{}) // c.watchHangup, bound once
	cur           streamRequest                             // the request being served: its req is the handler's, with no allocation
	writeDeadline time.Time                                 // as last set on raw
	readDeadline  time.Time                                 // as last set on raw by armReadDeadline

	mu       sync.Mutex
	draining bool // set by Shutdown: stop reading requests, finish the current one
}

type streamRequest struct {
	id      uint64
	req     ReadRequest
	timeout time.Duration
}

// serveStream runs a page-stream connection until it ends. raw is the
// connection (TLS or TCP), tcp the TCP socket under it; refuse, if set,
// answers every request.
func (s *Server) serveStream(raw net.Conn, tcp *net.TCPConn, br *bufio.Reader, refuse error) {
	c := &streamConn{s: s, raw: raw, tcp: tcp, br: br, bw: bufio.NewWriterSize(raw, 64<<10), refuse: refuse}
	c.sendfileOK = tcp != nil && net.Conn(tcp) == raw
	if tc, ok := raw.(*serverTLSConn); ok {
		c.batch = tc.batch
	}
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
	c.armReadDeadline(time.Now()) // replaces the sniff deadline
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
		c.armReadDeadline(time.Now())
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

// writeRaw writes p to the connection, as one batch of TLS records on a
// TLS connection.
func (c *streamConn) writeRaw(p []byte) error {
	if c.batch == nil {
		_, err := c.raw.Write(p)
		return err
	}
	c.batch.begin()
	_, err := c.raw.Write(p)
	if eerr := c.batch.end(); err == nil {
		err = eerr
	}
	return err
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
func (c *streamConn) serveOne(q *streamRequest) error {
	timeout := c.s.cfg.WriteTimeout
	if q.timeout > 0 {
		timeout = min(timeout, q.timeout)
	}
	now := time.Now()
	rctx := newReqContext(c.ctx, now.Add(timeout))
	rctx.onWait = c.onWait
	defer rctx.release()
	c.extendWriteDeadline(now, timeout)

	w := c.startResponse(q)
	defer c.endResponse(w)
	herr := c.refuse
	if herr == nil {
		herr = c.s.validateRead(&q.req)
	}
	if herr == nil && c.refuse == nil {
		herr = c.callHandler(rctx, &q.req, w)
	}
	if w.werr != nil {
		return w.werr
	}
	return w.finish(herr)
}

// extendWriteDeadline keeps a stuck client from pinning this goroutine;
// slack lets the handler report its own deadline in a trailer. The deadline
// is moved only when less than timeout+1s is left (to now+2*timeout+1s),
// not on every request (its timer cost tail latency): a stuck client is cut
// off after at most 2*WriteTimeout+1s.
func (c *streamConn) extendWriteDeadline(now time.Time, timeout time.Duration) {
	if need := now.Add(timeout + time.Second); c.writeDeadline.Before(need) {
		c.writeDeadline = need.Add(timeout)
		_ = c.raw.SetWriteDeadline(c.writeDeadline)
	}
}

// armReadDeadline gives the next request frame IdleTimeout to arrive
// whole, so an idle or stalled client (a half-sent frame) does not hold a
// goroutine and its buffers for ever. Like extendWriteDeadline it moves
// the deadline only when less than half of it is left, not per request: a
// silent connection is closed after between IdleTimeout/2 and IdleTimeout.
// Once Shutdown drains the connection its deadline stays in the past.
func (c *streamConn) armReadDeadline(now time.Time) {
	idle := c.s.cfg.IdleTimeout
	if c.readDeadline.Sub(now) > idle/2 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.draining {
		return
	}
	c.readDeadline = now.Add(idle)
	_ = c.raw.SetReadDeadline(c.readDeadline)
}

// startResponse readies the connection's writer for q's response.
//
// Small responses are assembled in memory. Medium ones are corked: header,
// segment (sendfile) and trailer leave as few full packets, so the reader
// wakes once or twice per response instead of once per frame. Large
// responses are not corked: there the frames are negligible and the cork
// only delays the stream. One writer per connection, reset per request,
// keeps its buffers.
func (c *streamConn) startResponse(q *streamRequest) *responseWriter {
	w := &c.w
	*w = responseWriter{c: c, id: q.id, req: &q.req, buf: w.buf[:0], crcs: w.crcs[:0], iov: w.iov[:0], held: w.held[:0]}
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
		w.small, w.out, w.outBuf = true, (*bp)[:0], bp
	}
	return w
}

// endResponse gives back what startResponse took, whatever happened: the
// small response's buffer, the cork, and mappings a response that never
// went out still refers to.
func (c *streamConn) endResponse(w *responseWriter) {
	if bp := w.outBuf; bp != nil {
		if cap(w.out) <= 2*smallResponseLength {
			*bp = w.out[:0]
			c.s.smallBufs.Put(bp)
		}
		w.small, w.out, w.outBuf = false, nil, nil
	}
	if w.corked {
		c.cork(false)
	}
	w.releaseHeld()
}

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

// logger returns l or a discarding logger.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
