package bench

import (
	"fmt"
	"strings"
)

// Defaults for WriteConfig; a zero field means its default.
const (
	DefaultWriteObjects    = 8
	DefaultWriteObjectSize = 64 << 20 // the size the goal is stated at
)

// WriteConfig is the write-through workload: Objects rounds, one object of
// ObjectSize bytes each, written one at a time (the throughput and latency
// of one stream, as one writer of a table file sees them).
type WriteConfig struct {
	// Objects is the number of rounds (objects written through the target
	// under test, and as many straight to the under-store). Default 8.
	Objects int
	// ObjectSize is every object's size. Default 64 MiB.
	ObjectSize int64
	// Prefix is where the objects live ("bucket/dir/"): round i writes
	// PutPath(i) through the target and DirectPath(i) to the under-store.
	// Default "lake/bench/".
	Prefix string
	// Seed makes the objects' contents reproducible.
	Seed uint64
}

// WithDefaults returns c with zero fields set to their defaults.
func (c WriteConfig) WithDefaults() WriteConfig {
	if c.Objects == 0 {
		c.Objects = DefaultWriteObjects
	}
	if c.ObjectSize == 0 {
		c.ObjectSize = DefaultWriteObjectSize
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	return c
}

// Validate reports the first field that cannot work (after defaults).
func (c WriteConfig) Validate() error {
	c = c.WithDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Objects < 1 || c.Objects > 100_000:
		return bad("objects %d: want 1..100000", c.Objects)
	case c.ObjectSize < 1:
		return bad("object size %d: want at least 1 byte", c.ObjectSize)
	case c.ObjectSize > 1<<30:
		// Each read-back holds the whole object in memory to verify it.
		return bad("object size %d: at most 1 GiB", c.ObjectSize)
	case !strings.HasSuffix(c.Prefix, "/") || strings.Count(c.Prefix, "/") < 2 || strings.HasPrefix(c.Prefix, "/"):
		return bad("prefix %q: want bucket/dir/ (ending in /)", c.Prefix)
	}
	return nil
}

// PutPath is the object round i writes through the target under test.
func (c WriteConfig) PutPath(i int) string { return fmt.Sprintf("%sput-%05d", c.Prefix, i) }

// DirectPath is the object round i writes straight to the under-store. It
// is not PutPath: a direct write behind the cluster's back to a path it
// caches would be read stale for the sync interval, by design.
func (c WriteConfig) DirectPath(i int) string { return fmt.Sprintf("%sdirect-%05d", c.Prefix, i) }

// putKey and directKey name the contents of round i's two objects
// (unrelated streams, so a read of one can never pass for the other).
func (c WriteConfig) putKey(i int) uint64 { return ContentKey(c.Seed, 2*i, 1) }

func (c WriteConfig) directKey(i int) uint64 { return ContentKey(c.Seed, 2*i+1, 1) }
