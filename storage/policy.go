package storage

import "sync/atomic"

// This file is the eviction policy: S3-FIFO (Yang et al., SOSP'23) over
// integer slot ids, with no I/O, clock or locking of its own. The store owns
// one policy whose node array is parallel to its page slab and partitions it
// into independent S3-FIFO instances (one per data dir and quota group).
//
// S3-FIFO keeps a small FIFO (S, ~10% of the bytes) that absorbs one-hit
// wonders such as a table scan, a main FIFO (M) with 2-bit access counters
// and lazy promotion (reinsertion), and a ghost set of recently evicted keys
// from S: a key seen in the ghost goes straight to M. It is scan-resistant
// and needs 20 bytes of state per page (qnode) plus the ghost.

const (
	queueNone  uint8 = iota // not evictable (pinned) or not in the policy
	queueSmall              // in S
	queueMain               // in M

	// maxFreq saturates the access counter (2 bits in the paper).
	maxFreq = 3
	// smallPercent is S's share of a partition's bytes.
	smallPercent = 10
)

// qnode is the policy state of one slot.
type qnode struct {
	prev, next int32  // -1 terminated doubly linked list
	freq       uint32 // accessed atomically: readers bump it under a read lock
	queue      uint8
	part       uint16
}

type fifo struct {
	head, tail int32 // head = oldest
	bytes      int64
	n          int
}

// ghost is a bounded FIFO set of key hashes.
type ghost struct {
	ring []uint64
	pos  int
	max  int
	set  map[uint64]uint32
}

func (g *ghost) add(h uint64) {
	if g.max <= 0 {
		return
	}
	if g.set == nil {
		g.set = make(map[uint64]uint32)
	}
	if len(g.ring) < g.max {
		g.ring = append(g.ring, h)
	} else {
		old := g.ring[g.pos]
		if c := g.set[old]; c <= 1 {
			delete(g.set, old)
		} else {
			g.set[old] = c - 1
		}
		g.ring[g.pos] = h
		g.pos = (g.pos + 1) % g.max
	}
	g.set[h]++
}

func (g *ghost) has(h uint64) bool { _, ok := g.set[h]; return ok }

type partition struct {
	small, main fifo
	ghost       ghost
}

// policy is a set of S3-FIFO partitions over a shared node array.
type policy struct {
	nodes []qnode
	parts []partition
	// sizeOf returns the length in bytes of a slot's page; it must not
	// change while the slot is in the policy.
	sizeOf func(id int32) int64
}

func newPolicy(parts int, ghostEntries []int, sizeOf func(id int32) int64) *policy {
	p := &policy{parts: make([]partition, parts), sizeOf: sizeOf}
	for i := range p.parts {
		p.parts[i].small = fifo{head: -1, tail: -1}
		p.parts[i].main = fifo{head: -1, tail: -1}
		p.parts[i].ghost.max = ghostEntries[i]
	}
	return p
}

// grow makes room for slot id.
func (p *policy) grow(id int32) {
	for int(id) >= len(p.nodes) {
		p.nodes = append(p.nodes, qnode{prev: -1, next: -1})
	}
}

func (p *policy) queue(part int, q uint8) *fifo {
	if q == queueSmall {
		return &p.parts[part].small
	}
	return &p.parts[part].main
}

func (p *policy) pushTail(id int32, q uint8) {
	n := &p.nodes[id]
	f := p.queue(int(n.part), q)
	n.queue, n.prev, n.next = q, f.tail, -1
	if f.tail >= 0 {
		p.nodes[f.tail].next = id
	} else {
		f.head = id
	}
	f.tail = id
	f.bytes += p.sizeOf(id)
	f.n++
}

func (p *policy) unlink(id int32) {
	n := &p.nodes[id]
	if n.queue == queueNone {
		return
	}
	f := p.queue(int(n.part), n.queue)
	if n.prev >= 0 {
		p.nodes[n.prev].next = n.next
	} else {
		f.head = n.next
	}
	if n.next >= 0 {
		p.nodes[n.next].prev = n.prev
	} else {
		f.tail = n.prev
	}
	f.bytes -= p.sizeOf(id)
	f.n--
	n.queue, n.prev, n.next = queueNone, -1, -1
}

// insert adds slot id to a partition; h is its key's hash. evictable=false
// (pinned) records the node without queueing it.
func (p *policy) insert(id int32, part int, h uint64, evictable bool) {
	p.grow(id)
	p.nodes[id] = qnode{prev: -1, next: -1, part: uint16(part)}
	if !evictable {
		return
	}
	if p.parts[part].ghost.has(h) {
		p.pushTail(id, queueMain)
	} else {
		p.pushTail(id, queueSmall)
	}
}

// insertMain adds a node straight to M (pages replayed at Open: they
// earned their place before the restart).
func (p *policy) insertMain(id int32, part int, evictable bool) {
	p.grow(id)
	p.nodes[id] = qnode{prev: -1, next: -1, part: uint16(part)}
	if evictable {
		p.pushTail(id, queueMain)
	}
}

// setEvictable moves a node in or out of the queues (pin/unpin).
func (p *policy) setEvictable(id int32, evictable bool) {
	n := &p.nodes[id]
	switch {
	case evictable && n.queue == queueNone:
		p.pushTail(id, queueMain)
	case !evictable && n.queue != queueNone:
		p.unlink(id)
	}
}

// touch records an access; safe to call concurrently with other touches.
func (p *policy) touch(id int32) {
	f := &p.nodes[id].freq
	for {
		v := atomic.LoadUint32(f)
		if v >= maxFreq || atomic.CompareAndSwapUint32(f, v, v+1) {
			return
		}
	}
}

// remove takes a node out of the policy (dropped, invalidated, superseded).
func (p *policy) remove(id int32) { p.unlink(id) }

// evictable returns the bytes a partition can still evict.
func (p *policy) evictable(part int) int64 {
	return p.parts[part].small.bytes + p.parts[part].main.bytes
}

// evict chooses a victim in a partition, unlinks it and returns it; ok is
// false when nothing in the partition is evictable. hash returns the key
// hash of a slot for the ghost set.
func (p *policy) evict(part int, hash func(int32) uint64) (int32, bool) {
	pt := &p.parts[part]
	for pt.small.n+pt.main.n > 0 {
		total := pt.small.bytes + pt.main.bytes
		if pt.small.n > 0 && (pt.main.n == 0 || pt.small.bytes*100 >= total*smallPercent) {
			id := pt.small.head
			p.unlink(id)
			if atomic.LoadUint32(&p.nodes[id].freq) > 0 {
				atomic.StoreUint32(&p.nodes[id].freq, 0)
				p.pushTail(id, queueMain)
				continue
			}
			pt.ghost.add(hash(id))
			return id, true
		}
		id := pt.main.head
		p.unlink(id)
		if f := atomic.LoadUint32(&p.nodes[id].freq); f > 0 {
			atomic.StoreUint32(&p.nodes[id].freq, f-1)
			p.pushTail(id, queueMain)
			continue
		}
		return id, true
	}
	return -1, false
}
