// Package pagefetch reads the missing pages of a file version once, however
// many readers want them at the same time (single-flight), with one ranged
// request per run of consecutive pages (coalescing). It knows nothing of
// sockets, stores or metrics: the node passes them in as functions.
package pagefetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ringcache/ringcache/storage"
)

// ErrObjectChanged marks an object that no longer matches the metadata a
// read resolved (it is shorter than the size the fetch was given); the read
// must be retried on fresh metadata.
var ErrObjectChanged = errors.New("node: object changed during read")

// SourceLocal is the source of a page the fetcher read back from the store
// (it landed between the caller's look-up and its fetch). The node's metric
// label for its own page store has the same value.
const SourceLocal = "local"

// PageCount returns the number of pages of a file of size bytes; a 0-byte
// file has none.
func PageCount(size, pageSize int64) uint32 {
	return uint32((size + pageSize - 1) / pageSize)
}

// PageLen returns the length of page idx of a file of size bytes: pageSize,
// except for a short last page.
func PageLen(size, pageSize int64, idx uint32) int64 {
	start := int64(idx) * pageSize
	return min(pageSize, size-start)
}

// ReadRangeFunc reads the object bytes [off, off+len(p)) of the version the
// caller resolved (an under-store ReadAt bound to one ETag) and says where
// it got them (the node's source label). Like io.ReaderAt, a short read
// comes with an error (io.EOF at the end of the object).
type ReadRangeFunc func(ctx context.Context, off int64, p []byte) (int, string, error)

// Config wires a Fetcher to the node. Every field is required.
type Config struct {
	PageSize int64
	// MaxRun is the most pages one ranged request reads.
	MaxRun int
	// Timeout bounds one cached fetch, which runs detached from its callers.
	Timeout time.Duration
	// Store persists a fetched page; it logs its own errors and never fails
	// the read (the bytes are already correct in memory).
	Store func(key storage.PageKey, data []byte)
	// Fetched is told the source, bytes and outcome of every range read.
	Fetched func(source string, bytes int64, err error)
	// Stored reads a page that is already in the store (verified), for a
	// page that was written between the caller's look-up and its fetch.
	Stored func(key storage.PageKey, size int64) ([]byte, bool)
}

// Fetcher makes sure each missing page is read once, however many readers
// want it at the same time, and that consecutive missing pages are read
// with one ranged request.
//
// A flight stays registered until its page is written to the store, so a
// reader that arrives after the bytes came back but before they are on disk
// waits for the flight instead of reading the source again.
type Fetcher struct {
	cfg Config

	mu      sync.Mutex
	flights map[storage.PageKey]*Flight
	wg      sync.WaitGroup // running fetches, waited for at shutdown

	recent recent // which read fetched which page, lately (FetchedBy)
}

// New returns a Fetcher with no flights.
func New(cfg Config) *Fetcher {
	return &Fetcher{cfg: cfg, flights: make(map[storage.PageKey]*Flight)}
}

