package node

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/understore"
)

// metaCache remembers when each file's metadata was last checked against the
// under-store. The metadata itself lives in the store (journaled); only the
// check time is in memory, so after a restart every file is re-checked once
// on first use, and its cached pages stay valid if the fingerprint matches.
type metaCache struct {
	mu     sync.Mutex
	synced map[string]time.Time
	// written is when a write of the path through this node was last
	// acknowledged: a Stat that began before it may have seen the old
	// version and must not record it over the written one.
	written map[string]time.Time
	group   singleflight.Group
}

func newMetaCache() *metaCache {
	return &metaCache{synced: make(map[string]time.Time), written: make(map[string]time.Time)}
}

// wrote records an acknowledged write of p at t. Entries older than
// writtenTTL are dropped as new ones come: a Stat older than that has long
// finished.
func (c *metaCache) wrote(p string, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written[p] = t
	if len(c.written) > 4096 {
		for q, at := range c.written {
			if t.Sub(at) > writtenTTL {
				delete(c.written, q)
			}
		}
	}
}

// writtenTTL bounds how long a write is remembered for wroteSince: longer
// than any Stat may take (UnderStoreTimeout's default is 30 s).
const writtenTTL = 10 * time.Minute

// wroteSince reports a write of p acknowledged at or after t.
func (c *metaCache) wroteSince(p string, t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.written[p]
	return ok && !at.Before(t)
}

func (c *metaCache) syncedAt(p string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.synced[p]
	return t, ok
}

func (c *metaCache) markSynced(p string, t time.Time) {
	c.mu.Lock()
	c.synced[p] = t
	c.mu.Unlock()
}

func (c *metaCache) forget(p string) {
	c.mu.Lock()
	delete(c.synced, p)
	c.mu.Unlock()
}

func (c *metaCache) forgetPrefix(prefix string) {
	c.mu.Lock()
	for p := range c.synced {
		if len(p) >= len(prefix) && p[:len(prefix)] == prefix {
			delete(c.synced, p)
		}
	}
	c.mu.Unlock()
}

// defaultScope is the scope a file's pages are accounted to when the reader
// gives none: the file's directory (`db/table/partition` in a Hive layout).
func defaultScope(p string) string {
	return path.Dir(p)
}

// fileMeta returns the file's metadata, checking the under-store when the
// last check is older than the sync interval (or force is set). Concurrent
// callers for one path share one Stat, but only one that began late enough
// for them: a read that starts after an object was overwritten must not be
// answered by a Stat that began before the overwrite (with a short sync
// interval, readers racing writes would see the old version). So a caller
// whose shared Stat began more than the sync interval before the caller
// arrived (always, when force is set) runs one more.
func (n *Node) fileMeta(ctx context.Context, p, scope string, force bool) (storage.FileMeta, error) {
	m, _, err := n.fileMetaVia(ctx, p, scope, force, nil)
	return m, err
}

// firstRun reads a cold read's first run of pages and learns the version
// they belong to (readFirst bound to one read).
type firstRun func(ctx context.Context) (understore.ObjectInfo, *prefetched, error)

// fileMetaVia is fileMeta where a check this caller leads is made with
// first, when given, instead of a Stat: the metadata comes with the read's
// first bytes, which are returned too (nil when a Stat, or another
// caller's check, answered). The freshness rules are fileMeta's.
func (n *Node) fileMetaVia(ctx context.Context, p, scope string, force bool, first firstRun) (storage.FileMeta, *prefetched, error) {
	if scope == "" {
		scope = defaultScope(p)
	}
	arrived := n.now()
	if !force {
		if m, ok := n.store.Lookup(p); ok {
			if at, ok := n.meta.syncedAt(p); ok && arrived.Sub(at) < n.cfg.SyncInterval && m.Scope == scope {
				return m, nil, nil
			}
		}
	}
	for {
		r, err := n.statOnce(ctx, p, scope, first)
		if statFreshFor(r.checked, arrived, force, n.cfg.SyncInterval) {
			if err != nil {
				return storage.FileMeta{}, nil, err
			}
			return r.meta, r.pre, nil
		}
		// The shared Stat (or its failure) began before this caller
		// arrived and is too old for it: it has finished, so the next one
		// begins later.
		if ctx.Err() != nil {
			return storage.FileMeta{}, nil, ctx.Err()
		}
	}
}

// statFreshFor reports whether a Stat that began at checked may answer a
// caller that arrived at arrived: one that began after the caller arrived
// always may; an earlier one only within the sync interval, and never for a
// forced check.
func statFreshFor(checked, arrived time.Time, force bool, sync time.Duration) bool {
	return !checked.Before(arrived) || (!force && arrived.Sub(checked) < sync)
}

// statResult is a shared Stat's outcome and when that Stat began.
type statResult struct {
	meta    storage.FileMeta
	checked time.Time
	pre     *prefetched // the first bytes, when a ReadFirst made the check
}

// statOnce checks the under-store (with first when given, else a Stat) and
// records the file's metadata, shared by the concurrent callers for one
// path and scope: a joiner waits for the metadata the leader learns.
func (n *Node) statOnce(ctx context.Context, p, scope string, first firstRun) (statResult, error) {
	v, err, _ := n.meta.group.Do(p+"\x00"+scope, func() (any, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.UnderStoreTimeout)
		defer cancel()
		checked := n.now()
		r := statResult{checked: checked}
		var info understore.ObjectInfo
		var err error
		if first != nil {
			info, r.pre, err = first(sctx)
		} else {
			info, err = n.under.Stat(sctx, p)
			n.metrics.understoreReq.WithLabelValues("stat", understoreResult(err)).Inc()
		}
		if err != nil {
			if errors.Is(err, understore.ErrNotFound) {
				// Gone from the under-store: nothing cached may be served.
				if _, ok := n.store.Lookup(p); ok {
					if ierr := n.store.Invalidate(p); ierr != nil {
						n.log.Warn("drop deleted file", "path", p, "err", ierr)
					}
				}
				n.meta.forget(p)
			}
			return r, err // names the operation and the path
		}
		if n.meta.wroteSince(p, checked) {
			// A write through this node was acknowledged while the Stat
			// ran: what it saw may be the old version; the write recorded
			// the new one.
			if m, ok := n.store.Lookup(p); ok && m.Scope == scope {
				r.meta = m
				return r, nil
			}
		}
		m, err := n.store.Upsert(p, storage.Fingerprint{ETag: info.ETag, Size: info.Size, ModTime: info.ModTime}, info.MetaFP, scope)
		if err != nil {
			return r, fmt.Errorf("record metadata of %s: %w", p, err)
		}
		n.meta.markSynced(p, checked)
		r.meta = m
		return r, nil
	})
	return v.(statResult), err
}
