package node

import (
	"context"
	"io"
	"time"

	"github.com/ringcache/ringcache/node/internal/pagefetch"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/understore"
)

// firstReader is the optional under-store method that makes a cold read
// one round trip instead of two (a Stat, then a ranged read): a ranged read
// of whatever version is current that also names that version. Both
// understore implementations have it; an UnderStore without it (a test
// double, a wrapper) keeps the Stat-then-ReadAt path.
type firstReader interface {
	ReadFirst(ctx context.Context, path string, p []byte, off int64) (understore.ObjectInfo, int, error)
}

// prefetched is the first run of a cold read, read together with the
// metadata: the bytes [off, off+len(data)) of the version etag names.
type prefetched struct {
	etag string
	off  int64
	data []byte
}

// firstRunReader returns the ReadFirst to learn a cold read's metadata
// with, or nil: the read needs bytes, may fill the cache, is not a forced
// check, its first page is not cached under the version known now, and no
// previous owner may hold the pages (warm handoff reads those from it).
func (n *Node) firstRunReader(rd *localRead) firstReader {
	fr, ok := n.under.(firstReader)
	if !ok || rd.cachedOnly || rd.verify || rd.noCache || rd.req.Length == 0 {
		return nil
	}
	if m, ok := n.store.Lookup(rd.req.Path); ok {
		k := storage.PageKey{File: m.ID, Version: m.Version, Index: uint32(rd.req.Offset / rd.pageSize)}
		if n.store.HasPage(k) {
			return nil // a Stat will likely confirm what is cached
		}
	}
	if n.inHandoff(rd.req.Path) {
		return nil
	}
	return fr
}

// inHandoff reports whether the node that owned p before the last ring
// change may still hold its pages.
func (n *Node) inHandoff(p string) bool {
	n.prev.Lock()
	prev, at := n.prev.ring, n.prev.at
	n.prev.Unlock()
	if prev == nil || n.now().Sub(at) > handoffWindow {
		return false
	}
	owner := prev.Owner(p)
	return owner != "" && owner != n.id
}

// firstRunSpan is the byte range ReadFirst asks for: the read's first page
// and the pages after it that one coalesced run would fetch (the size is
// not known yet, so the range may run past the end).
func (n *Node) firstRunSpan(rd *localRead) (off, length int64) {
	first := rd.req.Offset / rd.pageSize
	lastByte := rd.req.Offset + rd.req.Length - 1
	pages := min(lastByte/rd.pageSize-first+1, int64(n.cfg.CoalescePages))
	return first * rd.pageSize, pages * rd.pageSize
}

// readFirst issues the one ranged request of a cold read and returns what
// it learned and read.
func (n *Node) readFirst(ctx context.Context, fr firstReader, p string, readID uint64, off, length int64) (understore.ObjectInfo, *prefetched, error) {
	buf := make([]byte, length)
	start := time.Now()
	info, nread, err := fr.ReadFirst(ctx, p, buf, off)
	if err == io.EOF {
		err = nil
	}
	n.metrics.understoreReq.WithLabelValues("read", understoreResult(err)).Inc()
	n.logUnder(ctx, "read-first", p, readID, off, len(buf), start, err)
	if err != nil {
		return info, nil, err
	}
	return info, &prefetched{etag: info.ETag, off: off, data: buf[:nread]}, nil
}

// withPrefetched serves ranges inside the prefetched bytes from them and
// the rest with read.
func withPrefetched(pre *prefetched, etag string, read pagefetch.ReadRangeFunc) pagefetch.ReadRangeFunc {
	if pre == nil || pre.etag != etag {
		return read
	}
	return func(ctx context.Context, off int64, buf []byte) (int, string, error) {
		if off >= pre.off && off+int64(len(buf)) <= pre.off+int64(len(pre.data)) {
			return copy(buf, pre.data[off-pre.off:]), sourceUnderstore, nil
		}
		return read(ctx, off, buf)
	}
}
