package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/ringcache/ringcache/node/internal/pagefetch"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// The owner's half of a write (CONTRACT.md "S3 gateway", writes; seed
// 000's CACHE_THROUGH). The owner of a path takes every write of it: it
// streams the body to the under-store and, as the bytes pass, into the
// spool; once the under-store has acknowledged the write it records the
// new version, cuts the spooled bytes into that version's pages, and tells
// every other member to drop what it holds of the path (an
// invalidate-by-path broadcast, answered before the write is), so every
// node serves the new bytes at once and this one serves them from its
// pages. Writes of one path are serialized here, so the cached version is
// the one the under-store acknowledged last.

// writeLocks serialize the writes of one path, and only of one path: a
// write holds its path's lock from the first byte to the broadcast, so the
// version the cache records is the one the under-store acknowledged last.
// Writes of other paths never wait for it (a 5 GiB upload holds its lock
// for minutes).
type writeLocks struct {
	mu    sync.Mutex
	paths map[string]*pathLock
}

type pathLock struct {
	mu   sync.Mutex
	refs int // writers holding or waiting for mu; guarded by writeLocks.mu
}

func (w *writeLocks) lock(p string) func() {
	w.mu.Lock()
	if w.paths == nil {
		w.paths = make(map[string]*pathLock)
	}
	l := w.paths[p]
	if l == nil {
		l = &pathLock{}
		w.paths[p] = l
	}
	l.refs++
	w.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		w.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(w.paths, p)
		}
		w.mu.Unlock()
	}
}

// isMarker reports a directory marker ("bucket/dir/"): it passes through
// to the under-store but is not a file of the page store.
func isMarker(p string) bool { return strings.HasSuffix(p, "/") }

// underWriter is the under-store's write side, or ErrWriteUnsupported.
func (n *Node) underWriter() (UnderWriter, error) {
	w, ok := n.cfg.UnderStore.(UnderWriter)
	if !ok {
		return nil, fmt.Errorf("%w: no writes", ErrWriteUnsupported)
	}
	return w, nil
}

func (n *Node) multiparter() (understore.Multiparter, error) {
	m, ok := n.cfg.UnderStore.(understore.Multiparter)
	if !ok {
		return nil, fmt.Errorf("%w: no multipart uploads", ErrWriteUnsupported)
	}
	return m, nil
}

func (n *Node) copier() (understore.Copier, error) {
	c, ok := n.cfg.UnderStore.(understore.Copier)
	if !ok {
		return nil, fmt.Errorf("%w: no copies", ErrWriteUnsupported)
	}
	return c, nil
}

// putHere writes body through to the under-store from this node; with fill
// (this node owns p) the bytes also become the new version's pages.
func (n *Node) putHere(ctx context.Context, p string, body io.Reader, size int64, fill bool) (understore.ObjectInfo, error) {
	w, err := n.underWriter()
	if err != nil {
		return understore.ObjectInfo{}, err
	}
	unlock := n.writes.lock(p)
	defer unlock()
	var sf *spoolFile
	if fill && !isMarker(p) && size > 0 {
		if sf, err = n.spool.create("", size); err != nil && !errors.Is(err, errSpoolFull) {
			n.log.Warn("write spool", "path", p, "err", err)
		}
		defer sf.discard()
	}
	r := body
	if sf != nil {
		r = sf.pipe(ctx, body, size)
	}
	info, err := w.Put(ctx, p, r, size)
	n.metrics.understoreReq.WithLabelValues("put", understoreResult(err)).Inc()
	n.countWrite("put", size, err)
	if err != nil {
		return understore.ObjectInfo{}, err
	}
	var pages io.ReaderAt
	if sf.complete() && info.Size == size {
		pages = sf.f
	}
	n.commitWrite(ctx, p, info, pages)
	return info, nil
}

