package ring

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// tableDepth is how many owners per partition New precomputes (owner first,
// then fallbacks). Owners(key, n) for n <= tableDepth is a slice of the
// table; larger n walks the circle at call time (same result, slower).
// Replication and affinity ask for 1 to 3.
const tableDepth = 8

// vnode is one virtual node on the hash circle.
type vnode struct {
	hash   uint64
	member int32 // index into Ring.members
}

// Ring maps keys to members. It is immutable after New: every method is safe
// for concurrent use and takes no lock. A nil *Ring behaves as an empty ring.
type Ring struct {
	cfg     Config // with defaults
	members []string
	index   map[string]int32
	// vnodes is the hash circle, sorted by hash, one entry per distinct hash.
	vnodes []vnode
	// start[p] is the index in vnodes where the walk for partition p starts
	// (first vnode with hash >= hash of p, wrapping to 0).
	start []int32
	// table[p*depth : p*depth+depth] are the owners of partition p, owner
	// first, distinct.
	table []int32
	// owner[p] repeats table[p*depth]: a dense 4-byte-per-partition array
	// (256 KiB at the default) stays in cache where the table does not,
	// which matters for Owner on large batches (affinity.Assign).
	owner  []int32
	depth  int
	counts []int32 // partitions owned per member
	parts  uint64
	ver    uint64
}

// New builds a ring over members, which are the IDs of the active members
// (membership passes only members whose state is active; that is what keeps
// dead, joining and leaving nodes from ever being an owner or a first
// preference). The input order does not matter: every party that builds a
// ring from the same set and Config gets the same owners and Version. An
// empty member set gives an empty ring.
//
// Placement is consistent v1.0.0's bounded-load algorithm with an xxhash
// hasher, reproduced bit for bit (tests compare every partition owner with
// consistent itself): consistent.New re-sorts the whole circle after each
// member, which is quadratic (1.3 s for 512 members at 100 virtual nodes),
// and its lookups take a RWMutex.
func New(cfg Config, members []string) (*Ring, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	ms := slices.Clone(members)
	slices.Sort(ms)
	for i, m := range ms {
		if m == "" {
			return nil, fmt.Errorf("%w: empty member ID", ErrBadMember)
		}
		if i > 0 && ms[i-1] == m {
			return nil, fmt.Errorf("%w: duplicate member ID %q", ErrBadMember, m)
		}
	}
	if len(ms) > cfg.Partitions {
		return nil, fmt.Errorf("%w: %d members, %d partitions", ErrTooManyMembers, len(ms), cfg.Partitions)
	}
	if !fits(cfg.Partitions, len(ms), cfg.Load) {
		return nil, fmt.Errorf("%w: %d partitions, %d members, load %v", ErrNoRoom, cfg.Partitions, len(ms), cfg.Load)
	}
	r := &Ring{
		cfg:     cfg,
		members: ms,
		index:   make(map[string]int32, len(ms)),
		parts:   uint64(cfg.Partitions),
		ver:     version(cfg, ms),
	}
	for i, m := range ms {
		r.index[m] = int32(i)
	}
	if len(ms) == 0 {
		return r, nil
	}
	r.buildCircle()
	if err := r.distribute(); err != nil {
		return nil, err
	}
	return r, nil
}

// buildCircle places ReplicationFactor virtual nodes per member at
// xxhash("<i>:<member>") (consistent's replicaKey). On a hash collision
// consistent keeps the member added last; members are added in sorted order,
// so the larger ID wins, the same on every party.
func (r *Ring) buildCircle() {
	rf := r.cfg.ReplicationFactor
	vs := make([]vnode, 0, len(r.members)*rf)
	buf := make([]byte, 0, 64)
	for mi, m := range r.members {
		for i := 0; i < rf; i++ {
			buf = strconv.AppendInt(buf[:0], int64(i), 10)
			buf = append(buf, ':')
			buf = append(buf, m...)
			vs = append(vs, vnode{hash: xxhash.Sum64(buf), member: int32(mi)})
		}
	}
	// Sort by hash, ties by member index descending so that the first of a
	// run of equal hashes is the last-added member; then keep that one.
	slices.SortFunc(vs, func(a, b vnode) int {
		if a.hash != b.hash {
			if a.hash < b.hash {
				return -1
			}
			return 1
		}
		return int(b.member - a.member)
	})
	r.vnodes = slices.CompactFunc(vs, func(a, b vnode) bool { return a.hash == b.hash })
}

