// Package affinity is Presto-style soft affinity on top of the ring: it tells
// a query engine which nodes a split (a byte range of a file) prefers, and
// places a batch of splits on nodes with bounded loads so that a hot file
// cannot pile every split on its owner.
//
// A split's key is its file path, so every split of a file prefers the node
// that caches the file; with Config.SectionSize > 0 the key is
// "path#<offset/SectionSize>" (Presto's Iceberg mode, 256 MiB sections) so a
// huge file spreads over several nodes. The preferred nodes are
// ring.Owners(key, n): the owner first, then the fallbacks in ring order, the
// order the cache itself uses.
//
// Only active members are ever preferred: the ring is built by the membership
// layer from members whose state is active, so dead, joining and leaving
// nodes are not in it and cannot be a first (or any) preference.
//
// This package is pure: no I/O, no goroutines, no clocks.
package affinity

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/ringcache/ringcache/ring"
)

// PrestoSectionSize is the section size of Presto's Iceberg soft-affinity
// mode: 256 MiB.
const PrestoSectionSize = 256 << 20

// Sentinel errors; every error returned by this package wraps one of them.
var (
	ErrBadConfig = errors.New("affinity: bad config")
	ErrBadLoad   = errors.New("affinity: maxLoad must be >= 1")
	ErrEmptyRing = errors.New("affinity: empty ring")
	ErrBadSplit  = errors.New("affinity: bad split")
)

// Split is a byte range of a file that one task reads.
type Split struct {
	Path           string
	Offset, Length int64
}

// Config says how splits are keyed. The zero Config keys by path.
type Config struct {
	// SectionSize, when > 0, keys a split by "path#<Offset/SectionSize>",
	// so the sections of a file hash to different nodes. 0 (the default)
	// keys by path: all splits of a file prefer the same node. Presto's
	// Iceberg mode uses PrestoSectionSize.
	SectionSize int64
}

// Validate checks c.
func (c Config) Validate() error {
	if c.SectionSize < 0 {
		return fmt.Errorf("%w: SectionSize %d < 0", ErrBadConfig, c.SectionSize)
	}
	return nil
}

// Key returns the ring key of s: the path, or "path#<section>" when
// SectionSize > 0.
func Key(cfg Config, s Split) string {
	if cfg.SectionSize <= 0 {
		return s.Path
	}
	return s.Path + "#" + strconv.FormatInt(s.Offset/cfg.SectionSize, 10)
}

// Preferred returns up to n nodes for s, most preferred first: the owner of
// its key, then the fallbacks in ring order. Nil for an empty ring, n <= 0
// or an empty path.
func Preferred(r *ring.Ring, cfg Config, s Split, n int) []string {
	if s.Path == "" {
		return nil
	}
	return r.Owners(Key(cfg, s), n)
}

// Assignment is where one split goes.
type Assignment struct {
	Split         int    // index in the splits passed to Assign
	Node          string // member ID
	PreferredRank int    // position of Node in the split's preference list; 0 = owner
}

// Result is the placement of a batch.
type Result struct {
	// Assignments has one entry per split, in input order.
	Assignments []Assignment
	// Load is the number of splits per node, every ring member included
	// (0 for a node that got none).
	Load map[string]int
	// Bound is the per-node cap used: ceil(maxLoad * splits / members),
	// at most len(splits).
	Bound int
}

// Assign places every split on a node, in input order: each goes to its
// first preferred node whose count is below ceil(maxLoad * len(splits) /
// members) (consistent hashing with bounded loads). If all of its usual
// fallbacks are full it keeps walking its full preference list (every member,
// in ring order), so every split is placed: the caps add up to at least
// len(splits). The same ring, Config and splits always give the same result.
//
// PreferredRank lets an engine skip caching for splits that landed away from
// their owner, as Presto does.
func Assign(r *ring.Ring, cfg Config, splits []Split, maxLoad float64) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if !(maxLoad >= 1) || math.IsInf(maxLoad, 1) {
		return Result{}, fmt.Errorf("%w: got %v", ErrBadLoad, maxLoad)
	}
	members := r.Members()
	if len(members) == 0 {
		return Result{}, ErrEmptyRing
	}
	for i, s := range splits {
		if s.Path == "" {
			return Result{}, fmt.Errorf("%w: split %d has an empty path", ErrBadSplit, i)
		}
		if s.Offset < 0 || s.Length < 0 {
			return Result{}, fmt.Errorf("%w: split %d (%s) has offset %d, length %d", ErrBadSplit, i, s.Path, s.Offset, s.Length)
		}
	}
	index := make(map[string]int, len(members))
	for i, m := range members {
		index[m] = i
	}
	// No node needs more than every split; the min also keeps a huge
	// maxLoad from overflowing the int conversion.
	bound := int(math.Min(math.Ceil(maxLoad*float64(len(splits))/float64(len(members))), float64(len(splits))))
	counts := make([]int, len(members))
	out := make([]Assignment, len(splits))
	// Most splits land on their owner; fallbacks are fetched only when the
	// owner is full, a few at a time, then the whole list as a last resort.
	const shortList = 8
	buf := make([]string, 0, shortList)
	for i, s := range splits {
		key := Key(cfg, s)
		out[i] = Assignment{Split: i, PreferredRank: -1}
		if owner := r.Owner(key); counts[index[owner]] < bound {
			counts[index[owner]]++
			out[i].Node = owner
			out[i].PreferredRank = 0
			continue
		}
		buf = r.AppendOwners(buf[:0], key, shortList)
		if !place(&out[i], buf, 1, index, counts, bound) {
			all := r.Owners(key, len(members))
			place(&out[i], all, len(buf), index, counts, bound)
		}
		if out[i].PreferredRank < 0 {
			// Unreachable: bound*members >= len(splits), so some member has
			// room, and the full list holds every member.
			return Result{}, fmt.Errorf("%w: split %d found every node full (bound %d)", ErrBadLoad, i, bound)
		}
	}
	load := make(map[string]int, len(members))
	for i, m := range members {
		load[m] = counts[i]
	}
	return Result{Assignments: out, Load: load, Bound: bound}, nil
}

// place puts a on the first node of prefs[from:] below bound, recording its
// rank; it reports whether it found one.
func place(a *Assignment, prefs []string, from int, index map[string]int, counts []int, bound int) bool {
	for rank := from; rank < len(prefs); rank++ {
		if mi := index[prefs[rank]]; counts[mi] < bound {
			counts[mi]++
			a.Node = prefs[rank]
			a.PreferredRank = rank
			return true
		}
	}
	return false
}