// commitWrite makes an acknowledged write visible: the new version
// recorded here (with its pages from fill, when given), and every other
// member told to drop the path. It runs under the path's write lock.
func (n *Node) commitWrite(ctx context.Context, p string, info understore.ObjectInfo, fill io.ReaderAt) {
	now := n.now()
	n.meta.wrote(p, now)
	if !isMarker(p) {
		m, err := n.store.Upsert(p, storage.Fingerprint{ETag: info.ETag, Size: info.Size, ModTime: info.ModTime}, info.MetaFP, "")
		if err != nil {
			// The old version must not survive as the cached one.
			n.log.Warn("record written version", "path", p, "err", err)
			n.dropLocal(p)
		} else {
			n.meta.markSynced(p, now)
			if fill != nil {
				n.fillPages(m, fill)
			}
		}
	}
	n.objectChanged(p)
	n.announce(ctx, p)
}

// fillWorkers is how many pages of a written version are stored at once:
// storing a page is a few syscalls and a journal record (group-committed),
// so a handful in flight keeps the disk busy instead of waiting on each.
const fillWorkers = 4

// fillPages cuts a written version's bytes (read from r at their offsets)
// into its pages. A page that cannot be stored (the store full of pinned
// pages, a disk error) is logged and skipped: later reads fetch it.
func (n *Node) fillPages(m storage.FileMeta, r io.ReaderAt) {
	ps := n.cfg.PageSize
	count := pagefetch.PageCount(m.Size, ps)
	next := make(chan uint32)
	var wg sync.WaitGroup
	for range min(fillWorkers, int(count)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, ps)
			for i := range next {
				l := pagefetch.PageLen(m.Size, ps, i)
				if _, err := r.ReadAt(buf[:l], int64(i)*ps); err != nil && !(errors.Is(err, io.EOF) && int64(l) == m.Size-int64(i)*ps) {
					n.log.Warn("fill written pages", "path", m.Path, "page", i, "err", err)
					continue
				}
				if err := n.store.PutPage(storage.PageKey{File: m.ID, Version: m.Version, Index: i}, buf[:l]); err != nil &&
					!errors.Is(err, storage.ErrStaleVersion) {
					n.log.Warn("fill written pages", "path", m.Path, "page", i, "err", err)
				}
			}
		}()
	}
	for i := range count {
		next <- i
	}
	close(next)
	wg.Wait()
}

// dropLocal forgets this node's cached version and metadata of p.
func (n *Node) dropLocal(p string) {
	n.meta.forget(p)
	if _, ok := n.store.Lookup(p); ok {
		if err := n.store.Invalidate(p); err != nil {
			n.log.Warn("drop cached version", "path", p, "err", err)
		}
	}
}

// objectChanged tells this node's S3 gateway that p changed (its cached
// listings under p's directory go).
func (n *Node) objectChanged(p string) {
	if n.s3 != nil {
		n.s3.ObjectChanged(p)
	}
}