// Wait blocks until every running fetch has finished and written its pages
// (or ctx ends), so a graceful shutdown loses nothing already fetched.
func (f *Fetcher) Wait(ctx context.Context) error {
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

// Fetch returns one flight per page in [first, last] of the file version in
// key (key.Index is ignored) of size bytes. Pages already in flight are
// shared; the others are read in coalesced runs by detached goroutines (under
// Config.Timeout, not a caller's context), so a reader that gives up does
// not fail the other readers waiting for the same pages. Their pages are
// stored.
//
// joined[i] reports that flight i was started by an earlier caller: this
// caller causes no request for that page.
//
// readID is the caller's ReadRequest.ReadID: a caller with the same non-zero
// ID joining the flight is another piece of the same read (Flight.ReadID),
// and a page a flight with a non-zero ID fetched is remembered for a while
// (FetchedBy).
func (f *Fetcher) Fetch(key storage.PageKey, size int64, first, last uint32, readID uint64, read ReadRangeFunc) (out []*Flight, joined []bool) {
	out, joined, run := f.register(key, first, last, readID)
	run = f.completeStored(key, size, first, out, run)
	// Split what is ours into runs of consecutive pages, at most MaxRun long.
	for len(run) > 0 {
		n := 1
		for n < len(run) && n < f.cfg.MaxRun && run[n] == run[n-1]+1 {
			n++
		}
		idxs := run[:n]
		run = run[n:]
		fls := make([]*Flight, n)
		for i, idx := range idxs {
			fls[i] = out[idx-first]
		}
		f.wg.Add(1)
		go f.fetchRun(key, size, idxs[0], fls, read)
	}
	return out, joined
}

// register joins the flights of [first, last] already registered and
// registers new ones for the others, which this caller must fetch (run,
// ascending).
func (f *Fetcher) register(key storage.PageKey, first, last uint32, readID uint64) (out []*Flight, joined []bool, run []uint32) {
	out = make([]*Flight, 0, last-first+1)
	joined = make([]bool, 0, last-first+1)
	f.mu.Lock()
	defer f.mu.Unlock()
	for idx := first; idx <= last; idx++ {
		k := key
		k.Index = idx
		fl, ok := f.flights[k]
		if !ok {
			fl = newFlight(readID)
			f.flights[k] = fl
			run = append(run, idx)
		}
		out = append(out, fl)
		joined = append(joined, ok)
	}
	return out, joined, run
}

// completeStored completes, from the store, the flights of run whose page
// was written between the caller's look-up and their registration (its
// flight finished meanwhile), and returns the rest of run.
func (f *Fetcher) completeStored(key storage.PageKey, size int64, first uint32, out []*Flight, run []uint32) []uint32 {
	kept := run[:0]
	for _, idx := range run {
		k := key
		k.Index = idx
		data, ok := f.cfg.Stored(k, PageLen(size, f.cfg.PageSize, idx))
		if !ok {
			kept = append(kept, idx)
			continue
		}
		fl := out[idx-first]
		fl.data, fl.source = data, SourceLocal
		close(fl.ready)
		f.unregister(k, fl)
	}
	return kept
}

// FetchUncached is Fetch for a read that must not fill the cache: pages
// already in flight are shared (whoever started them caches them), the
// others are read for this caller alone, under its context, in coalesced
// runs, before it returns, and never stored.
func (f *Fetcher) FetchUncached(ctx context.Context, key storage.PageKey, size int64, first, last uint32, read ReadRangeFunc) (out []*Flight, joined []bool) {
	out = make([]*Flight, last-first+1)
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
		for end < last && out[end+1-first] == nil && int(end-idx+1) < f.cfg.MaxRun {
			end++
		}
		fls := make([]*Flight, end-idx+1)
		for i := range fls {
			fls[i] = newFlight(0)
			out[idx-first+uint32(i)] = fls[i]
		}
		f.readRun(ctx, size, idx, fls, read)
		for _, fl := range fls {
			close(fl.stored) // never stored: nothing to wait for
		}
		idx = end
	}
	return out, joined
}

// fetchRun reads one run of registered flights, stores their pages and
// unregisters them.
func (f *Fetcher) fetchRun(key storage.PageKey, size int64, firstIdx uint32, fls []*Flight, read ReadRangeFunc) {
	defer f.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), f.cfg.Timeout)
	f.readRun(ctx, size, firstIdx, fls, read)
	cancel()
	for i, fl := range fls {
		k := key
		k.Index = firstIdx + uint32(i)
		if fl.err == nil {
			if fl.readID != 0 {
				// Before the page is on disk: a piece of the same read
				// that finds it there must find this record too.
				f.recent.remember(k, fl.readID)
			}
			f.cfg.Store(k, fl.data)
		}
		f.unregister(k, fl)
	}
}

// FetchedBy reports whether page key was fetched from the source (not read
// back from the store) by a flight that the read with readID started, among
// the last fetches of reads with a non-zero ReadID (a bounded memory; an
// old fetch may be forgotten). The piece of a split read that counts a page
// finds it stored when another piece of the same read fetched it first:
// for the read as a whole that page is still a miss. readID 0 is no read:
// false.
func (f *Fetcher) FetchedBy(key storage.PageKey, readID uint64) bool {
	return f.recent.fetchedBy(key, readID)
}

// unregister removes a completed flight, whose page is now stored (or
// failed), and says so to its waiters.
func (f *Fetcher) unregister(k storage.PageKey, fl *Flight) {
	f.mu.Lock()
	delete(f.flights, k)
	f.mu.Unlock()
	close(fl.stored)
}

// readRun reads the pages firstIdx.. of fls with one ranged request and
// completes their flights: each gets its page's bytes and their source, or
// the error, and its ready is closed.
func (f *Fetcher) readRun(ctx context.Context, size int64, firstIdx uint32, fls []*Flight, read ReadRangeFunc) {
	ps := f.cfg.PageSize
	start := int64(firstIdx) * ps
	lastIdx := firstIdx + uint32(len(fls)) - 1
	end := int64(lastIdx)*ps + PageLen(size, ps, lastIdx)
	buf := make([]byte, end-start)
	n, source, err := read(ctx, start, buf)
	if err == io.EOF && int64(n) == end-start {
		err = nil
	}
	if err == nil && int64(n) != end-start {
		// The object is shorter than its metadata said: it changed under us.
		err = fmt.Errorf("short read of %d bytes at offset %d (want %d): %w", n, start, end-start, ErrObjectChanged)
	}
	f.cfg.Fetched(source, int64(n), err)
	for i, fl := range fls {
		if err != nil {
			fl.err = err
		} else {
			off := int64(i) * ps
			fl.data = buf[off : off+PageLen(size, ps, firstIdx+uint32(i))]
			fl.source = source
		}
		close(fl.ready)
	}
}
