package storage

import (
	"container/list"
	"os"
	"path/filepath"
	"sync"
)

// DefaultOpenPages is how many page files OpenPage keeps open by default.
const DefaultOpenPages = 1024

// openCache keeps the most recently opened page files open, with their
// verified headers, so that serving a hot page costs no open, header pread,
// fcntl and close per read: on small (64 KiB) reads those syscalls were a
// fifth of the node's CPU. Entries are keyed by the page key and its
// generation (what the file name encodes; building the name on every read
// was an allocation per read), so an entry can never stand for another copy
// of the same page. A file leaves the cache when the store unlinks it;
// a handle still out keeps the descriptor until it is closed.
//
// A page file deleted behind the store's back keeps being served from an
// open descriptor until the entry ages out; its bytes are still the page's
// (the reader verifies every chunk). Only OpenPage uses the cache: ReadPage
// opens the file each time, so it notices such a deletion at once.
type openCache struct {
	mu  sync.Mutex
	max int
	m   map[openKey]*openEntry
	lru list.List // front = most recently used; values are *openEntry
	// opening holds the page files one caller is opening now; the others
	// wait for it instead of opening, checking and mapping the same file
	// (the pieces of a split read arrive together).
	opening map[openKey]chan struct{}
}

// openKey names a published page file: generations are never reused.
type openKey struct {
	key PageKey
	gen uint64
}

type openEntry struct {
	name openKey
	f    *os.File
	// mapped is the whole page file mapped read-only (nil if mapping is
	// off or failed); unmapped with f's close, when no handle is out.
	mapped []byte
	crcs   []uint32
	chunk  int  // chunk size of crcs
	refs   int  // handles out
	gone   bool // no longer in the cache: close when refs reaches 0
	elem   *list.Element
}

func newOpenCache(max int) *openCache {
	return &openCache{max: max, m: make(map[openKey]*openEntry), opening: make(map[openKey]chan struct{})}
}

// claim returns the cached entry for name with a reference taken; or, when
// another caller is opening it, a channel closed when that caller is done
// (then claim again); or neither: the caller opens it, and calls opened.
func (c *openCache) claim(name openKey) (*openEntry, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[name]; ok {
		e.refs++
		c.lru.MoveToFront(e.elem)
		return e, nil
	}
	if ch, ok := c.opening[name]; ok {
		return nil, ch
	}
	c.opening[name] = make(chan struct{})
	return nil, nil
}

// opened ends a claim: the callers waiting for name look again.
func (c *openCache) opened(name openKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.opening[name]; ok {
		delete(c.opening, name)
		close(ch)
	}
}

// add caches an opened, verified page file (and its mapping, or nil) and
// returns its entry with a reference taken. If another caller cached the same
// name meanwhile, that entry is returned and f is closed.
func (c *openCache) add(name openKey, f *os.File, mapped []byte, crcs []uint32, chunk int) *openEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[name]; ok {
		closeEntryFile(f, mapped)
		e.refs++
		c.lru.MoveToFront(e.elem)
		return e
	}
	e := &openEntry{name: name, f: f, mapped: mapped, crcs: crcs, chunk: chunk, refs: 1}
	if c.max <= 0 {
		e.gone = true // caching disabled: the handle owns the file
		return e
	}
	e.elem = c.lru.PushFront(e)
	c.m[name] = e
	for c.lru.Len() > c.max {
		c.dropLocked(c.lru.Back().Value.(*openEntry))
	}
	return e
}

// release returns a reference.
func (c *openCache) release(e *openEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.refs--
	if e.gone && e.refs == 0 {
		closeEntryFile(e.f, e.mapped)
	}
}

// remove forgets a page file the store is unlinking (by its path).
func (c *openCache) remove(path string) {
	k, gen, ok := parsePageName(filepath.Base(path))
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[openKey{k, gen}]; ok {
		c.dropLocked(e)
	}
}

func (c *openCache) dropLocked(e *openEntry) {
	delete(c.m, e.name)
	c.lru.Remove(e.elem)
	e.gone = true
	if e.refs == 0 {
		closeEntryFile(e.f, e.mapped)
	}
}

// mapPageFile maps size bytes of f read-only, or returns nil (the caller
// then does without: mapping is an optimization, never required).
func mapPageFile(f *os.File, size int64) []byte {
	if size <= 0 || int64(int(size)) != size {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	var m []byte
	_ = rc.Control(func(fd uintptr) {
		b, err := mmapReadOnly(int(fd), int(size))
		if err == nil {
			m = b
		}
	})
	return m
}

// closeEntryFile unmaps and closes a page file no handle uses any more.
func closeEntryFile(f *os.File, mapped []byte) {
	if mapped != nil {
		_ = munmap(mapped)
	}
	f.Close()
}

// closeAll drops every entry (Store.Close).
func (c *openCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.m {
		c.dropLocked(e)
	}
}
