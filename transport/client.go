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
	"sync"
	"syscall"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/retry"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
)

// ClientConfig configures a Client. Zero fields take the defaults.
type ClientConfig struct {
	// DialTimeout bounds a stream connection's dial. Default 5s.
	DialTimeout time.Duration
	// CallTimeout is the deadline of an RPC or stream read whose context
	// has none. Default 30s. Streaming RPCs (WatchRing, Load) get none.
	CallTimeout time.Duration
	// MaxIdlePerAddr is how many idle stream connections are kept per
	// address. Default 16.
	MaxIdlePerAddr int
	// RetryMax is how many times a unary RPC is retried on
	// codes.Unavailable. Default 3; negative disables retries.
	RetryMax int
	// RetryBackoff is the base of the exponential backoff between retries.
	// Default 50ms.
	RetryBackoff time.Duration
	// MaxRequestLength refuses larger stream reads before sending them.
	// Default 256 MiB (the server's default limit).
	MaxRequestLength int64
	// Metrics, if set, instruments the RPCs (register it yourself).
	Metrics *grpcprom.ClientMetrics
	// Logger; nil discards.
	Logger *slog.Logger
	// DialOptions are extra grpc.DialOptions. Without a
	// grpc.WithTransportCredentials among them, connections are insecure.
	DialOptions []grpc.DialOption
	// Secure says DialOptions carry transport credentials (TLS, later).
	Secure bool
}

// Defaults of ClientConfig.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultCallTimeout    = 30 * time.Second
	DefaultMaxIdlePerAddr = 16
	DefaultRetryMax       = 3
	DefaultRetryBackoff   = 50 * time.Millisecond
)

func (c ClientConfig) withDefaults() ClientConfig {
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.MaxIdlePerAddr == 0 {
		c.MaxIdlePerAddr = DefaultMaxIdlePerAddr
	}
	if c.RetryMax == 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.MaxRequestLength == 0 {
		c.MaxRequestLength = DefaultMaxRequestLength
	}
	return c
}

// Validate reports a config that cannot work (after defaults).
func (c ClientConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.DialTimeout < 0 || c.CallTimeout < 0 || c.RetryBackoff < 0:
		return fmt.Errorf("%w: negative duration", ErrBadConfig)
	case c.MaxIdlePerAddr < 0:
		return fmt.Errorf("%w: negative MaxIdlePerAddr", ErrBadConfig)
	case c.MaxRequestLength < 0:
		return fmt.Errorf("%w: negative MaxRequestLength", ErrBadConfig)
	}
	return nil
}

// Client talks to any number of nodes: one gRPC connection per address for
// the control RPCs and a pool of stream connections per address for reads.
// It is safe for concurrent use.
type Client struct {
	cfg ClientConfig
	log *slog.Logger

	mu      sync.Mutex
	closed  bool
	rpc     map[string]*grpc.ClientConn
	idle    map[string][]*clientConn
	scratch sync.Pool // *[]byte, chunk-sized buffers for segment edges
}

// NewClient returns a client; it dials lazily.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Client{cfg: cfg, log: logger(cfg.Logger), rpc: map[string]*grpc.ClientConn{}, idle: map[string][]*clientConn{}}, nil
}

// Control returns the control stub for the node at addr. The gRPC
// connection is made once per address and shared.
func (c *Client) Control(addr string) (ControlClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if cc, ok := c.rpc[addr]; ok {
		return NewControlClient(cc), nil
	}
	cc, err := grpc.NewClient(addr, c.dialOptions()...)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	c.rpc[addr] = cc
	return NewControlClient(cc), nil
}

