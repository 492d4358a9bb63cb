package listing

import (
	"sync"
	"testing"
	"time"
)

// listFull lists the whole bucket recursively with v2 pages of maxKeys.
func listFull(t *testing.T, l *Lister, maxKeys int) int {
	t.Helper()
	got, _ := listV2(t, l, Query{Bucket: "lake", MaxKeys: maxKeys})
	return len(got)
}

// TestCacheArithmetic: 20 identical full listings within the TTL cost the
// under-store calls of one, for v2 tokens and v1 markers alike.
func TestCacheArithmetic(t *testing.T) {
	keys := testKeys()
	for _, b := range []backend{localBackend(), gofakes3Backend()} {
		t.Run(b.name, func(t *testing.T) {
			cs := &countingStore{inner: b.open(t, keys)}
			l := newLister(t, cs, Config{TTL: time.Minute})
			for _, maxKeys := range []int{1000, 7} {
				before := cs.lists.Load()
				if n := listFull(t, l, maxKeys); n != len(keys) {
					t.Fatalf("listed %d of %d", n, len(keys))
				}
				one := cs.lists.Load() - before
				if want := int64((len(keys) + maxKeys - 1) / maxKeys); b.name == "local" && one != want {
					t.Errorf("max-keys %d: one listing = %d List calls, want %d", maxKeys, one, want)
				}
				for range 19 {
					listFull(t, l, maxKeys)
				}
				if got := cs.lists.Load() - before; got != one {
					t.Errorf("max-keys %d: 20 listings = %d List calls, one = %d", maxKeys, got, one)
				}
				t.Logf("max-keys %d: 20 listings of %d keys = %d under-store List calls", maxKeys, len(keys), one)
			}
			before := cs.lists.Load()
			for range 20 {
				listV1(t, l, Query{Bucket: "lake", Delimiter: "/", Prefix: "data/", MaxKeys: 100})
			}
			if got := cs.lists.Load() - before; got != 11 && b.name == "local" {
				t.Errorf("20 v1 listings of 1,001 entries by 100 = %d List calls, want 11", got)
			}
			if cs.buckets.Load() != 1 {
				t.Errorf("%d Buckets calls, want 1", cs.buckets.Load())
			}
		})
	}
}

// TestCacheTTL: a page is served from memory until the TTL passes, then
// fetched again; TTL 0 caches nothing.
func TestCacheTTL(t *testing.T) {
	cs := &countingStore{inner: localBackend().open(t, []string{"a", "b"})}
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	l := newLister(t, cs, Config{TTL: 10 * time.Second, Now: clock.Now})
	q := Query{Bucket: "lake", MaxKeys: 1000, V2: true}
	list := func() {
		t.Helper()
		if _, err := l.ListObjects(ctxT(t), q); err != nil {
			t.Fatal(err)
		}
	}
	list()
	clock.Advance(9999 * time.Millisecond)
	list()
	if n := cs.lists.Load(); n != 1 {
		t.Fatalf("within TTL: %d List calls, want 1", n)
	}
	clock.Advance(time.Millisecond)
	list()
	if n, b := cs.lists.Load(), cs.buckets.Load(); n != 2 || b != 2 {
		t.Fatalf("after TTL: %d List and %d Buckets calls, want 2 and 2", n, b)
	}

	cs0 := &countingStore{inner: cs.inner}
	l0 := newLister(t, cs0, Config{})
	for range 3 {
		if _, err := l0.ListObjects(ctxT(t), q); err != nil {
			t.Fatal(err)
		}
	}
	if n, b := cs0.lists.Load(), cs0.buckets.Load(); n != 3 || b != 3 {
		t.Fatalf("TTL 0: %d List and %d Buckets calls, want 3 and 3", n, b)
	}
}

// TestCacheSingleFlight: concurrent identical misses make one under-store
// call.
func TestCacheSingleFlight(t *testing.T) {
	gate := make(chan struct{})
	cs := &countingStore{inner: localBackend().open(t, []string{"a"}), gate: gate}
	l := newLister(t, cs, Config{TTL: time.Minute})
	q := Query{Bucket: "lake", MaxKeys: 1000, V2: true}
	if _, err := l.BucketExists(ctxT(t), "lake"); err != nil { // warm the bucket list
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := l.ListObjects(ctxT(t), q)
			errs <- err
		})
	}
	waitFor(t, func() bool { return l.pages.waiting.Load() == n }, "all requests waiting")
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := cs.lists.Load(); got != 1 {
		t.Errorf("%d concurrent identical listings made %d List calls, want 1", n, got)
	}
}

// waitFor polls cond until it holds or 10s pass.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCacheBoundedLRU: at most MaxEntries pages are held; the least
// recently used goes first.
func TestCacheBoundedLRU(t *testing.T) {
	cs := &countingStore{inner: localBackend().open(t, []string{"p0/a", "p1/a", "p2/a", "p3/a", "p4/a"})}
	l := newLister(t, cs, Config{TTL: time.Minute, MaxEntries: 3})
	list := func(p string) {
		t.Helper()
		if _, err := l.ListObjects(ctxT(t), Query{Bucket: "lake", Prefix: p, MaxKeys: 1000, V2: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"p0/", "p1/", "p2/", "p0/", "p3/", "p4/"} {
		list(p)
		if n := l.CachedPages(); n > 3 {
			t.Fatalf("%d pages cached > MaxEntries 3", n)
		}
	}
	// p0 was used after p1 and p2, so p1 and p2 went; p0, p3, p4 remain.
	before := cs.lists.Load()
	list("p0/")
	list("p4/")
	if n := cs.lists.Load() - before; n != 0 {
		t.Errorf("recent pages cost %d List calls", n)
	}
	list("p1/")
	if n := cs.lists.Load() - before; n != 1 {
		t.Errorf("evicted page cost %d List calls, want 1", n)
	}
}

// TestInvalidate drops the listings whose prefix overlaps, and only them.
func TestInvalidate(t *testing.T) {
	cs := &countingStore{inner: localBackend().open(t, []string{"a/x/1", "b/1"})}
	l := newLister(t, cs, Config{TTL: time.Minute})
	list := func(p string) {
		t.Helper()
		if _, err := l.ListObjects(ctxT(t), Query{Bucket: "lake", Prefix: p, MaxKeys: 1000, V2: true}); err != nil {
			t.Fatal(err)
		}
	}
	prefixes := []string{"", "a/", "a/x/", "a/y/", "b/"}
	for _, p := range prefixes {
		list(p)
	}
	l.Invalidate("other", "")
	l.Invalidate("lake", "a/x/2") // a write of a/x/2
	before := cs.lists.Load()
	for _, p := range prefixes {
		list(p)
	}
	// "", "a/" and "a/x/" contain a/x/2; "a/y/" and "b/" do not.
	if n := cs.lists.Load() - before; n != 3 {
		t.Errorf("after Invalidate: %d List calls, want 3", n)
	}
}
