package listing

import (
	"container/list"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ringcache/ringcache/understore"
)

// startKind says where a page starts.
type startKind uint8

const (
	startFirst startKind = iota // the listing's first page
	startToken                  // after an under-store NextToken
	startAfter                  // strictly after a key (start-after, marker)
)

// pageKey names one under-store page: the listing, where the page starts
// and its size. Identical requests map to identical keys, and the pages of
// a listing followed by its continuation tokens map to the same keys every
// time (the tokens come from the cached pages), so a repeated full listing
// is all hits.
type pageKey struct {
	bucket, prefix, delimiter string
	kind                      startKind
	start                     string // under-store token or key; "" for startFirst
	limit                     int
}

// pageCache holds under-store pages for a TTL in an LRU of bounded size,
// and lets concurrent identical misses share one under-store call.
//
// Invalidation and in-flight fetches: every Invalidate bumps gen. A fetch
// remembers the gen it started under and stores its page only if gen is
// unchanged (its answer may predate the write), and the single-flight key
// includes gen, so a request that arrives after an Invalidate never joins a
// fetch that started before it.
type pageCache struct {
	ttl          time.Duration // 0: nothing is stored
	maxEntries   int
	fetchTimeout time.Duration
	now          func() time.Time

	group singleflight.Group
	// waiting counts requests waiting on an under-store call (tests use it
	// to know that concurrent misses have joined one flight).
	waiting atomic.Int64

	mu    sync.Mutex
	lru   *list.List // of *cacheEntry, most recently used first
	items map[pageKey]*list.Element
	gen   uint64
}

type cacheEntry struct {
	key     pageKey
	page    understore.ListPage // shared by every hit: read-only
	expires time.Time
}

func newPageCache(cfg Config) *pageCache {
	return &pageCache{
		ttl:          cfg.TTL,
		maxEntries:   cfg.MaxEntries,
		fetchTimeout: cfg.FetchTimeout,
		now:          cfg.Now,
		lru:          list.New(),
		items:        map[pageKey]*list.Element{},
	}
}

// get returns the cached page for k, or fetches it (once for all
// concurrent callers of the same k). The fetch runs on a context that no
// single caller's cancellation ends (others may be waiting for it), bounded
// by fetchTimeout; each caller still returns when its own ctx ends.
func (c *pageCache) get(ctx context.Context, k pageKey, fetch func(context.Context) (understore.ListPage, error)) (understore.ListPage, error) {
	page, ok, gen := c.lookup(k)
	if ok {
		return page, nil
	}
	ch := c.group.DoChan(flightKey(gen, k), func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.fetchTimeout)
		defer cancel()
		page, err := fetch(fctx)
		if err == nil {
			c.store(k, page, gen)
		}
		return page, err
	})
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	select {
	case r := <-ch:
		if r.Err != nil {
			return understore.ListPage{}, r.Err
		}
		return r.Val.(understore.ListPage), nil
	case <-ctx.Done():
		return understore.ListPage{}, ctx.Err()
	}
}

// lookup returns a live entry (and marks it used), dropping an expired
// one, and the current generation.
func (c *pageCache) lookup(k pageKey) (understore.ListPage, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return understore.ListPage{}, false, c.gen
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.remove(el)
		return understore.ListPage{}, false, c.gen
	}
	c.lru.MoveToFront(el)
	return e.page, true, c.gen
}

// store keeps a page fetched under gen, unless an Invalidate came since.
func (c *pageCache) store(k pageKey, page understore.ListPage, gen uint64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	e := &cacheEntry{key: k, page: page, expires: c.now().Add(c.ttl)}
	if el, ok := c.items[k]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.items[k] = c.lru.PushFront(e)
	for c.lru.Len() > c.maxEntries {
		c.remove(c.lru.Back())
	}
}

func (c *pageCache) remove(el *list.Element) {
	delete(c.items, el.Value.(*cacheEntry).key)
	c.lru.Remove(el)
}

// invalidate drops the pages of every listing of bucket whose prefix
// overlaps prefix (one is a prefix of the other): a write of key K changes
// exactly the listings whose prefix K starts with, and Invalidate(b, "")
// drops the whole bucket.
func (c *pageCache) invalidate(bucket, prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		k := el.Value.(*cacheEntry).key
		if k.bucket == bucket && (strings.HasPrefix(k.prefix, prefix) || strings.HasPrefix(prefix, k.prefix)) {
			c.remove(el)
		}
		el = next
	}
}

// len is the number of entries held (live or not yet noticed expired).
func (c *pageCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// flightKey is an unambiguous string for the single-flight group.
func flightKey(gen uint64, k pageKey) string {
	return fmt.Sprintf("%d|%q|%q|%q|%d|%q|%d", gen, k.bucket, k.prefix, k.delimiter, k.kind, k.start, k.limit)
}
