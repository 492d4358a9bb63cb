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
	// No node needs more than every split; the min also keeps a huge
	// maxLoad from overflowing the int conversion.
	bound := int(math.Min(math.Ceil(maxLoad*float64(len(splits))/float64(len(members))), float64(len(splits))))
	// Work on member indexes (into members) so the hot loop does no map
	// lookups: 1M splits must place in well under a second.
	counts := make([]int, len(members))
	out := make([]Assignment, len(splits))
	// Most splits land on their owner; fallbacks are fetched only when the
	// owner is full, a few at a time, then the whole list as a last resort.
	const shortList = 8
	buf := make([]int, 0, shortList)
	long := map[int]*longList{}
	for i, s := range splits {
		key := Key(cfg, s)
		if oi := r.OwnerIndex(key); counts[oi] < bound {
			counts[oi]++
			out[i] = Assignment{Split: i, Node: members[oi], PreferredRank: 0}
			continue
		}
		buf = r.AppendOwnerIndexes(buf[:0], key, shortList)
		rank := place(buf, 1, counts, bound)
		if rank >= 0 {
			out[i] = Assignment{Split: i, Node: members[buf[rank]], PreferredRank: rank}
			continue
		}
		// A hot key overflows its short list for most of its splits: the
		// full list (a walk of the whole circle) is computed once per
		// partition, and since counts only grow, the search resumes at the
		// first rank that was not full last time.
		p := r.Partition(key)
		l := long[p]
		if l == nil {
			l = &longList{prefs: r.AppendOwnerIndexes(nil, key, len(members)), next: len(buf)}
			long[p] = l
		}
		if rank = place(l.prefs, l.next, counts, bound); rank < 0 {
			// Unreachable: bound*members >= len(splits), so some member has
			// room, and the full list holds every member.
			return Result{}, fmt.Errorf("%w: split %d found every node full (bound %d)", ErrBadLoad, i, bound)
		}
		l.next = rank
		out[i] = Assignment{Split: i, Node: members[l.prefs[rank]], PreferredRank: rank}
	}
	load := make(map[string]int, len(members))
	for i, m := range members {
		load[m] = counts[i]
	}
	return Result{Assignments: out, Load: load, Bound: bound}, nil
}

// longList is the full preference list (member indexes) of a partition
// whose short list was full, with the first rank that may still have room.
type longList struct {
	prefs []int
	next  int
}

// place counts a split on the first member of prefs[from:] below bound and
// returns its rank, or -1 if all are full.
func place(prefs []int, from int, counts []int, bound int) int {
	for rank := from; rank < len(prefs); rank++ {
		if counts[prefs[rank]] < bound {
			counts[prefs[rank]]++
			return rank
		}
	}
	return -1
}
