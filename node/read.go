package node

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ringcache/ringcache/node/internal/pagefetch"
	"github.com/ringcache/ringcache/objpath"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// readWindow is how many pages of one read are resolved ahead of the writer:
// it bounds the memory one cold read pins while keeping the under-store busy
// with several coalesced requests.
func (n *Node) readWindow() uint32 { return uint32(4 * n.cfg.CoalescePages) }

func (n *Node) validateRead(req *transport.ReadRequest) error {
	if err := objpath.Validate(req.Path); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if req.Offset < 0 {
		return fmt.Errorf("%w: negative offset %d", ErrBadRequest, req.Offset)
	}
	if req.Length < 0 || req.Length > n.cfg.MaxReadLength {
		return fmt.Errorf("%w: length %d outside [0, %d]", ErrBadRequest, req.Length, n.cfg.MaxReadLength)
	}
	return nil
}

// response wraps the transport's writer with what the read path tracks.
type response struct {
	transport.ResponseWriter
	st         *transport.ReadStats
	headerSent bool
}

// ServeRead implements transport.ReadHandler: the read path.
func (n *Node) ServeRead(ctx context.Context, req *transport.ReadRequest, tw transport.ResponseWriter) error {
	return streamStatus(n.serveRead(ctx, req, tw))
}

// serveRead forwards the read to the owner when that is another node, and
// serves it here otherwise (or when the owner cannot be reached).
func (n *Node) serveRead(ctx context.Context, req *transport.ReadRequest, tw transport.ResponseWriter) error {
	if err := n.validateRead(req); err != nil {
		return err
	}
	if n.closing.Load() {
		return ErrShuttingDown
	}
	start := time.Now()
	w := &response{ResponseWriter: tw, st: tw.Stats()}
	w.st.Node = n.id
	if req.Flags&transport.FlagNoForward == 0 && req.Flags&transport.FlagCachedOnly == 0 {
		if owner := n.ring().Owner(req.Path); owner != "" && owner != n.id {
			served, err := n.forwardRead(ctx, owner, req, w)
			if served {
				n.observeRead(start, w.st)
				return err
			}
		}
	}
	err := n.serveHere(ctx, req, w)
	if err != nil && !w.headerSent && isChanged(err) && req.ETag == "" {
		// The object changed between our Stat and our read, before we sent
		// anything: resolve the new version and serve it instead.
		n.meta.forget(req.Path)
		err = n.serveHere(ctx, req, w)
	}
	if err == nil {
		n.observeRead(start, w.st)
	}
	if n.log.Enabled(ctx, slog.LevelDebug) {
		n.log.LogAttrs(ctx, slog.LevelDebug, "read served", slog.String("path", req.Path), readIDAttr(req.ReadID),
			slog.Int64("offset", req.Offset), slog.Int64("length", req.Length), slog.Int64("pages_hit", w.st.PagesHit),
			slog.Int64("pages_missed", w.st.PagesMissed), slog.Duration("duration", time.Since(start)), slog.Any("err", err))
	}
	return err
}

// localRead is one read served by this node: the request, the file version
// it resolved to and the page range it covers.
type localRead struct {
	req         *transport.ReadRequest
	m           storage.FileMeta
	hdr         transport.ReadHeader
	key         storage.PageKey // the file version; Index is set per page
	end         int64           // end of the range, clipped to the file
	first, last uint32          // pages of [req.Offset, end)
	pageSize    int64

	cachedOnly bool // a peer asks only for what is cached here (FlagCachedOnly)
	verify     bool // check every chunk of cached pages (FlagVerify)
	noCache    bool // fetch missing pages without caching them (FlagNoCache)
	piece      bool // a piece of a split read (FlagPiece)

	pre *prefetched // the first bytes, read with the metadata (cold read)
}

// windowPage is one page of a read window: cached (h, or verified), or in
// flight (fl).
type windowPage struct {
	h        *storage.PageHandle
	verified bool // cached and every chunk checked (FlagVerify)
	fl       *pagefetch.Flight
	joined   bool // fl was started by another caller
}

func (p windowPage) cached() bool { return p.h != nil || p.verified }

