package listing

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/understore"
	"github.com/ringcache/ringcache/understore/s3test"
)

// backend is a real under-store the listing tests run on.
type backend struct {
	name string
	// open returns a store holding one bucket "lake" with keys.
	open func(t *testing.T, keys []string) understore.Store
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// localBackend writes the keys as files under t.TempDir()/lake.
func localBackend() backend {
	return backend{name: "local", open: func(t *testing.T, keys []string) understore.Store {
		st, _ := localStore(t, keys)
		return st
	}}
}

// localStore is localBackend's store and its directory.
func localStore(t *testing.T, keys []string) (understore.Store, string) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lake"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		p := filepath.Join(dir, "lake", filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(k), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return openStore(t, understore.Config{URL: "file://" + dir}), dir
}

// s3Backend puts the keys into bucket "lake" of a real S3 server.
func s3Backend(name string, start func(t *testing.T) (ep, ak, sk string)) backend {
	return backend{name: name, open: func(t *testing.T, keys []string) understore.Store {
		ep, ak, sk := start(t)
		s3test.CreateBucket(t, ep, ak, sk, "lake")
		st := openStore(t, understore.Config{URL: "s3://", Endpoint: ep, PathStyle: true, AccessKey: ak, SecretKey: sk})
		putAll(t, st, keys)
		return st
	}}
}

func gofakes3Backend() backend {
	return s3Backend("gofakes3", func(t *testing.T) (string, string, string) {
		ep, _ := s3test.StartGofakes3(t)
		return ep, s3test.AccessKey, s3test.SecretKey
	})
}

func versityBackend() backend {
	return s3Backend("versitygw", func(t *testing.T) (string, string, string) {
		if testing.Short() {
			t.Skip("starts a versitygw process")
		}
		return s3test.StartVersity(t)
	})
}

func allBackends() []backend { return []backend{localBackend(), gofakes3Backend(), versityBackend()} }

func openStore(t *testing.T, cfg understore.Config) understore.Store {
	st, err := understore.Open(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// putAll writes keys with a few concurrent Puts (an S3 server is slow one
// request at a time).
func putAll(t *testing.T, st understore.Store, keys []string) {
	ctx := ctxT(t)
	var wg sync.WaitGroup
	ch := make(chan string)
	var failed atomic.Value
	for range 8 {
		wg.Go(func() {
			for k := range ch {
				if _, err := st.Put(ctx, "lake/"+k, bytes.NewReader([]byte(k)), int64(len(k))); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	for _, k := range keys {
		ch <- k
	}
	close(ch)
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		t.Fatalf("put: %v", err)
	}
}

// countingStore counts the calls that reach the under-store. When gate is
// set, List and ListAfter wait for it to close first.
type countingStore struct {
	inner          understore.Store
	lists, buckets atomic.Int64
	gate           chan struct{}
}

func (c *countingStore) wait() {
	if c.gate != nil {
		<-c.gate
	}
}

func (c *countingStore) List(ctx context.Context, prefix, delimiter, token string, limit int) (understore.ListPage, error) {
	c.lists.Add(1)
	c.wait()
	return c.inner.List(ctx, prefix, delimiter, token, limit)
}

func (c *countingStore) ListAfter(ctx context.Context, prefix, delimiter, after string, limit int) (understore.ListPage, error) {
	c.lists.Add(1)
	c.wait()
	return c.inner.(understore.AfterLister).ListAfter(ctx, prefix, delimiter, after, limit)
}

func (c *countingStore) Buckets(ctx context.Context) ([]string, error) {
	c.buckets.Add(1)
	return c.inner.Buckets(ctx)
}

// plainStore hides ListAfter, for the paging fallback.
type plainStore struct{ Store }

// fakeClock is an injected clock for TTLs.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newLister(t *testing.T, st Store, cfg Config) *Lister {
	t.Helper()
	l, err := New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// entry is a listed key or common prefix, decoded.
type entry struct {
	name   string
	prefix bool
}

// model is S3's listing of keys under prefix and delimiter, strictly after
// after (a common prefix that after falls inside of is skipped).
func model(keys []string, prefix, delimiter, after string) []entry {
	keys = slices.Sorted(slices.Values(keys))
	var out []entry
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		e := entry{name: k}
		if delimiter != "" {
			if i := strings.Index(k[len(prefix):], delimiter); i >= 0 {
				e = entry{name: k[:len(prefix)+i+len(delimiter)], prefix: true}
			}
		}
		if e.name <= after || (len(out) > 0 && out[len(out)-1] == e) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// pageEntries merges a result's keys and prefixes in order, decoding them
// when url-encoded.
func pageEntries(t *testing.T, contents []Object, cps []CommonPrefix, encoded bool) []entry {
	t.Helper()
	dec := func(s string) string {
		if !encoded {
			return s
		}
		d, err := url.QueryUnescape(s)
		if err != nil {
			t.Fatalf("decode %q: %v", s, err)
		}
		return d
	}
	var out []entry
	for _, o := range contents {
		out = append(out, entry{name: dec(o.Key)})
	}
	for _, p := range cps {
		out = append(out, entry{name: dec(p.Prefix), prefix: true})
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	return out
}

// listV2 follows continuation tokens to the end; it returns every entry and
// the size of each page.
func listV2(t *testing.T, l *Lister, q Query) (all []entry, sizes []int) {
	t.Helper()
	q.V2 = true
	for range 100000 {
		r, err := l.ListObjects(ctxT(t), q)
		if err != nil {
			t.Fatalf("ListObjects(%+v): %v", q, err)
		}
		res := r.(*ListBucketResultV2)
		got := pageEntries(t, res.Contents, res.CommonPrefixes, q.EncodingURL)
		if res.KeyCount != len(got) || len(got) > q.MaxKeys {
			t.Fatalf("page of %d entries: KeyCount %d, MaxKeys %d", len(got), res.KeyCount, q.MaxKeys)
		}
		all, sizes = append(all, got...), append(sizes, len(got))
		if !res.IsTruncated {
			if res.NextContinuationToken != "" {
				t.Fatal("NextContinuationToken on the last page")
			}
			return all, sizes
		}
		q.ContinuationToken = res.NextContinuationToken
	}
	t.Fatal("listing does not end")
	return nil, nil
}

// listV1 follows NextMarker (with a delimiter) or the last key, as clients
// do.
func listV1(t *testing.T, l *Lister, q Query) (all []entry, sizes []int) {
	t.Helper()
	q.V2 = false
	for range 100000 {
		r, err := l.ListObjects(ctxT(t), q)
		if err != nil {
			t.Fatalf("ListObjects(%+v): %v", q, err)
		}
		res := r.(*ListBucketResultV1)
		got := pageEntries(t, res.Contents, res.CommonPrefixes, q.EncodingURL)
		all, sizes = append(all, got...), append(sizes, len(got))
		if !res.IsTruncated {
			return all, sizes
		}
		switch {
		case q.Delimiter != "":
			if res.NextMarker == "" {
				t.Fatal("truncated v1 page with a delimiter has no NextMarker")
			}
			q.Marker = res.NextMarker
		case res.NextMarker != "":
			t.Fatal("NextMarker without a delimiter")
		default:
			q.Marker = res.Contents[len(res.Contents)-1].Key
		}
		if q.EncodingURL {
			m, err := url.QueryUnescape(q.Marker)
			if err != nil {
				t.Fatal(err)
			}
			q.Marker = m
		}
	}
	t.Fatal("listing does not end")
	return nil, nil
}