func (c *Client) dialOptions() []grpc.DialOption {
	unary := []grpc.UnaryClientInterceptor{defaultDeadline(c.cfg.CallTimeout)}
	var stream []grpc.StreamClientInterceptor
	if c.cfg.Metrics != nil {
		unary = append(unary, c.cfg.Metrics.UnaryClientInterceptor())
		stream = append(stream, c.cfg.Metrics.StreamClientInterceptor())
	}
	if c.cfg.RetryMax > 0 {
		unary = append(unary, retry.UnaryClientInterceptor(
			retry.WithMax(uint(c.cfg.RetryMax)+1), // WithMax counts attempts
			retry.WithCodes(codes.Unavailable),
			retry.WithBackoff(retry.BackoffExponentialWithJitter(c.cfg.RetryBackoff, 0.2)),
		))
	}
	opts := []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(Codec{})),
		grpc.WithChainUnaryInterceptor(unary...),
		grpc.WithChainStreamInterceptor(stream...),
	}
	if !c.cfg.Secure {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	return append(opts, c.cfg.DialOptions...)
}

// defaultDeadline gives a unary call without a deadline the default one.
func defaultDeadline(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// Forget closes the connections to addr (a member that left or died);
// later calls dial again. Reads in flight to addr go on until they end.
func (c *Client) Forget(addr string) {
	c.mu.Lock()
	cc := c.rpc[addr]
	idle := c.idle[addr]
	delete(c.rpc, addr)
	delete(c.idle, addr)
	c.mu.Unlock()
	if cc != nil {
		cc.Close()
	}
	for _, cn := range idle {
		cn.conn.Close()
	}
}

// Close closes every connection. Reads in flight fail.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	rpc, idle := c.rpc, c.idle
	c.rpc, c.idle = map[string]*grpc.ClientConn{}, map[string][]*clientConn{}
	c.mu.Unlock()
	var errs []error
	for _, cc := range rpc {
		errs = append(errs, cc.Close())
	}
	for _, l := range idle {
		for _, cn := range l {
			cn.conn.Close()
		}
	}
	return errors.Join(errs...)
}

// ReadResult is the outcome of a stream read.
type ReadResult struct {
	Header ReadHeader
	// N is how many bytes of dst were filled: Length, or less at the end of
	// the object.
	N     int
	Stats ReadStats
}

// clientConn is one stream connection.
type clientConn struct {
	addr   string
	conn   net.Conn
	br     *connReader
	bw     *bufio.Writer
	nextID uint64
	buf    []byte
	crcs   []uint32
	broken bool
	// lastNode is the serving node's name from the last trailer.
	lastNode string
	pieces   [][]byte // readSegment's readv pieces, reused
}

func (c *Client) getConn(ctx context.Context, addr string, fresh bool, deadline time.Time) (*clientConn, bool, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false, ErrClosed
	}
	if l := c.idle[addr]; len(l) > 0 && !fresh {
		cn := l[len(l)-1]
		c.idle[addr] = l[:len(l)-1]
		c.mu.Unlock()
		return cn, true, nil
	}
	c.mu.Unlock()
	d := net.Dialer{Timeout: c.cfg.DialTimeout, Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, fmt.Errorf("%w: dial %s: %w", ErrUnavailable, addr, err)
	}
	cn := &clientConn{addr: addr, conn: conn, br: newConnReader(conn, clientReadBuffer), bw: bufio.NewWriterSize(conn, 4096)}
	// The preface goes out with the first request.
	cn.bw.Write(appendPreface(nil))
	return cn, false, nil
}

func (c *Client) putConn(cn *clientConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.idle[cn.addr]) >= c.cfg.MaxIdlePerAddr {
		cn.conn.Close()
		return
	}
	c.idle[cn.addr] = append(c.idle[cn.addr], cn)
}

// Read reads req.Length bytes at req.Offset of req.Path from the node at
// addr into dst[:req.Length], verifying every chunk's CRC32C. A non-OK
// status is a *StatusError (errors.Is with ErrNotFound, ...); a checksum
// mismatch is a *CorruptError (ErrCorrupt). Cancelling ctx aborts the read
// and closes its connection. An idle connection the server closed meanwhile
// is retried once on a fresh one.
func (c *Client) Read(ctx context.Context, addr string, req *ReadRequest, dst []byte) (ReadResult, error) {
	return c.ReadWithin(ctx, addr, req, dst, 0)
}

