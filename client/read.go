package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/ringcache/ringcache/objpath"
	"github.com/ringcache/ringcache/transport"
)

// ReadStats report where a read's bytes came from, like Alluxio's runtime
// stats to Presto (seed 001).
type ReadStats struct {
	BytesLocal      int64 // from the serving node's page store
	BytesPeer       int64 // the serving node got them from another node
	BytesUnderstore int64 // fetched from the under-store by the node
	BytesDirect     int64 // read from the under-store by this client (fallback)
	PagesHit        int64
	PagesMissed     int64
	Node            string // node that served the read
	// Attempts is the requests a read needed on the nodes: 1 when the
	// first node served it; more after a failover or a verified re-read.
	// For a split read, the most any one piece needed.
	Attempts int
	// Pieces is how many requests a read was split into, at once (1 when
	// it was not split; see Config.ReadParallelism).
	Pieces  int
	Latency time.Duration
	// ReadID names the read in the nodes' debug logs (read_id, 16 hex
	// digits): the forwarding node, the owner and its under-store requests.
	ReadID uint64
}

func (s *ReadStats) add(o ReadStats) {
	s.BytesLocal += o.BytesLocal
	s.BytesPeer += o.BytesPeer
	s.BytesUnderstore += o.BytesUnderstore
	s.BytesDirect += o.BytesDirect
	s.PagesHit += o.PagesHit
	s.PagesMissed += o.PagesMissed
	s.Attempts += o.Attempts
	s.Pieces += o.Pieces
	s.Latency += o.Latency
	if o.Node != "" {
		s.Node = o.Node
	}
}

// ReadOption adjusts one read.
type ReadOption func(*readOpts)

type readOpts struct {
	scope   string
	stats   *ReadStats
	etag    string
	noCache bool
}

// WithScope sets the cache context: the scope (e.g. db/table/partition) the
// file's pages are accounted to for quotas. Default: the file's directory.
func WithScope(scope string) ReadOption { return func(o *readOpts) { o.scope = scope } }

// WithNoCache reads without filling the cache: pages the owner holds are
// served from it, the others come from the under-store for this read alone
// and are not kept (a one-off scan that should not evict the working set).
func WithNoCache() ReadOption { return func(o *readOpts) { o.noCache = true } }

// WithStats adds the read's statistics to *s.
func WithStats(s *ReadStats) ReadOption { return func(o *readOpts) { o.stats = s } }

// IfMatch makes the read fail with transport.ErrChanged unless the object's
// ETag is etag: an open File never mixes versions.
func IfMatch(etag string) ReadOption { return func(o *readOpts) { o.etag = etag } }

// ReadAt reads len(p) bytes at off of the file at path (bucket/key), with
// io.ReaderAt semantics: fewer bytes only at the end of the file, with io.EOF.
func (c *Client) ReadAt(ctx context.Context, path string, p []byte, off int64, opts ...ReadOption) (int, error) {
	o := applyOpts(opts)
	var res transport.ReadResult
	var st ReadStats
	var err error
	if n := c.pieces(len(p)); n > 1 {
		res, st, err = c.readSplit(ctx, path, p, off, o, n)
	} else {
		res, st, err = c.read(ctx, path, p, off, o, 0, 0)
		st.Pieces = 1
	}
	if o.stats != nil {
		o.stats.add(st)
	}
	if err != nil {
		return 0, err
	}
	if res.N < len(p) {
		return res.N, io.EOF
	}
	return res.N, nil
}

// applyOpts collects the options. Kept apart so that a read without options
// does not move its readOpts to the heap (the option funcs take a pointer).
func applyOpts(opts []ReadOption) readOpts {
	if len(opts) == 0 {
		return readOpts{}
	}
	o := new(readOpts)
	for _, f := range opts {
		f(o)
	}
	return *o
}

// permanent reports errors that another node would answer the same way.
func permanent(err error) bool {
	return errors.Is(err, transport.ErrNotFound) || errors.Is(err, transport.ErrBadRequest) ||
		errors.Is(err, transport.ErrOutOfRange) || errors.Is(err, transport.ErrAccessDenied) ||
		errors.Is(err, transport.ErrTooLarge) || errors.Is(err, context.Canceled) ||
		errors.Is(err, transport.ErrTLS) ||
		(errors.Is(err, transport.ErrChanged))
}

