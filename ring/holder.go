package ring

import "sync/atomic"

// Holder holds the current ring. Readers Load it without a lock; the
// membership layer Stores a new ring on every member-set change. The zero
// Holder holds nil, which every Ring method treats as an empty ring.
type Holder struct {
	p atomic.Pointer[Ring]
}

// NewHolder returns a Holder holding r.
func NewHolder(r *Ring) *Holder {
	h := &Holder{}
	h.p.Store(r)
	return h
}

// Load returns the current ring (nil if none was stored).
func (h *Holder) Load() *Ring { return h.p.Load() }

// Store makes r the current ring.
func (h *Holder) Store(r *Ring) { h.p.Store(r) }

// Swap makes r the current ring and returns the previous one, so the caller
// can log the old and new versions of one transition.
func (h *Holder) Swap(r *Ring) *Ring { return h.p.Swap(r) }