// ReadWithin is Read bounded also by timeout (if > 0), counted from now: a
// per-attempt limit without a context (and its timer and allocations) per
// read. Without timeout and without a deadline in ctx, CallTimeout applies.
func (c *Client) ReadWithin(ctx context.Context, addr string, req *ReadRequest, dst []byte, timeout time.Duration) (ReadResult, error) {
	switch {
	case req.Offset < 0 || req.Length < 0:
		return ReadResult{}, fmt.Errorf("%w: negative offset or length", ErrBadRequest)
	case int64(len(dst)) < req.Length:
		return ReadResult{}, fmt.Errorf("%w: buffer of %d bytes for a read of %d", ErrBadRequest, len(dst), req.Length)
	case req.Length > c.cfg.MaxRequestLength:
		return ReadResult{}, fmt.Errorf("%w: length %d over the limit of %d", ErrTooLarge, req.Length, c.cfg.MaxRequestLength)
	case req.Path == "" || len(req.Path) > MaxPathLength || len(req.Scope) > MaxPathLength:
		return ReadResult{}, fmt.Errorf("%w: empty path or path or scope over %d bytes", ErrBadRequest, MaxPathLength)
	}
	deadline, ok := ctx.Deadline()
	switch {
	case timeout > 0:
		if d := time.Now().Add(timeout); !ok || d.Before(deadline) {
			deadline = d
		}
	case !ok:
		deadline = time.Now().Add(c.cfg.CallTimeout)
	}
	fresh := false
	for {
		cn, reused, err := c.getConn(ctx, addr, fresh, deadline)
		if err != nil {
			return ReadResult{}, err
		}
		res, started, err := c.readOn(ctx, cn, req, dst[:req.Length], deadline)
		if err == nil && !cn.broken {
			c.putConn(cn)
			return res, nil
		}
		var keep errStatusKeep
		if err != nil && errors.As(err, &keep) && !cn.broken {
			c.putConn(cn)
			return res, keep.err
		}
		cn.conn.Close()
		if err == nil {
			return res, nil
		}
		if keep.err != nil {
			return res, keep.err
		}
		if ctxErr := ctx.Err(); ctxErr != nil || errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection's deadline is the read's (the context's or
			// the timeout's): a timeout on it is that deadline passing.
			if ctxErr == nil {
				ctxErr = context.DeadlineExceeded
			}
			return res, fmt.Errorf("transport: read %s from %s: %w", req.Path, addr, ctxErr)
		}
		// A pooled connection may have been closed by the server while
		// idle (restart, shutdown): nothing of the response came, reads are
		// idempotent, so try once more on a new connection.
		if reused && !started && isConnReset(err) {
			fresh = true
			continue
		}
		return res, err
	}
}

func isConnReset(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// readOn runs one request on cn. started reports whether any response bytes
// arrived. On error the connection must be discarded.
func (c *Client) readOn(ctx context.Context, cn *clientConn, req *ReadRequest, dst []byte, deadline time.Time) (res ReadResult, started bool, err error) {
	// The deadline is the connection's (no timer or context per read);
	// a cancellable ctx also closes the read mid-response when cancelled:
	// the blocked read returns at once and the connection is never reused.
	if err := cn.conn.SetDeadline(deadline); err != nil {
		return res, false, err
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = cn.conn.SetDeadline(time.Unix(1, 0)) })
		defer func() {
			if !stop() {
				// The callback ran or may still run: never reuse this one.
				cn.broken = true
			}
		}()
	}

	timeout := time.Until(deadline)
	if timeout <= 0 {
		return res, false, context.DeadlineExceeded
	}
	cn.nextID++
	id := cn.nextID
	cn.buf = appendRequest(cn.buf[:0], id, req, uint64(timeout/time.Microsecond)+1)
	if _, err := cn.bw.Write(cn.buf); err != nil {
		return res, false, err
	}
	if err := cn.bw.Flush(); err != nil {
		return res, false, err
	}

	return c.readResponse(cn, id, req, dst)
}

