package listing

import (
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// bucketCache holds the under-store's bucket list for a TTL. The whole
// list is one entry: a node serves few buckets, and one Buckets call
// answers every existence check until it expires (an unknown bucket is
// answered from it too, so probing for buckets costs nothing).
type bucketCache struct {
	ttl          time.Duration
	fetchTimeout time.Duration
	now          func() time.Time
	fetch        func(context.Context) ([]string, error)

	group singleflight.Group

	mu      sync.Mutex
	names   []string // sorted
	expires time.Time
	gen     uint64 // bumped by invalidate, as in pageCache
}

// get returns the sorted bucket names, from the cache when fresh.
func (c *bucketCache) get(ctx context.Context) ([]string, error) {
	c.mu.Lock()
	if c.names != nil && c.now().Before(c.expires) {
		names := c.names
		c.mu.Unlock()
		return names, nil
	}
	gen := c.gen
	c.mu.Unlock()
	ch := c.group.DoChan(flightKey(gen, pageKey{}), func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.fetchTimeout)
		defer cancel()
		names, err := c.fetch(fctx)
		if err != nil {
			return nil, err
		}
		names = slices.Clone(names)
		slices.Sort(names)
		names = slices.Compact(names)
		if names == nil {
			names = []string{} // cached "no buckets" differs from "not cached"
		}
		c.mu.Lock()
		if c.ttl > 0 && gen == c.gen {
			c.names, c.expires = names, c.now().Add(c.ttl)
		}
		c.mu.Unlock()
		return names, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]string), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// invalidate forgets the list (a bucket was created or removed).
func (c *bucketCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.names = nil
}
