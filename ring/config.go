package ring

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cespare/xxhash/v2"
)

// Defaults. They are part of every ring version (through Config.Hash), so
// changing one makes old and new binaries refuse each other at join: change
// them only with a release note.
const (
	// DefaultPartitions is the number of partitions keys are hashed onto. A
	// prime (keys are placed by hash mod Partitions). Chosen from the movement
	// table in the package doc: it must serve 1 to 512+ members with a fixed
	// value, because a partition count that changed with the member count
	// would remap every key when it changed.
	DefaultPartitions = 65521
	// DefaultLoad bounds every member to ceil(Load * Partitions / members)
	// partitions (consistent hashing with bounded loads).
	DefaultLoad = 1.25
	// DefaultPageSize is the storage page size; it is part of the version so
	// that nodes with different page sizes never agree on a ring.
	DefaultPageSize = 1 << 20
	// DefaultReplicationFactor is the number of virtual nodes per member.
	// Chosen from the movement table in the package doc.
	DefaultReplicationFactor = 100
)

// Limits checked by Validate. They keep the build time and the table size of
// a ring bounded; they are far above what a cluster needs.
const (
	MaxPartitions        = 1 << 20
	MaxReplicationFactor = 1024
	MaxLoad              = 64.0
)

// Sentinel errors. Every error returned by this package wraps one of them.
var (
	// ErrBadConfig: a Config field is out of range.
	ErrBadConfig = errors.New("ring: bad config")
	// ErrBadMember: an empty or duplicate member ID.
	ErrBadMember = errors.New("ring: bad member")
	// ErrTooManyMembers: more members than partitions. consistent would
	// leave members without any partition; the ring refuses instead.
	ErrTooManyMembers = errors.New("ring: more members than partitions")
	// ErrNoRoom: Partitions, Load and the member count leave no room to
	// place every partition under the load bound (where consistent panics
	// with "not enough room to distribute partitions").
	ErrNoRoom = errors.New("ring: not enough room to distribute partitions")
)

// Config holds the ring parameters. A zero field means its default. Every
// party (node or client) must use the same Config: it is hashed into the
// ring version.
type Config struct {
	// Partitions is the number of partitions keys are hashed onto
	// (partition = xxhash64(key) mod Partitions). Must be >= the member
	// count. Default DefaultPartitions.
	Partitions int
	// Load is the bounded-load factor: no member owns more than
	// ceil(Load * Partitions / members) partitions. Must be in [1, MaxLoad].
	// Default DefaultLoad (1.25).
	Load float64
	// PageSize is the storage page size in bytes. The ring does not use it
	// for placement; it is part of the version so that nodes with different
	// page sizes refuse each other. Default DefaultPageSize (1 MiB).
	PageSize int64
	// ReplicationFactor is the number of virtual nodes per member on the
	// hash circle. More virtual nodes balance better (fewer partitions spill
	// over the load bound, so less movement on join/leave) at a small build
	// cost. Default DefaultReplicationFactor.
	ReplicationFactor int
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.Load == 0 {
		c.Load = DefaultLoad
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = DefaultReplicationFactor
	}
	return c
}

// Validate checks c after defaults. It does not know the member count; New
// checks the member-dependent conditions (ErrTooManyMembers, ErrNoRoom).
func (c Config) Validate() error {
	c = c.WithDefaults()
	if c.Partitions < 1 || c.Partitions > MaxPartitions {
		return fmt.Errorf("%w: Partitions %d not in [1, %d]", ErrBadConfig, c.Partitions, MaxPartitions)
	}
	// Load < 1 cannot hold every partition (members * Load * average <
	// Partitions), NaN compares false everywhere, so test the valid range.
	if !(c.Load >= 1 && c.Load <= MaxLoad) {
		return fmt.Errorf("%w: Load %v not in [1, %v]", ErrBadConfig, c.Load, MaxLoad)
	}
	if c.PageSize < 1 {
		return fmt.Errorf("%w: PageSize %d must be > 0", ErrBadConfig, c.PageSize)
	}
	if c.ReplicationFactor < 1 || c.ReplicationFactor > MaxReplicationFactor {
		return fmt.Errorf("%w: ReplicationFactor %d not in [1, %d]", ErrBadConfig, c.ReplicationFactor, MaxReplicationFactor)
	}
	return nil
}

// Hash returns a hash of the ring parameters after defaults: two parties
// with different hashes can never agree on a ring (membership compares it at
// join as Meta.RingVersionParams). Stable across processes and builds.
func (c Config) Hash() uint64 {
	c = c.WithDefaults()
	var b [8 * 5]byte
	// A format tag first, so a future change of what is hashed cannot
	// collide with today's values.
	binary.LittleEndian.PutUint64(b[0:], hashFormat)
	binary.LittleEndian.PutUint64(b[8:], uint64(c.Partitions))
	binary.LittleEndian.PutUint64(b[16:], math.Float64bits(c.Load))
	binary.LittleEndian.PutUint64(b[24:], uint64(c.PageSize))
	binary.LittleEndian.PutUint64(b[32:], uint64(c.ReplicationFactor))
	return xxhash.Sum64(b[:])
}

// hashFormat tags the version hash layout (ASCII "ringv001").
const hashFormat = 0x31303076676e6972

// maxPerMember is the load bound consistent v1.0.0 computes in averageLoad:
// ceil(float64(partitions)/float64(members) * load). The float expression is
// kept exactly as consistent writes it so the bound is bit-identical.
func maxPerMember(partitions, members int, load float64) float64 {
	return math.Ceil(float64(partitions) / float64(members) * load)
}

// fits reports whether every partition can be placed under the load bound:
// consistent walks the whole circle for each partition and panics when every
// member is at the bound, which happens exactly when members * bound <
// partitions (every member is on the circle). With Load >= 1 it always
// fits; the check stays because it is the condition consistent panics on,
// and tests pin it against consistent itself for Load < 1.
func fits(partitions, members int, load float64) bool {
	if members == 0 {
		return true
	}
	return float64(members)*maxPerMember(partitions, members, load) >= float64(partitions)
}
