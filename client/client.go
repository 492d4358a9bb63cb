// Package client is the ringcache Go SDK. A Client learns the members from
// any seed node, keeps its ring current (a watch stream, plus a refresh when
// a node reports a newer ring), routes each read to the file's owner over the
// page stream, fails over to the next owners and then, when configured, to
// the under-store itself. It computes the same owner as every node: the ring
// is built from the member list the cluster reports, with the cluster's ring
// parameters.
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringcache/ringcache/affinity"
	"github.com/ringcache/ringcache/ring"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// Sentinels of the SDK. Errors from nodes also match transport's sentinels
// (transport.ErrNotFound, transport.ErrOutOfRange, ...).
var (
	ErrConfig     = errors.New("client: invalid config")
	ErrNoMembers  = errors.New("client: no member could be reached")
	ErrClosed     = errors.New("client: closed")
	ErrBadRequest = errors.New("client: bad request")
)

// Config configures a Client. A zero field means its default.
type Config struct {
	// Seeds are gRPC addresses of any nodes; one reachable seed is enough.
	Seeds []string
	// Owners is how many nodes a read tries, owner first. Default 3.
	Owners int
	// AttemptTimeout bounds one attempt on one node before the next is
	// tried (a paused node does not answer at all). Default 5s.
	AttemptTimeout time.Duration
	// CallTimeout bounds control calls (stat, members, ...). Default 30s.
	CallTimeout time.Duration
	// Fallback, when set, is read directly when no node can serve a read.
	Fallback understore.Store
	// RefreshInterval re-reads the member list even without a watch event.
	// Default 10s.
	RefreshInterval time.Duration
	// ReadParallelism is how many streams one large read is spread over:
	// a read of at least 2 x SplitSize bytes goes out as up to this many
	// pieces at once (a warm 1 MiB read moved 1.4-1.9 GB/s on one stream
	// of a 2-core machine, 3.0-3.2 GB/s on four). Default 4; 1 turns
	// splitting off.
	ReadParallelism int
	// SplitSize is the smallest piece a large read is split into. Default
	// 256 KiB.
	SplitSize int
	// ReconnectMin and ReconnectMax bound the wait before the ring watch
	// reopens a stream that ended: the wait doubles from ReconnectMin up to
	// ReconnectMax, with jitter, and starts again from ReconnectMin after a
	// stream that stayed up. Defaults 100ms and 5s.
	ReconnectMin, ReconnectMax time.Duration
	// Logger; nil discards.
	Logger *slog.Logger

	// jitterSeed seeds the reconnect jitter (tests, see export_test.go);
	// 0 picks a random seed.
	jitterSeed uint64
}