// serveHere serves the read from this node's pages and the under-store,
// one window of pages at a time: look up the cached pages, start (or join)
// fetches for the others, then send the window in order.
func (n *Node) serveHere(ctx context.Context, req *transport.ReadRequest, w *response) error {
	rd, err := n.resolveRead(ctx, req)
	if err != nil {
		return err
	}
	if rd.end == req.Offset {
		return n.sendHeader(w, rd.hdr)
	}
	for wStart := rd.first; wStart <= rd.last; wStart += n.readWindow() {
		wEnd := min(rd.last, wStart+n.readWindow()-1)
		pages := n.lookupCached(rd, wStart, wEnd)
		if rd.cachedOnly {
			if err := missingCachedOnly(rd, wStart, pages); err != nil {
				closeHandles(pages)
				return err
			}
		}
		n.startFetches(ctx, rd, wStart, pages)
		if err := n.sendWindow(ctx, w, rd, wStart, pages); err != nil {
			closeHandles(pages)
			return err
		}
	}
	return nil
}

// resolveRead finds the file version the read is served from and the pages
// it covers.
func (n *Node) resolveRead(ctx context.Context, req *transport.ReadRequest) (*localRead, error) {
	rd := &localRead{
		req:        req,
		pageSize:   n.cfg.PageSize,
		cachedOnly: req.Flags&transport.FlagCachedOnly != 0,
		verify:     req.Flags&transport.FlagVerify != 0,
		noCache:    req.Flags&transport.FlagNoCache != 0,
		piece:      req.Flags&transport.FlagPiece != 0,
	}
	m, err := n.readMeta(ctx, rd)
	if err != nil {
		return nil, err
	}
	if req.Offset > m.Size {
		return nil, fmt.Errorf("%w: offset %d, the file has %d bytes", ErrOutOfRange, req.Offset, m.Size)
	}
	rd.m = m
	rd.end = min(req.Offset+req.Length, m.Size)
	rd.hdr = transport.ReadHeader{RingVersion: n.ring().Version(), Size: m.Size, ETag: m.Content.ETag, Version: m.Version, ModTime: m.Content.ModTime}
	rd.key = storage.PageKey{File: m.ID, Version: m.Version}
	if rd.end > req.Offset {
		rd.first, rd.last = uint32(req.Offset/rd.pageSize), uint32((rd.end-1)/rd.pageSize)
	}
	return rd, nil
}

// readMeta returns the metadata of the version the read wants.
func (n *Node) readMeta(ctx context.Context, rd *localRead) (storage.FileMeta, error) {
	req := rd.req
	if rd.cachedOnly {
		// A peer asks for what we hold, without touching the under-store:
		// only the exact version it names is any use to it.
		m, ok := n.store.Lookup(req.Path)
		if !ok || m.Content.ETag != req.ETag || req.ETag == "" {
			return m, fmt.Errorf("%s: %w", req.Path, ErrNotOwner)
		}
		return m, nil
	}
	// Decided only when this read leads a check: a read answered by fresh
	// metadata (every warm read) pays nothing for it.
	first := func(ctx context.Context) (understore.ObjectInfo, *prefetched, error) {
		fr := n.firstRunReader(rd)
		if fr == nil {
			start := time.Now()
			info, err := n.under.Stat(ctx, req.Path)
			n.metrics.understoreReq.WithLabelValues("stat", understoreResult(err)).Inc()
			n.logUnder(ctx, "stat", req.Path, req.ReadID, 0, 0, start, err)
			return info, nil, err
		}
		off, length := n.firstRunSpan(rd)
		return n.readFirst(ctx, fr, req.Path, req.ReadID, off, length)
	}
	m, pre, err := n.fileMetaVia(ctx, req.Path, req.Scope, rd.verify, first)
	rd.pre = pre
	if err != nil {
		return m, err
	}
	if req.ETag != "" && m.Content.ETag != req.ETag {
		return m, fmt.Errorf("%w: %s is now version %s, the reader wants %s", errObjectChanged, req.Path, m.Content.ETag, req.ETag)
	}
	return m, nil
}

// lookupCached opens the cached pages of [wStart, wEnd]; with FlagVerify it
// checks every chunk of them instead, where a bad page is dropped (and so
// fetched again) because the reader saw a corrupt chunk.
func (n *Node) lookupCached(rd *localRead, wStart, wEnd uint32) []windowPage {
	pages := make([]windowPage, wEnd-wStart+1)
	for idx := wStart; idx <= wEnd; idx++ {
		if rd.verify {
			pages[idx-wStart].verified = n.verifiedPage(rd.key, idx, rd.m.Size)
			continue
		}
		k := rd.key
		k.Index = idx
		if h, err := n.store.OpenPage(k); err == nil {
			pages[idx-wStart].h = h
		}
	}
	return pages
}

