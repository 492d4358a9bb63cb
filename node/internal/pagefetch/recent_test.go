package pagefetch

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/storage"
)

// fetchAndStore fetches pages [first, last] for the read with readID and
// waits until they are stored (their flights unregistered).
func fetchAndStore(t *testing.T, f *Fetcher, src *source, size int64, first, last uint32, readID uint64) []*Flight {
	t.Helper()
	fls, _ := f.Fetch(key, size, first, last, readID, src.read)
	for i, fl := range fls {
		if _, err := fl.Wait(context.Background()); err != nil {
			t.Fatalf("page %d: %v", first+uint32(i), err)
		}
		<-fl.Stored()
	}
	return fls
}

func pageKey(idx uint32) storage.PageKey {
	k := key
	k.Index = idx
	return k
}

func TestFetchedByRemembersTheReadThatFetched(t *testing.T) {
	f, _ := newTestFetcher(t, 16)
	c := content(4 * testPageSize)
	size := int64(len(c))
	src := &source{content: c}
	const readID = 0xfeed1
	fetchAndStore(t, f, src, size, 1, 2, readID)
	fetchAndStore(t, f, src, size, 3, 3, 0) // no ReadID: nothing to remember
	for _, tc := range []struct {
		idx    uint32
		readID uint64
		want   bool
	}{
		{1, readID, true},
		{2, readID, true},
		{1, readID + 2, false}, // another read: a hit for it
		{0, readID, false},     // never fetched
		{3, readID, false},     // fetched by a read without an ID
		{3, 0, false},
		{1, 0, false}, // 0 is no read
	} {
		if got := f.FetchedBy(pageKey(tc.idx), tc.readID); got != tc.want {
			t.Errorf("FetchedBy(page %d, %#x) = %v, want %v", tc.idx, tc.readID, got, tc.want)
		}
	}
	other := pageKey(1)
	other.Version++
	if f.FetchedBy(other, readID) {
		t.Error("FetchedBy matched another version of the file")
	}
}

func TestFetchedByIsRecordedBeforeThePageIsStored(t *testing.T) {
	// A piece that finds the page in the store must find the record: the
	// store callback checks it is already there.
	ps := &pageStore{pages: map[storage.PageKey][]byte{}}
	var f *Fetcher
	var missing []storage.PageKey
	f = New(Config{PageSize: testPageSize, MaxRun: 16, Timeout: 10 * time.Second, Fetched: func(string, int64, error) {}, Stored: ps.get,
		Store: func(k storage.PageKey, data []byte) {
			if !f.FetchedBy(k, 9) {
				missing = append(missing, k) // fetchRun calls Store sequentially
			}
			ps.put(k, data)
		}})
	c := content(3 * testPageSize)
	fetchAndStore(t, f, &source{content: c}, int64(len(c)), 0, 2, 9)
	if err := f.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(missing) != 0 {
		t.Errorf("pages stored before their fetch was remembered: %v", missing)
	}
}

func TestReadBackPageIsNotRemembered(t *testing.T) {
	f, ps := newTestFetcher(t, 16)
	c := content(2 * testPageSize)
	ps.put(pageKey(0), page(c, 0)) // stored meanwhile by some other read
	src := &source{content: c}
	fls := fetchAndStore(t, f, src, int64(len(c)), 0, 1, 5)
	if fls[0].Source() != SourceLocal {
		t.Fatalf("page 0 source %q, want %q", fls[0].Source(), SourceLocal)
	}
	if f.FetchedBy(pageKey(0), 5) {
		t.Error("a page read back from the store was remembered as fetched by the read")
	}
	if !f.FetchedBy(pageKey(1), 5) {
		t.Error("page 1, fetched by the read, was not remembered")
	}
}

func TestRecentIsBounded(t *testing.T) {
	// Every slot holds one record, the latest of the pages that hash to
	// it: remembering many more pages than slots keeps at most recentSlots
	// and the newest of each slot.
	var r recent
	const pages = 8 * recentSlots
	last := map[*atomic.Pointer[fetchRecord]]uint32{}
	for i := range uint32(pages) {
		k := pageKey(i)
		r.remember(k, uint64(i)+1)
		last[r.slot(k)] = i
	}
	if len(last) > recentSlots {
		t.Fatalf("%d slots used, want <= %d", len(last), recentSlots)
	}
	if len(last) < recentSlots/2 {
		t.Errorf("%d pages use only %d of %d slots: the hash does not spread them", pages, len(last), recentSlots)
	}
	kept := 0
	for i := range uint32(pages) {
		k := pageKey(i)
		got := r.fetchedBy(k, uint64(i)+1)
		if want := last[r.slot(k)] == i; got != want {
			t.Fatalf("page %d: remembered %v, want %v (the newest of its slot only)", i, got, want)
		}
		if got {
			kept++
		}
	}
	if kept != len(last) {
		t.Errorf("%d records kept, want one per used slot (%d)", kept, len(last))
	}
}

// BenchmarkFetchedBy is the cost the hit path of a split read pays per
// cached page it counts.
func BenchmarkFetchedBy(b *testing.B) {
	var r recent
	for i := range uint32(recentSlots) {
		r.remember(pageKey(i), 3)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := uint32(0)
		for pb.Next() {
			r.fetchedBy(pageKey(i&(4*recentSlots-1)), 3)
			i++
		}
	})
}