// readResponse decodes one response from cn.br into dst. It reads nothing
// but cn.br, so the fuzz test can feed it arbitrary bytes.
func (c *Client) readResponse(cn *clientConn, id uint64, req *ReadRequest, dst []byte) (res ReadResult, started bool, err error) {
	h, body, err := readFrame(cn.br, cn.buf)
	cn.buf = body
	if err != nil {
		return res, false, err
	}
	if h.typ != frameHeader {
		return res, true, fmt.Errorf("%w: frame type %d, want a header", ErrProtocol, h.typ)
	}
	gotID, hdr, err := parseHeader(body)
	if err != nil {
		return res, true, err
	}
	if gotID != id {
		return res, true, fmt.Errorf("%w: response to request %d, want %d", ErrProtocol, gotID, id)
	}
	res.Header = hdr

	reqEnd := req.Offset + int64(len(dst))
	next := req.Offset // first logical offset not yet filled
	for {
		h, body, err := readFrame(cn.br, cn.buf)
		cn.buf = body
		if err != nil {
			return res, true, err
		}
		switch h.typ {
		case frameSegment:
			if hdr.Status != StatusOK {
				return res, true, fmt.Errorf("%w: segment after a non-OK header", ErrProtocol)
			}
			seg, err := parseSegment(body, cn.crcs)
			if err != nil {
				return res, true, err
			}
			cn.crcs = seg.crcs
			if seg.off > next && seg.off < reqEnd {
				return res, true, fmt.Errorf("%w: gap in segments at offset %d (next %d)", ErrProtocol, seg.off, next)
			}
			if err := c.readSegment(cn, req, dst, seg); err != nil {
				return res, true, err
			}
			if end := min(seg.off+seg.length, reqEnd); end > next && seg.off <= next {
				next = end
			}
		case frameTrailer:
			// One connection talks to one node: its name is kept, not
			// allocated again for every response.
			st, msg, stats, err := parseTrailer(body, cn.lastNode)
			if err != nil {
				return res, true, err
			}
			cn.lastNode = stats.Node
			res.Stats = stats
			res.N = int(next - req.Offset)
			if hdr.Status != StatusOK {
				st, msg = hdr.Status, hdr.Error
			} else if want := max(0, min(reqEnd, hdr.Size)-req.Offset); st == StatusOK && int64(res.N) != want {
				// Fewer bytes than the object has: never hand back a
				// silently short read.
				return res, true, fmt.Errorf("%w: %d bytes for a read of %d of a %d-byte object", ErrProtocol, res.N, want, hdr.Size)
			}
			if st != StatusOK {
				// A clean error response: the connection stays usable, but
				// the caller gets no bytes.
				res.N = 0
				return res, true, errStatusKeep{&StatusError{Addr: cn.addr, Path: req.Path, Status: st, Msg: msg}}
			}
			return res, true, nil
		default:
			return res, true, fmt.Errorf("%w: frame type %d inside a response", ErrProtocol, h.typ)
		}
	}
}

// errStatusKeep marks an error response after which the connection is still
// in sync; Read unwraps it and keeps the connection.
type errStatusKeep struct{ err *StatusError }

func (e errStatusKeep) Error() string { return e.err.Error() }