// missingCachedOnly fails a cached-only read on its first page that is not
// cached here.
func missingCachedOnly(rd *localRead, wStart uint32, pages []windowPage) error {
	for i, p := range pages {
		if !p.cached() {
			return fmt.Errorf("%s page %d: %w", rd.req.Path, wStart+uint32(i), ErrNotOwner)
		}
	}
	return nil
}

// startFetches gives every page of the window that is not cached a flight:
// consecutive missing pages are fetched as one run (one ranged request),
// pages already in flight for another read are joined.
func (n *Node) startFetches(ctx context.Context, rd *localRead, wStart uint32, pages []windowPage) {
	read := withPrefetched(rd.pre, rd.m.Content.ETag, n.underReader(rd.req.Path, rd.m, rd.req.ReadID))
	wEnd := wStart + uint32(len(pages)) - 1
	for idx := wStart; idx <= wEnd; idx++ {
		if pages[idx-wStart].cached() {
			continue
		}
		runEnd := idx
		for runEnd < wEnd && !pages[runEnd+1-wStart].cached() {
			runEnd++
		}
		var fls []*pagefetch.Flight
		var joined []bool
		if rd.noCache {
			fls, joined = n.fetch.FetchUncached(ctx, rd.key, rd.m.Size, idx, runEnd, read)
		} else {
			fls, joined = n.fetch.Fetch(rd.key, rd.m.Size, idx, runEnd, rd.req.ReadID, read)
		}
		for i, fl := range fls {
			pages[idx-wStart+uint32(i)].fl = fl
			pages[idx-wStart+uint32(i)].joined = joined[i]
		}
		idx = runEnd
	}
}

// sendWindow sends the pages of the window in order, each from where it is:
// its page file, its flight's memory, or (verified) a copy read from the
// store.
func (n *Node) sendWindow(ctx context.Context, w *response, rd *localRead, wStart uint32, pages []windowPage) error {
	for i := range pages {
		p := &pages[i]
		sp := rd.span(wStart + uint32(i))
		var err error
		switch {
		case p.h != nil:
			h := p.h
			p.h = nil // sendFromHandle takes it over
			err = n.sendFromHandle(w, rd, sp, h)
		case p.fl != nil:
			err = n.sendFlight(ctx, w, rd, sp, p.fl, p.joined)
		default:
			err = n.sendVerified(w, rd, sp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pageSpan is the part of one page a read sends.
type pageSpan struct {
	idx    uint32
	start  int64 // the page's offset in the file
	lo, hi int64 // the range [lo, hi) inside the page
	// count: the page counts in PagesHit/PagesMissed. A later piece of a
	// split read (FlagPiece) leaves the page it starts inside of to the
	// piece before, so the pieces of one read count each page once.
	count bool
}

func (rd *localRead) span(idx uint32) pageSpan {
	start := int64(idx) * rd.pageSize
	lo := max(rd.req.Offset, start) - start
	hi := min(rd.end, start+pagefetch.PageLen(rd.m.Size, rd.pageSize, idx)) - start
	return pageSpan{idx: idx, start: start, lo: lo, hi: hi, count: !rd.piece || lo == 0}
}

func closeHandles(pages []windowPage) {
	for _, p := range pages {
		if p.h != nil {
			p.h.Close()
		}
	}
}

// underReader reads a range of the resolved version of a file: first from
// the node that owned the file before the last ring change (warm handoff on
// scale-out), then from the under-store.
// readID names the read that asked, for the log.
func (n *Node) underReader(p string, m storage.FileMeta, readID uint64) pagefetch.ReadRangeFunc {
	want := understore.ObjectInfo{Path: p, Size: m.Size, ETag: m.Content.ETag, ModTime: m.Content.ModTime, MetaFP: m.MetaFP}
	return func(ctx context.Context, off int64, buf []byte) (int, string, error) {
		if n.readFromPreviousOwner(ctx, p, m, off, buf) {
			return len(buf), sourcePeer, nil
		}
		start := time.Now()
		nread, err := n.under.ReadAt(ctx, p, want, buf, off)
		n.metrics.understoreReq.WithLabelValues("read", understoreResult(err)).Inc()
		n.logUnder(ctx, "read", p, readID, off, len(buf), start, err)
		return nread, sourceUnderstore, err
	}
}
