package storage

import (
	"container/list"
	"math/rand/v2"
	"testing"
)

// A pure, deterministic simulation of the eviction policy against plain LRU
// on what a query engine does: a hot Zipf-distributed working set plus large
// one-off scans (each scan reads pages never seen before and never again).

type traceConfig struct {
	seed      uint64
	hot       uint64  // pages in the hot set
	zipfS     float64 // Zipf skew
	accesses  int
	scanEvery int // accesses between scans
	scanLen   int // pages per scan
}

func makeTrace(tc traceConfig) []uint64 {
	r := rand.New(rand.NewPCG(tc.seed, 0))
	z := rand.NewZipf(r, tc.zipfS, 1, tc.hot-1)
	out := make([]uint64, 0, tc.accesses+tc.accesses/tc.scanEvery*tc.scanLen)
	next := uint64(1) << 40 // scan pages: fresh ids
	for i := 0; i < tc.accesses; i++ {
		out = append(out, z.Uint64())
		if i%tc.scanEvery == tc.scanEvery-1 {
			for j := 0; j < tc.scanLen; j++ {
				out = append(out, next)
				next++
			}
		}
	}
	return out
}

type lruSim struct {
	cap   int
	ll    *list.List
	items map[uint64]*list.Element
}

func (c *lruSim) access(k uint64) bool {
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		return true
	}
	if c.ll.Len() >= c.cap {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(uint64))
	}
	c.items[k] = c.ll.PushFront(k)
	return false
}

// s3fifoSim drives the store's policy type with unit-size pages.
type s3fifoSim struct {
	cap   int
	p     *policy
	slots map[uint64]int32
	keys  []uint64
	free  []int32
}

func newS3FIFOSim(capacity int) *s3fifoSim {
	return &s3fifoSim{cap: capacity, p: newPolicy(1, []int{capacity}, func(int32) int64 { return 1 }), slots: map[uint64]int32{}}
}

func mix(k uint64) uint64 { k ^= k >> 33; k *= 0xff51afd7ed558ccd; k ^= k >> 33; return k }

func (c *s3fifoSim) access(k uint64) bool {
	if id, ok := c.slots[k]; ok {
		c.p.touch(id)
		return true
	}
	if len(c.slots) >= c.cap {
		id, ok := c.p.evict(0, func(id int32) uint64 { return mix(c.keys[id]) })
		if !ok {
			panic("nothing to evict")
		}
		delete(c.slots, c.keys[id])
		c.free = append(c.free, id)
	}
	var id int32
	if n := len(c.free); n > 0 {
		id, c.free = c.free[n-1], c.free[:n-1]
	} else {
		id = int32(len(c.keys))
		c.keys = append(c.keys, 0)
	}
	c.keys[id] = k
	c.slots[k] = id
	c.p.insert(id, 0, mix(k), true)
	return false
}

func hitRatio(trace []uint64, access func(uint64) bool) float64 {
	hits := 0
	for _, k := range trace {
		if access(k) {
			hits++
		}
	}
	return float64(hits) / float64(len(trace))
}

var simTrace = traceConfig{seed: 1, hot: 50_000, zipfS: 1.05, accesses: 600_000, scanEvery: 50_000, scanLen: 40_000}

var simSizes = []int{1_000, 5_000, 20_000}

func TestPolicyBeatsLRUOnScanPlusZipf(t *testing.T) {
	tc := simTrace
	if testing.Short() {
		tc.accesses /= 4
	}
	trace := makeTrace(tc)
	t.Logf("trace: %d accesses (hot set %d pages, Zipf s=%.2f, a %d-page scan every %d accesses), seed %d",
		len(trace), tc.hot, tc.zipfS, tc.scanLen, tc.scanEvery, tc.seed)
	for _, size := range simSizes {
		lru := &lruSim{cap: size, ll: list.New(), items: map[uint64]*list.Element{}}
		lruHit := hitRatio(trace, lru.access)
		s3 := newS3FIFOSim(size)
		s3Hit := hitRatio(trace, s3.access)
		t.Logf("cache %6d pages: S3-FIFO hit ratio %.4f, LRU %.4f (%+.1f%%)", size, s3Hit, lruHit, 100*(s3Hit-lruHit)/lruHit)
		if s3Hit < lruHit {
			t.Errorf("cache %d: S3-FIFO %.4f below LRU %.4f", size, s3Hit, lruHit)
		}
	}
}

// BenchmarkPolicyHitRatio reports the hit ratios as metrics (the timing is
// the policy's cost per access).
func BenchmarkPolicyHitRatio(b *testing.B) {
	trace := makeTrace(simTrace)
	for _, size := range simSizes {
		b.Run("s3fifo/"+itoa(size), func(b *testing.B) {
			var h float64
			for i := 0; i < b.N; i++ {
				h = hitRatio(trace, newS3FIFOSim(size).access)
			}
			b.ReportMetric(h, "hit-ratio")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(trace)), "ns/access")
		})
		b.Run("lru/"+itoa(size), func(b *testing.B) {
			var h float64
			for i := 0; i < b.N; i++ {
				lru := &lruSim{cap: size, ll: list.New(), items: map[uint64]*list.Element{}}
				h = hitRatio(trace, lru.access)
			}
			b.ReportMetric(h, "hit-ratio")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(trace)), "ns/access")
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestPolicyUnitBehaviour(t *testing.T) {
	p := newPolicy(1, []int{4}, func(int32) int64 { return 10 })
	h := func(id int32) uint64 { return uint64(id) + 100 }
	for id := int32(0); id < 4; id++ {
		p.insert(id, 0, h(id), true)
	}
	p.touch(1)
	// 0 is the oldest unaccessed page in S: evicted first. Next, 1 (accessed)
	// reaches S's head and is promoted to M instead; 2 goes.
	if id, _ := p.evict(0, h); id != 0 {
		t.Fatalf("victim %d, want 0", id)
	}
	if id, _ := p.evict(0, h); id != 2 {
		t.Fatalf("victim %d, want 2", id)
	}
	if p.nodes[1].queue != queueMain {
		t.Fatal("accessed page not promoted to M")
	}
	// A ghost hit goes straight to M.
	p.insert(0, 0, h(0), true)
	if p.nodes[0].queue != queueMain {
		t.Fatal("ghost hit not inserted into M")
	}
	// Pinned nodes are never chosen.
	p.setEvictable(3, false)
	p.setEvictable(0, false)
	p.setEvictable(1, false)
	if _, ok := p.evict(0, h); ok || p.evictable(0) != 0 {
		t.Fatal("evicted a pinned node")
	}
}