func (c *Config) withDefaults() {
	if c.Owners == 0 {
		c.Owners = 3
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = 5 * time.Second
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.RefreshInterval == 0 {
		c.RefreshInterval = 10 * time.Second
	}
	if c.ReadParallelism == 0 {
		c.ReadParallelism = DefaultReadParallelism
	}
	if c.SplitSize == 0 {
		c.SplitSize = DefaultSplitSize
	}
	if c.ReconnectMin == 0 {
		c.ReconnectMin = 100 * time.Millisecond
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports a Config that cannot work.
func (c *Config) Validate() error {
	if len(c.Seeds) == 0 {
		return fmt.Errorf("%w: at least one seed address is needed", ErrConfig)
	}
	if c.Owners < 1 || c.AttemptTimeout < 0 || c.CallTimeout < 0 || c.RefreshInterval < 0 {
		return fmt.Errorf("%w: owners must be >= 1 and timeouts positive", ErrConfig)
	}
	if c.ReconnectMin < 0 || c.ReconnectMax < c.ReconnectMin {
		return fmt.Errorf("%w: reconnect backoff %v to %v, want 0 < min <= max", ErrConfig, c.ReconnectMin, c.ReconnectMax)
	}
	if c.ReadParallelism < 1 || c.ReadParallelism > 64 {
		return fmt.Errorf("%w: read parallelism %d, want 1 to 64", ErrConfig, c.ReadParallelism)
	}
	if c.SplitSize < 64<<10 {
		return fmt.Errorf("%w: split size %d, want at least 64 KiB", ErrConfig, c.SplitSize)
	}
	return nil
}

// Defaults of Config.
const (
	DefaultReadParallelism = 4
	DefaultSplitSize       = 256 << 10
)

// Member is a cluster member as the client sees it.
type Member = transport.MemberInfo

// view is an immutable snapshot of the cluster: members and the ring.
type view struct {
	ring     *ring.Ring
	members  map[string]Member
	list     []Member
	pageSize int64 // the cluster's page size (0: unknown)
}

// Client is safe for concurrent use.
type Client struct {
	cfg  Config
	log  *slog.Logger
	pool *transport.Client

	view    atomic.Pointer[view]
	refresh chan struct{} // a node reported another ring version
	jitter  *rand.Rand    // reconnect jitter; the watch loop's alone

	// ctx ends at Close; it bounds the watch loop and its stream, which
	// wg counts, so that Close returns only once they are gone.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// New connects to the cluster through the seeds and starts keeping the ring
// current.
func New(ctx context.Context, cfg Config) (*Client, error) {
	cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	seed := cfg.jitterSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	c := &Client{cfg: cfg, log: cfg.Logger, refresh: make(chan struct{}, 1), jitter: rand.New(rand.NewPCG(seed, seed>>1|1))}
	var err error
	if c.pool, err = transport.NewClient(transport.ClientConfig{Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	var errs []error
	for _, seed := range cfg.Seeds {
		if err := c.fetchMembers(ctx, seed); err != nil {
			errs = append(errs, fmt.Errorf("seed %s: %w", seed, err))
			continue
		}
		c.ctx, c.cancel = context.WithCancel(context.Background())
		c.wg.Add(1)
		go c.keepCurrent()
		return c, nil
	}
	c.pool.Close()
	return nil, fmt.Errorf("%w: %w", ErrNoMembers, errors.Join(errs...))
}

// Close stops the ring watch, waits for it to end, and releases the
// connections.
func (c *Client) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.cancel()
	c.wg.Wait()
	return c.pool.Close()
}

// fetchMembers asks one node for the members and installs the ring.
func (c *Client) fetchMembers(ctx context.Context, addr string) error {
	cc, err := c.pool.Control(addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	resp, err := cc.Members(ctx, &transport.MembersRequest{})
	if err != nil {
		return err
	}
	return c.install(resp)
}

// install builds the ring a MembersResponse describes.
func (c *Client) install(resp *transport.MembersResponse) error {
	r, err := ring.New(ring.Config{Partitions: resp.Partitions, Load: resp.Load, PageSize: resp.PageSize, ReplicationFactor: resp.ReplicationFactor}, resp.RingMembers)
	if err != nil {
		return fmt.Errorf("client: build ring: %w", err)
	}
	if r.Version() != resp.RingVersion {
		// Same members and parameters must give the same version; if not,
		// the node runs another build. Reads still work (nodes forward).
		c.log.Warn("ring version differs from the node's", "node", resp.RingVersion, "client", r.Version())
	}
	v := &view{ring: r, members: make(map[string]Member, len(resp.Members)), list: resp.Members, pageSize: resp.PageSize}
	for _, m := range resp.Members {
		v.members[m.ID] = m
	}
	sort.Slice(v.list, func(i, j int) bool { return v.list[i].ID < v.list[j].ID })
	c.view.Store(v)
	return nil
}

// addrs lists addresses to ask for members: active members, then seeds.
func (c *Client) addrs() []string {
	var out []string
	seen := map[string]bool{}
	if v := c.view.Load(); v != nil {
		for _, id := range v.ring.Members() {
			if a := v.members[id].GRPCAddr; a != "" && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	for _, s := range c.cfg.Seeds {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (c *Client) anyAddr() string {
	if a := c.addrs(); len(a) > 0 {
		return a[0]
	}
	return ""
}

// RingVersion is the version of the client's current ring.
func (c *Client) RingVersion() uint64 { return c.view.Load().ring.Version() }

// Members returns the members as last reported by the cluster.
func (c *Client) Members() []Member {
	return append([]Member(nil), c.view.Load().list...)
}

// Preferred returns the n preferred nodes of a path, owner first: the order
// reads fail over in.
func (c *Client) Preferred(path string, n int) []Member {
	v := c.view.Load()
	var out []Member
	for _, id := range affinity.Preferred(v.ring, affinity.Config{}, affinity.Split{Path: path}, n) {
		m, ok := v.members[id]
		if !ok {
			m = Member{ID: id}
		}
		out = append(out, m)
	}
	return out
}

// Assign places a batch of splits on nodes with bounded loads (Presto-style
// soft affinity), computed locally on the client's ring.
func (c *Client) Assign(splits []affinity.Split, maxLoad float64) (affinity.Result, error) {
	return affinity.Assign(c.view.Load().ring, affinity.Config{}, splits, maxLoad)
}

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

// pieces is how many pieces a read of n bytes is split into.
func (c *Client) pieces(n int) int {
	return min(c.cfg.ReadParallelism, n/c.cfg.SplitSize)
}

// readSplit reads p as up to n pieces at once, each on its own stream (and
// each with its own failover). The pieces are separate requests, so a file
// that changes meanwhile could hand back pieces of two versions: the pieces'
// versions are compared, and a mixed read is done again as one request.
func (c *Client) readSplit(ctx context.Context, path string, p []byte, off int64, o readOpts, n int) (transport.ReadResult, ReadStats, error) {
	start := time.Now()
	bounds := pieceBounds(off, len(p), n, c.view.Load().pageSize)
	pcs := make([]piece, len(bounds)-1)
	for i := range pcs {
		pcs[i] = piece{off: off + int64(bounds[i]), p: p[bounds[i]:bounds[i+1]]}
	}
	// One ID for all pieces: a page one piece fetched is, for the others,
	// part of the same read's fetch, not a hit.
	readID := rand.Uint64() | 1
	var wg sync.WaitGroup
	for i := 1; i < len(pcs); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pc := &pcs[i]
			pc.res, pc.st, pc.err = c.read(ctx, path, pc.p, pc.off, o, transport.FlagPiece, readID)
		}()
	}
	pcs[0].res, pcs[0].st, pcs[0].err = c.read(ctx, path, pcs[0].p, off, o, 0, readID)
	wg.Wait()

	res, st, mixed, err := joinPieces(pcs)
	st.Pieces = len(pcs)
	if mixed {
		again, st2, err2 := c.read(ctx, path, p, off, o, 0, 0)
		st.add(st2)
		res, err = again, err2
	}
	st.Latency = time.Since(start)
	return res, st, err
}

// pieceBounds cuts a read of length bytes at off into at most n pieces of
// about equal size and returns their bounds relative to off (first 0, last
// length). A read over several pages is cut at page boundaries, so that no
// two pieces share a page (each page is fetched and counted by one piece);
// within one page (or when the page size is unknown) it is cut on 64 KiB
// bounds, and the node keeps the stats exact (FlagPiece, ReadID).
func pieceBounds(off int64, length, n int, pageSize int64) []int {
	const align = 64 << 10
	size := (length/n + align - 1) &^ (align - 1)
	spansPages := pageSize > 0 && off/pageSize != (off+int64(length)-1)/pageSize
	b := []int{0}
	for i := 1; i < n; i++ {
		cut := int64(i * size)
		if spansPages {
			abs := off + cut
			abs = (abs + pageSize/2) / pageSize * pageSize // nearest page boundary
			cut = abs - off
		}
		if cut > int64(b[len(b)-1]) && cut < int64(length) {
			b = append(b, int(cut))
		}
	}
	return append(b, length)
}

// piece is one part of a split read: p is its slice of the caller's buffer.
type piece struct {
	off int64
	p   []byte
	res transport.ReadResult
	st  ReadStats
	err error
}

// joinPieces makes one result of the pieces of a split read, in order: their
// bytes up to the first short piece (the end of the file), their stats
// summed but for Attempts (the most of any one piece). mixed reports pieces that cannot be of one version of the file
// (different ETag or size, bytes or an out-of-range past an end another
// piece saw); the caller reads again.
func joinPieces(pcs []piece) (res transport.ReadResult, st ReadStats, mixed bool, err error) {
	res.Header = pcs[0].res.Header
	end := false
	for i := range pcs {
		pc := &pcs[i]
		attempts := max(st.Attempts, pc.st.Attempts)
		st.add(pc.st)
		st.Attempts = attempts // the pieces ran side by side
		switch {
		case pc.err != nil && errors.Is(pc.err, transport.ErrOutOfRange) && i > 0:
			// Wholly past the end of the file: expected after a short
			// piece, a sign of a change after a full one.
			mixed = mixed || !end
		case pc.err != nil:
			return transport.ReadResult{}, st, false, pc.err
		case pc.res.Header.ETag != res.Header.ETag || pc.res.Header.Size != res.Header.Size:
			mixed = true
		case end:
			mixed = mixed || pc.res.N > 0
		default:
			res.N += pc.res.N
			end = pc.res.N < len(pc.p)
		}
	}
	return res, st, mixed, nil
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
		(errors.Is(err, transport.ErrChanged))
}

func (c *Client) read(ctx context.Context, path string, p []byte, off int64, o readOpts, flags uint32, readID uint64) (transport.ReadResult, ReadStats, error) {
	start := time.Now()
	var st ReadStats
	if c.closed.Load() {
		return transport.ReadResult{}, st, ErrClosed
	}
	if err := understore.ValidatePath(path); err != nil {
		return transport.ReadResult{}, st, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if off < 0 {
		return transport.ReadResult{}, st, fmt.Errorf("%w: negative offset %d", ErrBadRequest, off)
	}
	v := c.view.Load()
	if o.noCache {
		flags |= transport.FlagNoCache
	}
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
			return transport.ReadResult{}, st, fmt.Errorf("read %s: %w", path, err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", id, err))
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
	return transport.ReadResult{}, st, fmt.Errorf("read %s: no node could serve it: %w", path, errors.Join(errs...))
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

// BytesCached asks every member for the page bytes it holds (each node
// knows only its own); members that do not answer are left out.
func (c *Client) BytesCached(ctx context.Context) map[string]int64 {
	out := map[string]int64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range c.Members() {
		if m.GRPCAddr == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc, err := c.pool.Control(m.GRPCAddr)
			if err != nil {
				return
			}
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			resp, err := cc.Members(cctx, &transport.MembersRequest{})
			if err != nil {
				return
			}
			for _, mi := range resp.Members {
				if mi.ID == m.ID {
					mu.Lock()
					out[m.ID] = mi.BytesCached
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return out
}
