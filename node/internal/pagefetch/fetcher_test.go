package pagefetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/storage"
)

// The tests run the fetcher against an in-process source: a byte slice
// behind a ReadRangeFunc that counts its calls and can be held shut, and a
// map for the page store. No sockets, no files.

const testPageSize = 16

// source is a fake object: content, the requests it got, and a gate every
// request waits on (nil: open).
type source struct {
	content []byte
	gate    chan struct{}
	err     error // returned by every read when set
	calls   atomic.Int64
	mu      sync.Mutex
	ranges  [][2]int64 // [off, len) of each request
}

func (s *source) read(ctx context.Context, off int64, p []byte) (int, string, error) {
	s.calls.Add(1)
	s.mu.Lock()
	s.ranges = append(s.ranges, [2]int64{off, int64(len(p))})
	s.mu.Unlock()
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return 0, "understore", ctx.Err()
		}
	}
	if s.err != nil {
		return 0, "understore", s.err
	}
	n := copy(p, s.content[min(off, int64(len(s.content))):])
	return n, "understore", nil
}

// pageStore is the fake page store behind Config.Store and Config.Stored.
type pageStore struct {
	mu    sync.Mutex
	pages map[storage.PageKey][]byte
}

func (ps *pageStore) put(k storage.PageKey, data []byte) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.pages[k] = bytes.Clone(data)
}

func (ps *pageStore) get(k storage.PageKey, size int64) ([]byte, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	d, ok := ps.pages[k]
	return d, ok && int64(len(d)) == size
}

func newTestFetcher(t *testing.T, maxRun int) (*Fetcher, *pageStore) {
	t.Helper()
	ps := &pageStore{pages: map[storage.PageKey][]byte{}}
	f := New(Config{PageSize: testPageSize, MaxRun: maxRun, Timeout: 10 * time.Second,
		Store: ps.put, Fetched: func(string, int64, error) {}, Stored: ps.get})
	goroutines := runtime.NumGoroutine()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f.Wait(ctx); err != nil {
			t.Fatalf("fetches still running at the end: %v", err)
		}
		f.mu.Lock()
		left := len(f.flights)
		f.mu.Unlock()
		if left != 0 {
			t.Errorf("%d flights still registered after every fetch ended", left)
		}
		waitFor(t, "fetch goroutines to exit", func() bool { return runtime.NumGoroutine() <= goroutines })
	})
	return f, ps
}

// waitFor waits for cond with a deadline, yielding between checks.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond) // a yield, not a wait for an event: cond is rechecked
	}
}

func content(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

func page(c []byte, idx uint32) []byte {
	lo := int64(idx) * testPageSize
	return c[lo:min(lo+testPageSize, int64(len(c)))]
}

var key = storage.PageKey{File: storage.FileIDOf("b/k"), Version: 1}

func TestConcurrentReadersShareOneRequest(t *testing.T) {
	f, ps := newTestFetcher(t, 16)
	c := content(4*testPageSize + 5) // 5 pages, the last short
	src := &source{content: c, gate: make(chan struct{})}
	const readers = 8
	var wg sync.WaitGroup
	joinedCount := atomic.Int64{}
	results := make([][][]byte, readers)
	errs := make([]error, readers)
	registered := make(chan struct{}, readers)
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fls, joined := f.Fetch(key, int64(len(c)), 0, 4, 0, src.read)
			for _, j := range joined {
				if j {
					joinedCount.Add(1)
				}
			}
			registered <- struct{}{}
			for _, fl := range fls {
				d, err := fl.Wait(context.Background())
				if err != nil {
					errs[r] = err
					return
				}
				results[r] = append(results[r], d)
			}
		}()
	}
	for range readers {
		<-registered
	}
	close(src.gate) // every reader has its flights: now let the one request finish
	wg.Wait()
	if got := src.calls.Load(); got != 1 {
		t.Fatalf("%d source requests for 5 pages wanted by %d readers, want 1 (coalesced, single-flight)", got, readers)
	}
	if got, want := joinedCount.Load(), int64((readers-1)*5); got != want {
		t.Errorf("joined %d flights, want %d (all but the first reader's)", got, want)
	}
	for r := range readers {
		if errs[r] != nil {
			t.Fatalf("reader %d: %v", r, errs[r])
		}
		for i, d := range results[r] {
			if !bytes.Equal(d, page(c, uint32(i))) {
				t.Fatalf("reader %d page %d: wrong bytes", r, i)
			}
		}
	}
	if err := f.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range uint32(5) {
		k := key
		k.Index = i
		if d, ok := ps.get(k, PageLen(int64(len(c)), testPageSize, i)); !ok || !bytes.Equal(d, page(c, i)) {
			t.Errorf("page %d not stored correctly", i)
		}
	}
}