func (c *Client) read(ctx context.Context, path string, p []byte, off int64, o readOpts, flags uint32, readID uint64) (transport.ReadResult, ReadStats, error) {
	start := time.Now()
	var st ReadStats
	if c.closed.Load() {
		return transport.ReadResult{}, st, ErrClosed
	}
	if err := objpath.Validate(path); err != nil {
		return transport.ReadResult{}, st, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if off < 0 {
		return transport.ReadResult{}, st, fmt.Errorf("%w: negative offset %d", ErrBadRequest, off)
	}
	v := c.view.Load()
	if o.noCache {
		flags |= transport.FlagNoCache
	}
	if readID == 0 {
		readID = rand.Uint64() | 1 // every read has an id the nodes log
	}
	st.ReadID = readID
	req := transport.ReadRequest{Path: path, Offset: off, Length: int64(len(p)), RingVersion: v.ring.Version(), Scope: o.scope, ETag: o.etag, Flags: flags, ReadID: readID}
	var errs []error
	var ownersBuf [4]string // no allocation for the usual few owners
	for _, id := range v.ring.AppendOwners(ownersBuf[:0], path, c.cfg.Owners) {
		addr := v.members[id].GRPCAddr
		if addr == "" {
			continue
		}
		res, err := c.attempt(ctx, addr, &req, p, &st)
		if err == nil {
			st.BytesLocal, st.BytesPeer, st.BytesUnderstore = res.Stats.BytesLocal, res.Stats.BytesPeer, res.Stats.BytesUnderstore
			st.PagesHit, st.PagesMissed, st.Node = res.Stats.PagesHit, res.Stats.PagesMissed, res.Stats.Node
			st.Latency = time.Since(start)
			if res.Header.RingVersion != 0 && res.Header.RingVersion != req.RingVersion {
				c.askRefresh()
			}
			return res, st, nil
		}
		if permanent(err) || ctx.Err() != nil {
			st.Latency = time.Since(start)
			if he := tlsError(addr, err); he != nil {
				return transport.ReadResult{}, st, namePath(path, he)
			}
			return transport.ReadResult{}, st, namePath(path, err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", id, withoutPath(err)))
		c.askRefresh()
		// The next owners serve the read themselves: forwarding it back to
		// the owner that just failed (still in their ring until failure
		// detection) would spend the next attempt's timeout on it again.
		req.Flags |= transport.FlagNoForward
	}
	if c.cfg.Fallback != nil {
		n, err := c.readDirect(ctx, path, p, off, o.etag)
		st.Latency = time.Since(start)
		if err == nil {
			st.BytesDirect = int64(n)
			return transport.ReadResult{N: n}, st, nil
		}
		errs = append(errs, fmt.Errorf("under-store: %w", err))
	}
	st.Latency = time.Since(start)
	if len(errs) == 0 {
		errs = append(errs, ErrNoMembers)
	}
	return transport.ReadResult{}, st, fmt.Errorf("%s: no node could serve it: %w", path, errors.Join(errs...))
}

// attempt reads from one node, retrying once there after a corrupt chunk
// (asking the node to verify its pages, which drops the bad one) or after
// the object changed under the node before it sent anything.
func (c *Client) attempt(ctx context.Context, addr string, req *transport.ReadRequest, p []byte, st *ReadStats) (transport.ReadResult, error) {
	for try := 0; ; try++ {
		st.Attempts++
		res, err := c.pool.ReadWithin(ctx, addr, req, p, c.cfg.AttemptTimeout)
		if err == nil || try > 0 {
			return res, err
		}
		if errors.Is(err, transport.ErrCorrupt) {
			c.log.Warn("corrupt chunk; re-reading with verification", "addr", addr, "path", req.Path, "err", err)
			r := *req
			r.Flags |= transport.FlagVerify
			req = &r
			continue
		}
		return res, err
	}
}

// readDirect reads from the under-store when no node can serve.
func (c *Client) readDirect(ctx context.Context, path string, p []byte, off int64, etag string) (int, error) {
	info, err := c.cfg.Fallback.Stat(ctx, path)
	if err != nil {
		return 0, err
	}
	if etag != "" && info.ETag != etag {
		return 0, fmt.Errorf("%w: %s", transport.ErrChanged, path)
	}
	if off > info.Size {
		return 0, fmt.Errorf("%w: offset %d, %s has %d bytes", transport.ErrOutOfRange, off, path, info.Size)
	}
	want := min(int64(len(p)), info.Size-off)
	n, err := c.cfg.Fallback.ReadAt(ctx, path, info, p[:want], off)
	if err == io.EOF && int64(n) == want {
		err = nil
	}
	return n, err
}

// namePath makes err say which path it is about, once: a node's answer
// (*transport.StatusError) already names the path, the node and its
// reason; anything else gets the path in front.
func namePath(path string, err error) error {
	if se, ok := err.(*transport.StatusError); ok && se.Path == path {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// withoutPath is a node's answer without the path, for a list of the
// answers of several nodes that is headed by the path already.
func withoutPath(err error) error {
	if se, ok := err.(*transport.StatusError); ok {
		short := *se
		short.Path = ""
		return &short
	}
	return err
}
