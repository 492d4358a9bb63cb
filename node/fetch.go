package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ringcache/ringcache/storage"
)

// pageSpan returns the number of pages of a file of size bytes and the length
// of page idx. The last page may be short; a 0-byte file has no pages.
func pageCount(size, pageSize int64) uint32 {
	return uint32((size + pageSize - 1) / pageSize)
}

func pageLen(size, pageSize int64, idx uint32) int64 {
	start := int64(idx) * pageSize
	return min(pageSize, size-start)
}

// flight is one page being fetched from the under-store. ready is closed once
// data or err is set; after that both are read-only.
type flight struct {
	ready  chan struct{}
	stored chan struct{} // closed once the page is written to the store (or failed)
	data   []byte
	err    error
	source string // sourceUnderstore or sourcePeer: where the bytes came from
	readID uint64 // ReadRequest.ReadID of the read that started it (0: none)
}

func (f *flight) wait(ctx context.Context) ([]byte, error) {
	select {
	case <-f.ready:
		return f.data, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readRangeFunc reads the object bytes [off, off+len(p)) of the version the
// caller resolved (an under-store ReadAt bound to one ETag) and says where
// it got them (sourceUnderstore or sourcePeer).
type readRangeFunc func(ctx context.Context, off int64, p []byte) (int, string, error)

// fetcher makes sure each missing page is read from the under-store once,
// however many readers want it at the same time (single-flight), and that
// consecutive missing pages are read with one ranged request (coalescing).
//
// A flight stays registered until its page is written to the store, so a
// reader that arrives after the bytes came back but before they are on disk
// waits for the flight instead of reading the under-store again.
type fetcher struct {
	pageSize int64
	maxRun   int           // pages per coalesced under-store request
	timeout  time.Duration // per under-store request, detached from the caller

	// store persists a fetched page; errors are logged by the callee and
	// never fail the read (the bytes are already correct in memory).
	store func(key storage.PageKey, data []byte)
	// fetched is told the source, bytes and outcome of every range read.
	fetched func(source string, bytes int64, err error)
	// stored reads a page that is already in the store (verified), for a
	// page that was written between the caller's look-up and its fetch.
	stored func(key storage.PageKey, size int64) ([]byte, bool)

	mu      sync.Mutex
	flights map[storage.PageKey]*flight
	wg      sync.WaitGroup // running fetches, waited for at shutdown
}

func newFetcher(pageSize int64, maxRun int, timeout time.Duration, store func(storage.PageKey, []byte),
	fetched func(string, int64, error), stored func(storage.PageKey, int64) ([]byte, bool)) *fetcher {
	return &fetcher{
		pageSize: pageSize,
		maxRun:   maxRun,
		timeout:  timeout,
		store:    store,
		fetched:  fetched,
		stored:   stored,
		flights:  make(map[storage.PageKey]*flight),
	}
}

// wait blocks until every running fetch has finished and written its pages
// (or ctx ends), so a graceful shutdown loses nothing already fetched.
func (f *fetcher) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetch returns one flight per page in [first, last] of the file version in
// key (key.Index is ignored). Pages already in flight are shared; the others
// are read in coalesced runs by detached goroutines, so a reader that gives
// up does not fail the other readers waiting for the same pages.
//
// joined[i] reports that flight i was started by an earlier caller: this
// caller causes no under-store request for that page.
//
// readID is the caller's ReadRequest.ReadID: a caller with the same non-zero
// ID joining the flight is another piece of the same read.
func (f *fetcher) fetch(key storage.PageKey, size int64, first, last uint32, readID uint64, read readRangeFunc) (out []*flight, joined []bool) {
	out = make([]*flight, 0, last-first+1)
	joined = make([]bool, 0, last-first+1)
	var run []uint32 // indexes this call must fetch, ascending
	f.mu.Lock()
	for idx := first; idx <= last; idx++ {
		k := key
		k.Index = idx
		fl, ok := f.flights[k]
		if !ok {
			fl = &flight{ready: make(chan struct{}), stored: make(chan struct{}), readID: readID}
			f.flights[k] = fl
			run = append(run, idx)
		}
		out = append(out, fl)
		joined = append(joined, ok)
	}
	f.mu.Unlock()

	// A page may have been written between the caller's look-up and the
	// registration above (its flight finished meanwhile): serve it from the
	// store rather than fetching it again.
	kept := run[:0]
	for _, idx := range run {
		k := key
		k.Index = idx
		if data, ok := f.stored(k, pageLen(size, f.pageSize, idx)); ok {
			fl := out[idx-first]
			fl.data, fl.source = data, sourceLocal
			close(fl.ready)
			f.mu.Lock()
			delete(f.flights, k)
			f.mu.Unlock()
			close(fl.stored)
			continue
		}
		kept = append(kept, idx)
	}
	run = kept

	// Split what is ours into runs of consecutive pages, at most maxRun long.
	for len(run) > 0 {
		n := 1
		for n < len(run) && n < f.maxRun && run[n] == run[n-1]+1 {
			n++
		}
		idxs := run[:n]
		run = run[n:]
		fls := make([]*flight, n)
		for i, idx := range idxs {
			fls[i] = out[idx-first]
		}
		f.wg.Add(1)
		go f.fetchRun(key, size, idxs[0], fls, read)
	}
	return out, joined
}

// fetchUncached is fetch for a read that must not fill the cache
// (FlagNoCache): pages already in flight are shared (whoever started them
// caches them), the others are read for this caller alone, under its
// context, in coalesced runs, and never stored.
func (f *fetcher) fetchUncached(ctx context.Context, key storage.PageKey, size int64, first, last uint32, read readRangeFunc) (out []*flight, joined []bool) {
	out = make([]*flight, last-first+1)
	joined = make([]bool, last-first+1)
	f.mu.Lock()
	for idx := first; idx <= last; idx++ {
		k := key
		k.Index = idx
		if fl, ok := f.flights[k]; ok {
			out[idx-first], joined[idx-first] = fl, true
		}
	}
	f.mu.Unlock()
	for idx := first; idx <= last; idx++ {
		if out[idx-first] != nil {
			continue
		}
		end := idx
		for end < last && out[end+1-first] == nil && int(end-idx+1) < f.maxRun {
			end++
		}
		fls := make([]*flight, end-idx+1)
		for i := range fls {
			fls[i] = &flight{ready: make(chan struct{})}
			out[idx-first+uint32(i)] = fls[i]
		}
		f.readRun(ctx, size, idx, fls, read)
		idx = end
	}
	return out, joined
}

func (f *fetcher) fetchRun(key storage.PageKey, size int64, firstIdx uint32, fls []*flight, read readRangeFunc) {
	defer f.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	f.readRun(ctx, size, firstIdx, fls, read)
	cancel()
	for i, fl := range fls {
		k := key
		k.Index = firstIdx + uint32(i)
		if fl.err == nil {
			f.store(k, fl.data)
		}
		f.mu.Lock()
		delete(f.flights, k)
		f.mu.Unlock()
		close(fl.stored)
	}
}

// readRun reads the pages firstIdx.. of fls with one ranged request and
// completes their flights: each gets its page's bytes and their source, or
// the error, and its ready is closed.
func (f *fetcher) readRun(ctx context.Context, size int64, firstIdx uint32, fls []*flight, read readRangeFunc) {
	start := int64(firstIdx) * f.pageSize
	lastIdx := firstIdx + uint32(len(fls)) - 1
	end := int64(lastIdx)*f.pageSize + pageLen(size, f.pageSize, lastIdx)
	buf := make([]byte, end-start)
	n, source, err := read(ctx, start, buf)
	if err == io.EOF && int64(n) == end-start {
		err = nil
	}
	if err == nil && int64(n) != end-start {
		// The object is shorter than its metadata said: it changed under us.
		err = fmt.Errorf("short read of %d bytes at offset %d (want %d): %w", n, start, end-start, errObjectChanged)
	}
	f.fetched(source, int64(n), err)
	for i, fl := range fls {
		if err != nil {
			fl.err = err
		} else {
			off := int64(i) * f.pageSize
			fl.data = buf[off : off+pageLen(size, f.pageSize, firstIdx+uint32(i))]
			fl.source = source
		}
		close(fl.ready)
	}
}

// errObjectChanged marks an under-store object that no longer matches the
// metadata a read resolved; the read must be retried on fresh metadata.
var errObjectChanged = errors.New("node: object changed during read")