// partitionHash is where partition p sits on the circle: consistent hashes
// the 8-byte little-endian partition ID.
func partitionHash(p uint64) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], p)
	return xxhash.Sum64(b[:])
}

// distribute assigns each partition, in ID order, to the first member
// clockwise from the partition's hash that is below the load bound
// (consistent's distributePartitions), then fills the fallback table.
func (r *Ring) distribute() error {
	n := len(r.members)
	bound := maxPerMember(r.cfg.Partitions, n, r.cfg.Load)
	loads := make([]float64, n)
	r.counts = make([]int32, n)
	r.start = make([]int32, r.parts)
	r.depth = min(tableDepth, n)
	r.table = make([]int32, int(r.parts)*r.depth)
	r.owner = make([]int32, r.parts)
	nv := len(r.vnodes)
	for p := uint64(0); p < r.parts; p++ {
		h := partitionHash(p)
		idx := sort.Search(nv, func(i int) bool { return r.vnodes[i].hash >= h })
		if idx >= nv {
			idx = 0
		}
		r.start[p] = int32(idx)
		owner := int32(-1)
		for step, i := 0, idx; step < nv; step++ {
			m := r.vnodes[i].member
			if loads[m]+1 <= bound {
				owner = m
				break
			}
			if i++; i == nv {
				i = 0
			}
		}
		if owner < 0 {
			// Only reachable if collisions removed every virtual node of
			// some members; fits() covers every other case.
			return fmt.Errorf("%w: partition %d found every member full", ErrNoRoom, p)
		}
		loads[owner]++
		r.counts[owner]++
		r.owner[p] = owner
		row := r.table[int(p)*r.depth : int(p+1)*r.depth]
		r.walk(int(p), owner, row)
	}
	return nil
}

// walk fills dst with the owners of partition p: owner first, then the
// distinct members met walking clockwise from the partition's start, then
// (only if collisions hid some member from the circle) the remaining members
// in ID order. Every call with the same p gives the same sequence, so the
// precomputed table and a deeper call-time walk agree.
func (r *Ring) walk(p int, owner int32, dst []int32) {
	if len(dst) == 0 {
		return
	}
	dst[0] = owner
	k := 1
	var seen []bool
	if len(dst) > tableDepth {
		// Deep walks use a bitmap; table walks (<= 8 entries) scan dst.
		seen = make([]bool, len(r.members))
		seen[owner] = true
	}
	has := func(m int32) bool {
		if seen != nil {
			return seen[m]
		}
		return slices.Contains(dst[:k], m)
	}
	nv := len(r.vnodes)
	for step, i := 0, int(r.start[p]); step < nv && k < len(dst); step++ {
		if m := r.vnodes[i].member; !has(m) {
			dst[k] = m
			k++
			if seen != nil {
				seen[m] = true
			}
		}
		if i++; i == nv {
			i = 0
		}
	}
	for m := int32(0); k < len(dst) && int(m) < len(r.members); m++ {
		if !has(m) {
			dst[k] = m
			k++
			if seen != nil {
				seen[m] = true
			}
		}
	}
}

// version hashes the parameters and the sorted member set. Each ID is
// length-prefixed so that {"ab","c"} and {"a","bc"} differ.
func version(cfg Config, sorted []string) uint64 {
	d := xxhash.New()
	var b [binary.MaxVarintLen64]byte
	binary.LittleEndian.PutUint64(b[:8], cfg.Hash())
	_, _ = d.Write(b[:8])
	for _, m := range sorted {
		n := binary.PutUvarint(b[:], uint64(len(m)))
		_, _ = d.Write(b[:n])
		_, _ = d.WriteString(m)
	}
	return d.Sum64()
}

// Partition returns the partition of key: xxhash64(key) mod Partitions, as
// consistent's FindPartitionID computes it.
func (r *Ring) Partition(key string) int {
	if r == nil {
		return 0
	}
	return int(xxhash.Sum64String(key) % r.parts)
}

