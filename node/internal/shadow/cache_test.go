package shadow

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ringcache/ringcache/internal/testseed"
)

// clock is the injected clock of the tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func pageSize(p uint64) int64        { return sizeOf(mix(p ^ 0x5eed)) }
func sizeOf(h uint64) int64 {
	if h%4 != 0 {
		return 1 << 20 // most pages are whole
	}
	return 1 + int64(h>>8)%(1<<20) // the last page of a file
}

// exact is the reference: the same window (current segment and the
// Segments-1 before it), counted exactly.
type exact struct {
	segs     int64
	last     map[uint64]int64 // page -> last segment it was read in
	accesses map[int64]int64  // segment -> accesses
	hits     map[int64]int64
}

func newExact(segs int) *exact {
	return &exact{segs: int64(segs), last: map[uint64]int64{}, accesses: map[int64]int64{}, hits: map[int64]int64{}}
}

func (e *exact) record(page uint64, seg int64) bool {
	e.accesses[seg]++
	l, ok := e.last[page]
	hit := ok && l > seg-e.segs
	if hit {
		e.hits[seg]++
	}
	e.last[page] = seg
	return hit
}

// window returns the exact working set (pages, bytes) and hit ratio at
// segment cur.
func (e *exact) window(cur int64) (pages, bytes int64, hitRatio float64) {
	for p, l := range e.last {
		if l > cur-e.segs {
			pages++
			bytes += pageSize(p)
		}
	}
	var acc, hits int64
	for s := cur - e.segs + 1; s <= cur; s++ {
		acc += e.accesses[s]
		hits += e.hits[s]
	}
	if acc > 0 {
		hitRatio = float64(hits) / float64(acc)
	}
	return pages, bytes, hitRatio
}

// trace yields the page of access i of n.
type trace func(r *rand.Rand, i, n int) uint64

func uniform(distinct uint64) trace {
	return func(r *rand.Rand, _, _ int) uint64 { return r.Uint64N(distinct) }
}

func zipf(r *rand.Rand, s float64, distinct uint64) trace {
	z := rand.NewZipf(r, s, 1, distinct-1)
	return func(*rand.Rand, int, int) uint64 { return z.Uint64() }
}

// scan reads pages 0, 1, 2, ... and starts over after length pages.
func scan(length uint64) trace {
	return func(_ *rand.Rand, i, _ int) uint64 { return uint64(i) % length }
}

// TestAgainstExact runs seeded traces through a Cache and the exact model
// and compares them at the end of several segments: working set within
// 5%, hit ratio within 2 points.
func TestAgainstExact(t *testing.T) {
	seed := testseed.New(t)
	const (
		window   = 24 * time.Hour
		segments = 4
		accesses = 400_000
		span     = 60 * time.Hour // 2.5 windows: expiry included
	)
	cases := []struct {
		name string
		tr   func(r *rand.Rand) trace
	}{
		{"uniform", func(*rand.Rand) trace { return uniform(40_000) }},
		{"zipf", func(r *rand.Rand) trace { return zipf(r, 1.1, 200_000) }},
		{"scan-once", func(*rand.Rand) trace { return scan(1 << 40) }},
		{"scan-loop", func(*rand.Rand) trace { return scan(70_000) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := testseed.FromSeed(seed)
			clk := newClock()
			start := clk.t
			c, err := New(Config{Window: window, Segments: segments, Pages: 1 << 17, Now: clk.now})
			if err != nil {
				t.Fatal(err)
			}
			ex := newExact(segments)
			segLen := window / segments
			tr := tc.tr(r)
			step := span / accesses
			falseHits := 0
			for i := range accesses {
				seg := int64(clk.t.Sub(start) / segLen)
				p := tr(r, i, accesses)
				got := c.Record(Key([16]byte{}, 1, uint32(p)), pageSize(p))
				want := ex.record(p, seg)
				if got && !want {
					falseHits++
				}
				if !got && want {
					t.Fatalf("access %d to page %d: a miss for a page read earlier in the window", i, p)
				}
				clk.add(step)
				if next := int64(clk.t.Sub(start) / segLen); next != seg || i == accesses-1 {
					// The end of a segment: compare before the window moves.
					clk.add(-step)
					compare(t, c, ex, seg)
					clk.add(step)
				}
			}
			t.Logf("false hits: %d of %d accesses; memory %d KiB", falseHits, accesses, c.MemoryBytes()>>10)
		})
	}
}

