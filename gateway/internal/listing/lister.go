// Package listing answers the S3 gateway's listing operations
// (ListObjectsV2, ListObjects, ListBuckets, and the bucket-existence checks
// of HeadBucket and GetBucketLocation) from the under-store, with S3's
// semantics, and caches the under-store's pages for the node's sync
// interval (seed 003): a repeated listing costs no under-store call.
//
// It owns query parsing and validation, its own continuation token (see
// token.go), the page and bucket caches, and the XML result types. It does
// not speak HTTP, sign or check requests, or write: the gateway package
// does, and calls Invalidate when it writes.
//
// One client page is one under-store page of the same size: the listing
// never holds more than MaxKeys entries per request, however big the
// prefix.
//
// Directory markers: keys ending in "/" are listed as the under-store has
// them. An S3 under-store's markers are objects and appear as S3 lists them
// (a key "dir/" in a recursive listing and under prefix "dir/"). A
// local-directory under-store has directories, not markers: a directory
// holding objects is a common prefix under delimiter "/" and is not a key
// in a recursive listing, and an empty directory does not appear at all —
// the listing S3 gives of a tree uploaded with `aws s3 cp --recursive`,
// which writes no markers.
package listing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ringcache/ringcache/understore"
)

// Store is what listing needs of the under-store (understore.Store
// satisfies it). If it also implements understore.AfterLister, start-after
// and marker cost one call; otherwise they page from the start.
type Store interface {
	List(ctx context.Context, prefix, delimiter, token string, limit int) (understore.ListPage, error)
	Buckets(ctx context.Context) ([]string, error)
}

// Defaults for Config.
const (
	DefaultMaxEntries   = 4096
	DefaultFetchTimeout = 30 * time.Second
	DefaultOwnerID      = "ringcache"
)

// Config tunes a Lister. A zero field means the default.
type Config struct {
	// TTL is how long a page and the bucket list are served from memory:
	// the node's sync interval. 0 means no caching (concurrent identical
	// requests still share one under-store call).
	TTL time.Duration
	// MaxEntries bounds the cached pages (LRU). A page holds at most
	// MaxKeys entries, so memory is about MaxEntries × MaxKeys × (key +
	// ~100 bytes) at worst. Default 4096.
	MaxEntries int
	// FetchTimeout bounds one under-store call made on behalf of waiting
	// requests (it outlives a single caller's cancellation). Default 30s.
	FetchTimeout time.Duration
	// Owner is the owner reported for objects and by ListBuckets. Default
	// ID and DisplayName "ringcache".
	Owner Owner
	// BucketCreated is every bucket's CreationDate in ListBuckets: the
	// under-store does not report one. Default the Unix epoch.
	BucketCreated time.Time
	// Now is the clock for TTLs. Default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.FetchTimeout == 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.Owner == (Owner{}) {
		c.Owner = Owner{ID: DefaultOwnerID, DisplayName: DefaultOwnerID}
	}
	if c.BucketCreated.IsZero() {
		c.BucketCreated = time.Unix(0, 0)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate checks the Config after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.TTL < 0:
		return fmt.Errorf("listing: config: TTL %v < 0", c.TTL)
	case c.MaxEntries < 1:
		return fmt.Errorf("listing: config: MaxEntries %d < 1", c.MaxEntries)
	case c.FetchTimeout < 0:
		return fmt.Errorf("listing: config: FetchTimeout %v < 0", c.FetchTimeout)
	}
	return nil
}

// Lister answers listings. It is safe for concurrent use.
type Lister struct {
	store   Store
	cfg     Config
	pages   *pageCache
	buckets *bucketCache
}

// New returns a Lister over store.
func New(store Store, cfg Config) (*Lister, error) {
	if store == nil {
		return nil, errors.New("listing: nil Store")
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Lister{
		store: store,
		cfg:   cfg,
		pages: newPageCache(cfg),
		buckets: &bucketCache{
			ttl: cfg.TTL, fetchTimeout: cfg.FetchTimeout, now: cfg.Now, fetch: store.Buckets,
		},
	}, nil
}

// BucketExists reports whether the under-store has bucket, from the bucket
// list cached for TTL.
func (l *Lister) BucketExists(ctx context.Context, bucket string) (bool, error) {
	names, err := l.buckets.get(ctx)
	if err != nil {
		return false, err
	}
	_, ok := slices.BinarySearch(names, bucket)
	return ok, nil
}

// ListBuckets answers ListBuckets from the cached bucket list.
func (l *Lister) ListBuckets(ctx context.Context) (*ListAllMyBucketsResult, error) {
	names, err := l.buckets.get(ctx)
	if err != nil {
		return nil, err
	}
	res := &ListAllMyBucketsResult{Owner: l.cfg.Owner, Buckets: make([]Bucket, len(names))}
	created := FormatTime(l.cfg.BucketCreated)
	for i, n := range names {
		res.Buckets[i] = Bucket{Name: n, CreationDate: created}
	}
	return res, nil
}

// Invalidate drops the cached pages of bucket's listings whose prefix
// overlaps prefix (the write path calls it with the written key; "" drops
// the bucket's every listing). Pages being fetched while it runs are not
// cached.
func (l *Lister) Invalidate(bucket, prefix string) {
	l.pages.invalidate(bucket, prefix)
}

// InvalidateBuckets forgets the cached bucket list.
func (l *Lister) InvalidateBuckets() { l.buckets.invalidate() }

// CachedPages is the number of pages held (for metrics and tests).
func (l *Lister) CachedPages() int { return l.pages.len() }