func TestRunsAreSplitAtMaxRun(t *testing.T) {
	f, _ := newTestFetcher(t, 2)
	c := content(5 * testPageSize)
	src := &source{content: c}
	fls, _ := f.Fetch(key, int64(len(c)), 0, 4, 0, src.read)
	for i, fl := range fls {
		if d, err := fl.Wait(context.Background()); err != nil || !bytes.Equal(d, page(c, uint32(i))) {
			t.Fatalf("page %d: %v", i, err)
		}
	}
	if got := src.calls.Load(); got != 3 {
		t.Errorf("%d requests for 5 pages with MaxRun 2, want 3", got)
	}
}

func TestErrorReachesEveryJoiner(t *testing.T) {
	f, ps := newTestFetcher(t, 16)
	c := content(3 * testPageSize)
	boom := errors.New("under-store on fire")
	src := &source{content: c, gate: make(chan struct{}), err: boom}
	first, _ := f.Fetch(key, int64(len(c)), 0, 2, 0, src.read)
	second, joined := f.Fetch(key, int64(len(c)), 1, 2, 0, src.read)
	if !joined[0] || !joined[1] {
		t.Fatalf("second caller did not join the flights: %v", joined)
	}
	close(src.gate)
	for i, fl := range append(first, second...) {
		if _, err := fl.Wait(context.Background()); !errors.Is(err, boom) {
			t.Errorf("flight %d: err %v, want %v", i, err, boom)
		}
		<-fl.Stored()
	}
	if len(ps.pages) != 0 {
		t.Errorf("%d failed pages stored", len(ps.pages))
	}
	// A failed flight is forgotten: the next caller tries again.
	src.err = nil
	fls, joined := f.Fetch(key, int64(len(c)), 0, 0, 0, src.read)
	if joined[0] {
		t.Fatal("a failed flight was joined after it ended")
	}
	if d, err := fls[0].Wait(context.Background()); err != nil || !bytes.Equal(d, page(c, 0)) {
		t.Fatalf("retry: %v", err)
	}
}

func TestShortObjectIsChanged(t *testing.T) {
	f, _ := newTestFetcher(t, 16)
	c := content(2 * testPageSize)
	src := &source{content: c[:testPageSize+3]} // shrank since its metadata was read
	fls, _ := f.Fetch(key, int64(len(c)), 0, 1, 0, src.read)
	for _, fl := range fls {
		if _, err := fl.Wait(context.Background()); !errors.Is(err, ErrObjectChanged) {
			t.Fatalf("err %v, want ErrObjectChanged", err)
		}
	}
}

func TestCanceledJoinerLeavesTheOthers(t *testing.T) {
	f, ps := newTestFetcher(t, 16)
	c := content(2 * testPageSize)
	src := &source{content: c, gate: make(chan struct{})}
	// The caller that starts the fetch gives up; the fetch goes on for the
	// one that joined it.
	quitter, _ := f.Fetch(key, int64(len(c)), 0, 1, 0, src.read)
	stayer, _ := f.Fetch(key, int64(len(c)), 0, 1, 0, src.read)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := quitter[0].Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled waiter: err %v, want context.Canceled", err)
	}
	close(src.gate)
	for i, fl := range stayer {
		if d, err := fl.Wait(context.Background()); err != nil || !bytes.Equal(d, page(c, uint32(i))) {
			t.Fatalf("page %d after the other waiter gave up: %v", i, err)
		}
		<-fl.Stored()
	}
	if len(ps.pages) != 2 {
		t.Errorf("%d pages stored, want 2", len(ps.pages))
	}
}