func compare(t *testing.T, c *Cache, ex *exact, seg int64) {
	t.Helper()
	st := c.Stats()
	pages, bytes, hr := ex.window(seg)
	relErr := func(got, want int64) float64 {
		if want == 0 {
			return math.Abs(float64(got))
		}
		return math.Abs(float64(got-want)) / float64(want)
	}
	t.Logf("segment %d: working set %d pages (exact %d, %+.2f%%), %d MiB (exact %d, %+.2f%%), hit ratio %.4f (exact %.4f), fill %.2f",
		seg, st.WorkingSetPages, pages, 100*float64(st.WorkingSetPages-pages)/float64(max(pages, 1)),
		st.WorkingSetBytes>>20, bytes>>20, 100*float64(st.WorkingSetBytes-bytes)/float64(max(bytes, 1)), st.HitRatio, hr, st.Fill)
	if e := relErr(st.WorkingSetBytes, bytes); e > 0.05 {
		t.Errorf("segment %d: working set %d bytes, exact %d: off by %.1f%% (> 5%%)", seg, st.WorkingSetBytes, bytes, 100*e)
	}
	if d := math.Abs(st.HitRatio - hr); d > 0.02 {
		t.Errorf("segment %d: hit ratio %.4f, exact %.4f: off by %.2f points (> 2)", seg, st.HitRatio, hr, 100*d)
	}
}

// TestWindowExpiry moves the injected clock: a page stays a hit for the
// window, the segment it was read in expires as a whole, and a clock that
// jumps past the window empties it.
func TestWindowExpiry(t *testing.T) {
	clk := newClock()
	c, err := New(Config{Window: 4 * time.Hour, Segments: 4, Pages: 1024, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	const a, b = 1, 2
	if c.Record(a, 100) {
		t.Fatal("first access a hit")
	}
	clk.add(time.Hour) // segment 1
	c.Record(b, 300)
	if !c.Record(a, 100) {
		t.Fatal("a, read in the previous segment, is not a hit")
	}
	st := c.Stats()
	if st.WorkingSetPages != 2 || st.Accesses != 3 || st.Hits != 1 {
		t.Fatalf("stats %+v, want 2 pages, 3 accesses, 1 hit", st)
	}
	if want := int64(2 * (100 + 300 + 100) / 3); st.WorkingSetBytes != want {
		// The mean page size is over the pages new to each segment:
		// a (seg 0), b and a (seg 1).
		t.Fatalf("working set %d bytes, want %d", st.WorkingSetBytes, want)
	}
	clk.add(3 * time.Hour) // segment 4: segment 0 expired, 1 is still in
	st = c.Stats()
	if st.WorkingSetPages != 2 || st.Accesses != 2 || st.Hits != 1 {
		t.Fatalf("after segment 0 expired: %+v, want segment 1's 2 pages, 2 accesses, 1 hit", st)
	}
	clk.add(time.Hour) // segment 5: segment 1 expired too
	if st = c.Stats(); st.WorkingSetPages != 0 || st.Accesses != 0 || st.HitRatio != 0 || st.WorkingSetBytes != 0 {
		t.Fatalf("after the window: %+v, want empty", st)
	}
	if c.Record(a, 100) {
		t.Fatal("a is a hit after its window")
	}
	clk.add(-2 * time.Hour) // back in time: the window stays
	if !c.Record(a, 100) {
		t.Fatal("a not a hit after the clock went back")
	}
	clk.add(100 * time.Hour)
	if st = c.Stats(); st.WorkingSetPages != 0 || st.Accesses != 0 {
		t.Fatalf("after a jump past the window: %+v, want empty", st)
	}
}

func TestConfig(t *testing.T) {
	if got := (Config{}).MemoryBytes(); got != 8<<20 {
		t.Errorf("default memory %d, want 8 MiB (4 filters x 16 bits x 1Mi pages)", got)
	}
	for _, bad := range []Config{{Segments: 1}, {Segments: 65}, {Window: time.Second}, {Pages: -1}, {BitsPerPage: 2}} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v): no error", bad)
		}
	}
}

// BenchmarkRecord is the per-page cost of the read path on the default
// filters (8 MiB, beyond the CPU caches as in production): 65,536 pages
// read over and over, so after the first round each access finds its page
// in the current segment's filter (one block probed).
func BenchmarkRecord(b *testing.B) {
	c, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]uint64, 1<<16)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range keys {
		keys[i] = Key([16]byte{byte(i)}, 1, uint32(r.Uint64N(4*DefaultPages)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		c.Record(keys[i&(len(keys)-1)], 1<<20)
	}
}

func BenchmarkStats(b *testing.B) {
	c, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range uint64(DefaultPages) {
		c.Record(mix(i), 1<<20)
	}
	b.ResetTimer()
	for range b.N {
		c.Stats()
	}
}

// BenchmarkRecordSmall is Record on filters that fit in the CPU caches:
// the cost without the memory stalls.
func BenchmarkRecordSmall(b *testing.B) {
	c, err := New(Config{Pages: 1 << 12})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := range b.N {
		c.Record(mix(uint64(i)&4095), 1<<20)
	}
}