// announce tells every other member that p changed: each drops its cached
// version, its metadata and its gateway's listings of p before the write
// is answered. A member that cannot be told is logged; its copy expires
// with the sync interval.
func (n *Node) announce(ctx context.Context, p string) {
	var others []string
	for _, id := range n.ring().Members() {
		if id != n.id {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return
	}
	actx := context.WithoutCancel(ctx) // the write is done: tell everyone
	errs := n.broadcastTo(actx, others, func(ctx context.Context, id string, cc transport.ControlClient) error {
		_, err := cc.Invalidate(ctx, &transport.InvalidateRequest{Path: p, NoForward: true})
		return err
	})
	for id, err := range errs {
		if err != nil {
			n.log.Warn("member not told of a write; its copy expires with the sync interval", "member", id, "path", p, "err", err)
		}
	}
}

// deleteHere deletes p at the under-store and everywhere it is cached.
func (n *Node) deleteHere(ctx context.Context, p string) error {
	w, err := n.underWriter()
	if err != nil {
		return err
	}
	unlock := n.writes.lock(p)
	defer unlock()
	err = w.Delete(ctx, p)
	n.metrics.understoreReq.WithLabelValues("delete", understoreResult(err)).Inc()
	n.countWrite("delete", 0, err)
	if err != nil {
		return err
	}
	n.meta.wrote(p, n.now())
	n.dropLocal(p)
	n.objectChanged(p)
	n.announce(ctx, p)
	return nil
}

// copyHere copies src to dst at the under-store (this node owns dst).
// Its bytes do not pass through here, so dst starts uncached; its metadata
// is recorded at once.
func (n *Node) copyHere(ctx context.Context, src, dst, ifMatch string) (understore.ObjectInfo, error) {
	c, err := n.copier()
	if err != nil {
		return understore.ObjectInfo{}, err
	}
	unlock := n.writes.lock(dst)
	defer unlock()
	info, err := c.Copy(ctx, src, dst, understore.ObjectInfo{ETag: ifMatch})
	n.metrics.understoreReq.WithLabelValues("copy", understoreResult(err)).Inc()
	n.countWrite("copy", 0, err)
	if err != nil {
		return understore.ObjectInfo{}, err
	}
	n.commitWrite(ctx, dst, info, nil)
	return info, nil
}

// uploadPartHere uploads one part and, with fill, spools it for the
// cache fill at Complete.
func (n *Node) uploadPartHere(ctx context.Context, p, id string, num int, body io.Reader, size int64, fill bool) (understore.PartInfo, error) {
	mp, err := n.multiparter()
	if err != nil {
		return understore.PartInfo{}, err
	}
	var sf *spoolFile
	var dir string
	if fill && !isMarker(p) && size > 0 {
		if dir, err = n.spool.uploadDir(id, true); err == nil {
			sf, err = n.spool.create(dir, size)
		}
		if err != nil && !errors.Is(err, errSpoolFull) {
			n.log.Warn("write spool", "path", p, "err", err)
		}
	}
	r := body
	if sf != nil {
		r = sf.pipe(ctx, body, size)
	}
	part, err := mp.UploadPart(ctx, p, id, num, r, size)
	n.metrics.understoreReq.WithLabelValues("upload_part", understoreResult(err)).Inc()
	n.countWrite("upload_part", size, err)
	if err != nil || !sf.complete() {
		sf.discard()
		return part, err
	}
	if err := n.spool.keepPart(dir, num, sf, part.ETag); err != nil {
		n.log.Warn("write spool", "path", p, "err", err)
	}
	return part, nil
}

// completeHere completes an upload and fills the new version's pages from
// the spooled parts when this node took all of them.
func (n *Node) completeHere(ctx context.Context, p, id string, parts []understore.CompletedPart) (understore.ObjectInfo, error) {
	mp, err := n.multiparter()
	if err != nil {
		return understore.ObjectInfo{}, err
	}
	unlock := n.writes.lock(p)
	defer unlock()
	info, err := mp.CompleteUpload(ctx, p, id, parts)
	n.metrics.understoreReq.WithLabelValues("complete_upload", understoreResult(err)).Inc()
	n.countWrite("complete_upload", 0, err)
	if err != nil {
		return understore.ObjectInfo{}, err // the spooled parts stay for a retry
	}
	dir, _ := n.spool.uploadDir(id, false)
	defer n.spool.dropUpload(dir)
	nums := make([]int, len(parts))
	etags := make([]string, len(parts))
	for i, pt := range parts {
		nums[i], etags[i] = pt.Number, pt.ETag
	}
	var fill io.ReaderAt
	if spooled, ok := n.spool.parts(dir, nums, etags); ok {
		if r, err := openParts(spooled); err == nil && r.size == info.Size {
			defer r.close()
			fill = r
		} else if err == nil {
			r.close()
		}
	}
	n.commitWrite(ctx, p, info, fill)
	return info, nil
}

// abortHere aborts an upload and drops its spooled parts.
func (n *Node) abortHere(ctx context.Context, p, id string) error {
	mp, err := n.multiparter()
	if err != nil {
		return err
	}
	err = mp.AbortUpload(ctx, p, id)
	n.metrics.understoreReq.WithLabelValues("abort_upload", understoreResult(err)).Inc()
	n.countWrite("abort_upload", 0, err)
	if dir, derr := n.spool.uploadDir(id, false); derr == nil {
		n.spool.dropUpload(dir)
	}
	return err
}
