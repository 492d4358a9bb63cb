package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// Sentinels of the read path; the transport maps them to status codes.
var (
	ErrBadRequest   = errors.New("node: bad request")
	ErrOutOfRange   = errors.New("node: offset past end of file")
	ErrNotOwner     = errors.New("node: not cached here") // a cached-only peer read missed
	ErrShuttingDown = errors.New("node: shutting down")
)

// readWindow is how many pages of one read are resolved ahead of the writer:
// it bounds the memory one cold read pins while keeping the under-store busy
// with several coalesced requests.
func (n *Node) readWindow() uint32 { return uint32(4 * n.cfg.CoalescePages) }

func (n *Node) validateRead(req *transport.ReadRequest) error {
	if err := understore.ValidatePath(req.Path); err != nil {
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

func (n *Node) serveRead(ctx context.Context, req *transport.ReadRequest, tw transport.ResponseWriter) error {
	if err := n.validateRead(req); err != nil {
		return err
	}
	if n.closing.Load() {
		return ErrShuttingDown
	}
	start := time.Now()
	w := &response{ResponseWriter: tw, st: tw.Stats()}
	st := w.st
	st.Node = n.id
	if req.Flags&transport.FlagNoForward == 0 && req.Flags&transport.FlagCachedOnly == 0 {
		if owner := n.ring().Owner(req.Path); owner != "" && owner != n.id {
			served, err := n.forwardRead(ctx, owner, req, w)
			if served {
				n.observeRead(start, st)
				return err
			}
		}
	}
	err := n.serveHere(ctx, req, w)
	var changed bool
	if err != nil && !w.headerSent && isChanged(err) && req.ETag == "" {
		// The object changed between our Stat and our read, before we sent
		// anything: resolve the new version and serve it instead.
		changed = true
	}
	if changed {
		n.meta.forget(req.Path)
		err = n.serveHere(ctx, req, w)
	}
	if err == nil {
		n.observeRead(start, st)
	}
	return err
}

func isChanged(err error) bool {
	return errors.Is(err, understore.ErrChanged) || errors.Is(err, errObjectChanged) || errors.Is(err, storage.ErrStaleVersion)
}

func (n *Node) observeRead(start time.Time, st *transport.ReadStats) {
	obs := n.metrics.readDurLocal
	switch {
	case st.BytesUnderstore > 0:
		obs = n.metrics.readDurUnderstr
	case st.BytesPeer > 0:
		obs = n.metrics.readDurPeer
	}
	obs.Observe(time.Since(start).Seconds())
}

// serveHere serves the read from this node's pages and the under-store.
func (n *Node) serveHere(ctx context.Context, req *transport.ReadRequest, w *response) error {
	st := w.st
	cachedOnly := req.Flags&transport.FlagCachedOnly != 0
	var m storage.FileMeta
	if cachedOnly {
		// A peer asks for what we hold, without touching the under-store:
		// only the exact version it names is any use to it.
		var ok bool
		m, ok = n.store.Lookup(req.Path)
		if !ok || m.Content.ETag != req.ETag || req.ETag == "" {
			return fmt.Errorf("%s: %w", req.Path, ErrNotOwner)
		}
	} else {
		var err error
		m, err = n.fileMeta(ctx, req.Path, req.Scope, req.Flags&transport.FlagVerify != 0)
		if err != nil {
			return err
		}
		if req.ETag != "" && m.Content.ETag != req.ETag {
			return fmt.Errorf("%w: %s is now version %s, the reader wants %s", errObjectChanged, req.Path, m.Content.ETag, req.ETag)
		}
	}
	if req.Offset > m.Size {
		return fmt.Errorf("%w: offset %d, the file has %d bytes", ErrOutOfRange, req.Offset, m.Size)
	}
	end := min(req.Offset+req.Length, m.Size)
	hdr := transport.ReadHeader{RingVersion: n.ring().Version(), Size: m.Size, ETag: m.Content.ETag, Version: m.Version}
	if end == req.Offset {
		return n.sendHeader(w, st, hdr)
	}
	ps := n.cfg.PageSize
	piece := req.Flags&transport.FlagPiece != 0
	first, last := uint32(req.Offset/ps), uint32((end-1)/ps)
	key := storage.PageKey{File: m.ID, Version: m.Version}

	for wStart := first; wStart <= last; wStart += n.readWindow() {
		wEnd := min(last, wStart+n.readWindow()-1)
		// Resolve the window: local pages now, missing ones in flight.
		type item struct {
			h        *storage.PageHandle
			verified bool // cached and every chunk checked (FlagVerify)
			fl       *flight
			joined   bool // fl was started by another read
		}
		items := make([]item, wEnd-wStart+1)
		verify := req.Flags&transport.FlagVerify != 0
		for idx := wStart; idx <= wEnd; idx++ {
			k := key
			k.Index = idx
			if verify {
				// The reader saw a corrupt chunk: check every chunk here,
				// where a bad page is dropped and fetched again.
				items[idx-wStart].verified = n.verifiedPage(key, idx, m.Size)
				continue
			}
			if h, err := n.store.OpenPage(k); err == nil {
				items[idx-wStart].h = h
			}
		}
		cached := func(idx uint32) bool { it := items[idx-wStart]; return it.h != nil || it.verified }
		if cachedOnly {
			for i := range items {
				if !cached(wStart + uint32(i)) {
					closeHandles(items, func(it item) *storage.PageHandle { return it.h })
					return fmt.Errorf("%s page %d: %w", req.Path, wStart+uint32(i), ErrNotOwner)
				}
			}
		}
		for idx := wStart; idx <= wEnd; idx++ {
			if cached(idx) {
				continue
			}
			runEnd := idx
			for runEnd < wEnd && !cached(runEnd+1) {
				runEnd++
			}
			var fls []*flight
			var joined []bool
			if req.Flags&transport.FlagNoCache != 0 {
				fls, joined = n.fetch.fetchUncached(ctx, key, m.Size, idx, runEnd, n.underReader(req.Path, m))
			} else {
				fls, joined = n.fetch.fetch(key, m.Size, idx, runEnd, req.ReadID, n.underReader(req.Path, m))
			}
			for i, fl := range fls {
				items[idx-wStart+uint32(i)].fl = fl
				items[idx-wStart+uint32(i)].joined = joined[i]
			}
			idx = runEnd
		}
		// Send the window in order.
		for idx := wStart; idx <= wEnd; idx++ {
			it := items[idx-wStart]
			pStart := int64(idx) * ps
			lo := max(req.Offset, pStart) - pStart // range inside the page
			hi := min(end, pStart+pageLen(m.Size, ps, idx)) - pStart
			// A later piece of a split read leaves the page it starts
			// inside of to the piece before (FlagPiece).
			count := !piece || lo == 0
			var err error
			switch {
			case it.h != nil:
				items[idx-wStart].h = nil // sendFromHandle takes it over
				err = n.sendFromHandle(w, st, hdr, pStart, lo, hi, it.h, count)
			case it.fl != nil:
				var data []byte
				data, err = it.fl.wait(ctx)
				if err == nil {
					// A page whose fetch another read started costs this
					// read no under-store request: a hit, served from memory.
					// Not when another piece of the same read started it.
					src := it.fl.source
					if it.joined && (req.ReadID == 0 || it.fl.readID != req.ReadID) {
						src = sourceLocal
					}
					switch {
					case src == sourceLocal:
						st.BytesLocal += hi - lo
						if count {
							st.PagesHit++
							n.metrics.hits.Inc()
						}
						if it.fl.source == sourceLocal {
							// Bytes of a joined fetch were counted when
							// they were fetched.
							n.metrics.readBytesLocal.Add(float64(hi - lo))
						}
					case src == sourcePeer:
						st.BytesPeer += hi - lo
						if count {
							st.PagesMissed++
							n.metrics.misses.Inc()
						}
					default:
						st.BytesUnderstore += hi - lo
						if count {
							st.PagesMissed++
							n.metrics.misses.Inc()
						}
					}
					if err = n.sendHeader(w, st, hdr); err == nil {
						err = w.WriteSegment(pStart+lo, data[lo:hi])
					}
				} else {
					err = fmt.Errorf("read %s: under-store: %w", req.Path, err)
				}
			default:
				// Verified read of a page that passed its CRC check.
				err = n.sendVerified(w, st, hdr, key, idx, pStart, lo, hi, count)
			}
			if err != nil {
				closeHandles(items, func(it item) *storage.PageHandle { return it.h })
				return err
			}
		}
	}
	return nil
}

func closeHandles[T any](items []T, h func(T) *storage.PageHandle) {
	for _, it := range items {
		if p := h(it); p != nil {
			p.Close()
		}
	}
}

func (n *Node) sendHeader(w *response, st *transport.ReadStats, hdr transport.ReadHeader) error {
	if w.headerSent {
		return nil
	}
	w.headerSent = true
	return w.WriteHeader(hdr)
}

// sendFromHandle sends bytes [lo, hi) of a cached page, widened to whole
// CRC chunks so the reader can verify them, straight from the page file (or
// its mapping). It takes over h and closes it when the bytes are out.
func (n *Node) sendFromHandle(w *response, st *transport.ReadStats, hdr transport.ReadHeader, pStart, lo, hi int64, h *storage.PageHandle, count bool) error {
	if err := n.sendHeader(w, st, hdr); err != nil {
		h.Close()
		return err
	}
	cs := int64(h.ChunkSize)
	c0, c1 := lo/cs, (hi+cs-1)/cs
	off, length := c0*cs, min(c1*cs, h.Length)-c0*cs
	var err error
	if h.Mapped != nil {
		err = w.WriteMappedSegment(pStart+off, h.File, h.DataOffset+off, h.Mapped[off:off+length], h.ChunkSize, h.ChunkCRCs[c0:c1], h)
	} else {
		err = w.WriteFileSegment(pStart+off, h.File, h.DataOffset+off, length, h.ChunkSize, h.ChunkCRCs[c0:c1])
		h.Close()
	}
	if err != nil {
		return err
	}
	n.countLocal(st, hi-lo, count)
	return nil
}

// countLocal accounts bytes served from this node's pages, and their page
// as a hit when it counts.
func (n *Node) countLocal(st *transport.ReadStats, bytes int64, count bool) {
	st.BytesLocal += bytes
	n.metrics.readBytesLocal.Add(float64(bytes))
	if count {
		st.PagesHit++
		n.metrics.hits.Inc()
	}
}

// verifiedPage reports whether page idx is cached and passes a full CRC
// check (used on a reader's retry after it saw a corrupt chunk). A corrupt
// page is dropped by the store, so the caller fetches it again.
func (n *Node) verifiedPage(key storage.PageKey, idx uint32, size int64) bool {
	key.Index = idx
	buf := make([]byte, pageLen(size, n.cfg.PageSize, idx))
	_, err := n.store.ReadPage(key, 0, buf)
	if errors.Is(err, storage.ErrCorrupt) {
		n.log.Warn("dropped corrupt page", "file", key.File, "page", idx)
	}
	return err == nil
}

func (n *Node) sendVerified(w *response, st *transport.ReadStats, hdr transport.ReadHeader, key storage.PageKey, idx uint32, pStart, lo, hi int64, count bool) error {
	key.Index = idx
	buf := make([]byte, hi-lo)
	if _, err := n.store.ReadPage(key, lo, buf); err != nil {
		return fmt.Errorf("page %d: %w", idx, err)
	}
	if err := n.sendHeader(w, st, hdr); err != nil {
		return err
	}
	n.countLocal(st, hi-lo, count)
	return w.WriteSegment(pStart+lo, buf)
}

// underReader reads a range of the resolved version of a file: first from
// the node that owned the file before the last ring change (warm handoff on
// scale-out), then from the under-store.
func (n *Node) underReader(p string, m storage.FileMeta) readRangeFunc {
	want := understore.ObjectInfo{Path: p, Size: m.Size, ETag: m.Content.ETag, ModTime: m.Content.ModTime, MetaFP: m.MetaFP}
	return func(ctx context.Context, off int64, buf []byte) (int, string, error) {
		if n.readFromPreviousOwner(ctx, p, m, off, buf) {
			return len(buf), sourcePeer, nil
		}
		nread, err := n.under.ReadAt(ctx, p, want, buf, off)
		n.metrics.understoreReq.WithLabelValues("read", understoreResult(err)).Inc()
		return nread, sourceUnderstore, err
	}
}