// Owners returns up to n distinct members for key: the owner first, then the
// fallbacks in ring order, the same on every party. n larger than the member
// count returns every member. The slice is the caller's. Nil for an empty
// ring or n <= 0.
func (r *Ring) Owners(key string, n int) []string {
	if r == nil || n <= 0 || len(r.members) == 0 {
		return nil
	}
	return r.AppendOwners(make([]string, 0, min(n, len(r.members))), key, n)
}

// AppendOwners appends the result of Owners(key, n) to dst and returns it; it
// does not allocate when dst has room and n <= 8.
func (r *Ring) AppendOwners(dst []string, key string, n int) []string {
	if r == nil || n <= 0 || len(r.members) == 0 {
		return dst
	}
	p := xxhash.Sum64String(key) % r.parts
	return r.appendPartitionOwners(dst, int(p), n)
}

// PartitionOwners is Owners for partition p (0 <= p < Partitions).
func (r *Ring) PartitionOwners(p, n int) []string {
	if r == nil || n <= 0 || len(r.members) == 0 || p < 0 || uint64(p) >= r.parts {
		return nil
	}
	return r.appendPartitionOwners(make([]string, 0, min(n, len(r.members))), p, n)
}

func (r *Ring) appendPartitionOwners(dst []string, p, n int) []string {
	n = min(n, len(r.members))
	if n <= r.depth {
		for _, m := range r.table[p*r.depth : p*r.depth+n] {
			dst = append(dst, r.members[m])
		}
		return dst
	}
	idx := make([]int32, n)
	r.walk(p, r.owner[p], idx)
	for _, m := range idx {
		dst = append(dst, r.members[m])
	}
	return dst
}

// Owner returns the owner of key, "" on an empty ring.
func (r *Ring) Owner(key string) string {
	if r == nil || len(r.members) == 0 {
		return ""
	}
	return r.members[r.owner[xxhash.Sum64String(key)%r.parts]]
}

// OwnerIndex returns the index in Members() of the owner of key, -1 on an
// empty ring. Batch callers count per member in a slice instead of a map.
func (r *Ring) OwnerIndex(key string) int {
	if r == nil || len(r.members) == 0 {
		return -1
	}
	return int(r.owner[xxhash.Sum64String(key)%r.parts])
}

// AppendOwnerIndexes is AppendOwners with indexes into Members() instead of
// IDs.
func (r *Ring) AppendOwnerIndexes(dst []int, key string, n int) []int {
	if r == nil || n <= 0 || len(r.members) == 0 {
		return dst
	}
	p := int(xxhash.Sum64String(key) % r.parts)
	n = min(n, len(r.members))
	if n <= r.depth {
		for _, m := range r.table[p*r.depth : p*r.depth+n] {
			dst = append(dst, int(m))
		}
		return dst
	}
	idx := make([]int32, n)
	r.walk(p, r.owner[p], idx)
	for _, m := range idx {
		dst = append(dst, int(m))
	}
	return dst
}

// Version identifies the ring: a hash of Config.Hash and the sorted member
// set. Equal on every party with the same members and Config. 0 for nil.
func (r *Ring) Version() uint64 {
	if r == nil {
		return 0
	}
	return r.ver
}

// VersionString is Version as 16 lower-case hex digits.
func (r *Ring) VersionString() string {
	return fmt.Sprintf("%016x", r.Version())
}

// Members returns the member IDs, sorted. The slice is the caller's.
func (r *Ring) Members() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.members)
}

// Len returns the member count.
func (r *Ring) Len() int {
	if r == nil {
		return 0
	}
	return len(r.members)
}

// Contains reports whether id is a member.
func (r *Ring) Contains(id string) bool {
	if r == nil {
		return false
	}
	_, ok := r.index[id]
	return ok
}

// Share returns the fraction of partitions member owns (0 if not a member).
func (r *Ring) Share(member string) float64 {
	if r == nil {
		return 0
	}
	i, ok := r.index[member]
	if !ok {
		return 0
	}
	return float64(r.counts[i]) / float64(r.parts)
}

// Config returns the Config the ring was built with, defaults filled in.
func (r *Ring) Config() Config {
	if r == nil {
		return Config{}.WithDefaults()
	}
	return r.cfg
}