// readSegment reads a segment's data, in groups of chunks of up to
// readGroupBytes, each with one readv (connReader.readFull) and verified
// right after, while it is still in the CPU cache: chunks wholly inside the
// requested range go straight into dst, the others (overhanging edges) into
// a pooled scratch buffer, from which only their requested bytes are
// copied.
func (c *Client) readSegment(cn *clientConn, req *ReadRequest, dst []byte, seg segmentInfo) error {
	reqEnd := req.Offset + int64(len(dst))
	cs := int64(seg.chunkSize)
	segEnd := seg.off + seg.length
	chunk := func(k int) (off, n int64, inside bool) {
		off = seg.off + int64(k)*cs
		n = min(cs, segEnd-off)
		return off, n, off >= req.Offset && off+n <= reqEnd
	}
	for i := 0; i < len(seg.crcs); {
		// The group [i, j) and the scratch its edge chunks need.
		j, group, need := i, int64(0), int64(0)
		for j < len(seg.crcs) && (j == i || group < readGroupBytes) {
			_, n, inside := chunk(j)
			if !inside {
				need += n
			}
			group += n
			j++
		}
		var bp *[]byte
		var scratch []byte
		if need > 0 {
			bp = c.getScratch(int(need))
			scratch = (*bp)[:need]
		}
		cn.pieces = cn.pieces[:0]
		var so int64
		prevInside := false
		for k := i; k < j; k++ {
			off, n, inside := chunk(k)
			switch {
			case !inside:
				cn.pieces = append(cn.pieces, scratch[so:so+n])
				so += n
			case prevInside:
				// Extends the run in dst of the chunk before.
				last := &cn.pieces[len(cn.pieces)-1]
				*last = (*last)[:len(*last)+int(n)]
			default:
				cn.pieces = append(cn.pieces, dst[off-req.Offset:off-req.Offset+n])
			}
			prevInside = inside
		}
		err := cn.br.readFull(cn.pieces)
		clear(cn.pieces)
		if err == nil {
			so = 0
			for k := i; k < j && err == nil; k++ {
				off, n, inside := chunk(k)
				var q []byte
				if inside {
					q = dst[off-req.Offset : off-req.Offset+n]
				} else {
					q = scratch[so : so+n]
					so += n
				}
				if CRC32C(q) != seg.crcs[k] {
					err = &CorruptError{Addr: cn.addr, Path: req.Path, Offset: off}
				} else if lo, hi := max(off, req.Offset), min(off+n, reqEnd); !inside && lo < hi {
					copy(dst[lo-req.Offset:hi-req.Offset], q[lo-off:hi-off])
				}
			}
		} else {
			err = unexpected(err)
		}
		if bp != nil {
			c.scratch.Put(bp)
		}
		if err != nil {
			return err
		}
		i = j
	}
	return nil
}

// readGroupBytes is how many segment bytes the client reads with one readv
// before verifying them: small enough to stay in the CPU cache.
const readGroupBytes = 256 << 10

func (c *Client) getScratch(n int) *[]byte {
	if bp, ok := c.scratch.Get().(*[]byte); ok && cap(*bp) >= n {
		return bp
	}
	b := make([]byte, max(n, DefaultChunkSize))
	return &b
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Conn is a Client bound to one address, as returned by Dial.
type Conn struct {
	ControlClient
	client *Client
	addr   string
}

// Dial returns a connection to the node at addr. ctx bounds nothing yet:
// connections are made lazily (gRPC) or per read (stream pool).
func Dial(ctx context.Context, addr string, cfg ClientConfig) (*Conn, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	cc, err := c.Control(addr)
	if err != nil {
		return nil, err
	}
	return &Conn{ControlClient: cc, client: c, addr: addr}, nil
}

// Addr is the node's address.
func (c *Conn) Addr() string { return c.addr }

// Read is Client.Read on this connection's address.
func (c *Conn) Read(ctx context.Context, req *ReadRequest, dst []byte) (ReadResult, error) {
	return c.client.Read(ctx, c.addr, req, dst)
}

// Close closes the connection's gRPC and stream connections.
func (c *Conn) Close() error { return c.client.Close() }

// clientReadBuffer is the size of a stream connection's read buffer. Small on
// purpose: frame headers and CRC lists are read through it, but page bytes
// should land in the caller's buffer straight from the socket. A large buffer
// makes the first read of a response pull most of the page bytes into it,
// and then they are copied again.
const clientReadBuffer = 4 << 10
