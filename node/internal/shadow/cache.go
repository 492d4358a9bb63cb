package shadow

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Cache records page accesses and estimates the working set and shadow hit
// ratio of its window.
type Cache struct {
	cfg    Config
	segLen time.Duration
	start  time.Time
	blocks int64

	mu  sync.Mutex
	cur int64 // index of the current segment since start
	// segs[i % Segments] is segment i for i in (cur-Segments, cur].
	segs []segment
	// order is scratch for Stats: the live filters.
	order []filter
}

// segment is one time segment's filter and counts.
type segment struct {
	f        filter
	accesses int64 // accesses in the segment
	hits     int64 // of which to a page already in the window
	pages    int64 // pages new to this segment's filter
	bytes    int64 // and their bytes
}

// Stats is what a Cache estimates for its window now.
type Stats struct {
	// WorkingSetPages and WorkingSetBytes are the distinct pages read in
	// the window (estimated) and their bytes.
	WorkingSetPages int64
	WorkingSetBytes int64
	// Accesses and Hits count the window's accesses and its shadow hits:
	// accesses to a page read earlier in the window.
	Accesses, Hits int64
	// HitRatio is Hits/Accesses (0 without accesses).
	HitRatio float64
	// Fill is the fraction of the window's union filter set: about 0.39
	// at Config.Pages distinct pages with 16 bits a page; near 1 the
	// estimates are no longer worth much.
	Fill float64
	// Window is the configured window.
	Window time.Duration
}

// New builds a Cache; its memory (Config.MemoryBytes) is allocated now.
func New(cfg Config) (*Cache, error) {
	cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cache{cfg: cfg, segLen: cfg.Window / time.Duration(cfg.Segments), start: cfg.Now(),
		blocks: blocksFor(cfg.Pages, cfg.BitsPerPage)}
	c.segs = make([]segment, cfg.Segments)
	for i := range c.segs {
		c.segs[i].f = make(filter, c.blocks*blockWords)
	}
	c.order = make([]filter, 0, cfg.Segments)
	return c, nil
}

// Key is the shadow key of a page: a file, its version (a new version is
// new pages) and the page index.
func Key(file [16]byte, version uint64, index uint32) uint64 {
	var b [28]byte
	copy(b[:16], file[:])
	binary.LittleEndian.PutUint64(b[16:], version)
	binary.LittleEndian.PutUint32(b[24:], index)
	return xxhash.Sum64(b[:])
}

// Record counts one access to the page key of size bytes and reports
// whether it is a shadow hit. Its cost is one hash mix and one cache line a
// segment.
func (c *Cache) Record(key uint64, size int64) bool {
	p := newProbe(key, c.blocks)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance(c.cfg.Now())
	n := int64(len(c.segs))
	cur := &c.segs[c.cur%n]
	cur.accesses++
	if cur.f.has(&p) {
		cur.hits++
		return true
	}
	cur.f.add(&p)
	cur.pages++
	cur.bytes += size
	for i := int64(1); i < n && c.cur-i >= 0; i++ {
		if c.segs[(c.cur-i)%n].f.has(&p) {
			cur.hits++
			return true
		}
	}
	return false
}

// Stats returns the estimates for the window ending now. It reads every
// filter under the lock: O(memory), about a millisecond for the default
// size, during which Record waits; call it per scrape, not per read.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance(c.cfg.Now())
	st := Stats{Window: c.cfg.Window}
	var pages, bytes int64
	c.order = c.order[:0]
	for i := range c.segs {
		s := &c.segs[i]
		st.Accesses += s.accesses
		st.Hits += s.hits
		pages += s.pages
		bytes += s.bytes
		c.order = append(c.order, s.f)
	}
	if st.Accesses > 0 {
		st.HitRatio = float64(st.Hits) / float64(st.Accesses)
	}
	m := c.blocks * blockBits
	zeros := unionZeros(c.order)
	st.Fill = 1 - float64(zeros)/float64(m)
	distinct := estimateCount(zeros, m)
	st.WorkingSetPages = int64(distinct + 0.5)
	if pages > 0 {
		st.WorkingSetBytes = int64(distinct*float64(bytes)/float64(pages) + 0.5)
	}
	return st
}

// MemoryBytes is the memory of the filters.
func (c *Cache) MemoryBytes() int64 { return c.cfg.MemoryBytes() }

// advance moves the window to now: each segment that ended since the last
// call clears the oldest filter for the next one. A clock that goes back
// leaves the window where it is.
func (c *Cache) advance(now time.Time) {
	idx := int64(now.Sub(c.start) / c.segLen)
	if idx <= c.cur {
		return
	}
	n := int64(len(c.segs))
	for i := c.cur + 1; i <= idx && i <= c.cur+n; i++ {
		s := &c.segs[i%n]
		s.f.clear()
		*s = segment{f: s.f}
	}
	// More than a whole window passed: every filter was cleared above.
	c.cur = idx
}