func TestPageStoredMeanwhileIsReadBack(t *testing.T) {
	f, ps := newTestFetcher(t, 16)
	c := content(3 * testPageSize)
	k := key
	k.Index = 1
	ps.put(k, page(c, 1)) // written after the caller looked, before it fetched
	src := &source{content: c}
	fls, joined := f.Fetch(key, int64(len(c)), 0, 2, 0, src.read)
	for i, fl := range fls {
		if joined[i] {
			t.Fatalf("page %d joined with no other caller", i)
		}
		if d, err := fl.Wait(context.Background()); err != nil || !bytes.Equal(d, page(c, uint32(i))) {
			t.Fatalf("page %d: %v", i, err)
		}
	}
	if fls[1].Source() != SourceLocal {
		t.Errorf("page 1 source %q, want %q", fls[1].Source(), SourceLocal)
	}
	if got := src.calls.Load(); got != 2 {
		t.Errorf("%d requests, want 2 (pages 0 and 2 on either side of the stored one)", got)
	}
}

func TestUncachedSharesFlightsAndStoresNothing(t *testing.T) {
	f, ps := newTestFetcher(t, 16)
	c := content(4 * testPageSize)
	gated := &source{content: c, gate: make(chan struct{})}
	cached, _ := f.Fetch(key, int64(len(c)), 1, 1, 7, gated.read) // page 1 is in flight
	own := &source{content: c}
	fls, joined := f.FetchUncached(context.Background(), key, int64(len(c)), 0, 3, own.read)
	if want := []bool{false, true, false, false}; fmt.Sprint(joined) != fmt.Sprint(want) {
		t.Fatalf("joined %v, want %v", joined, want)
	}
	if fls[1] != cached[0] {
		t.Fatal("the page in flight was not shared")
	}
	if got := own.calls.Load(); got != 2 {
		t.Errorf("%d requests of its own, want 2 (pages 0 and 2-3)", got)
	}
	close(gated.gate)
	for i, fl := range fls {
		if d, err := fl.Wait(context.Background()); err != nil || !bytes.Equal(d, page(c, uint32(i))) {
			t.Fatalf("page %d: %v", i, err)
		}
		<-fl.Stored()
	}
	if fls[1].ReadID() != 7 {
		t.Errorf("shared flight's ReadID %d, want 7", fls[1].ReadID())
	}
	if len(ps.pages) != 1 {
		t.Errorf("%d pages stored, want 1 (the cached read's)", len(ps.pages))
	}
}

func TestUncachedReadEndsWithItsContext(t *testing.T) {
	f, _ := newTestFetcher(t, 16)
	c := content(testPageSize)
	src := &source{content: c, gate: make(chan struct{})} // never opened
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fls, _ := f.FetchUncached(ctx, key, int64(len(c)), 0, 0, src.read)
	if _, err := fls[0].Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	f, _ := newTestFetcher(t, 16)
	c := content(testPageSize)
	src := &source{content: c, gate: make(chan struct{})}
	fls, _ := f.Fetch(key, int64(len(c)), 0, 0, 0, src.read)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a fetch running: %v, want context.Canceled", err)
	}
	close(src.gate)
	<-fls[0].Stored()
}

func TestPageGeometry(t *testing.T) {
	for _, tc := range []struct {
		size  int64
		pages uint32
		last  int64
	}{{0, 0, 0}, {1, 1, 1}, {16, 1, 16}, {17, 2, 1}, {48, 3, 16}} {
		if got := PageCount(tc.size, 16); got != tc.pages {
			t.Errorf("PageCount(%d) = %d, want %d", tc.size, got, tc.pages)
		}
		if tc.pages > 0 {
			if got := PageLen(tc.size, 16, tc.pages-1); got != tc.last {
				t.Errorf("PageLen(%d, last) = %d, want %d", tc.size, got, tc.last)
			}
		}
	}
}
