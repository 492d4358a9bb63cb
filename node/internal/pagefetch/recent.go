package pagefetch

import (
	"encoding/binary"
	"sync/atomic"

	"github.com/ringcache/ringcache/storage"
)

// recentSlots is how many fetches of split reads the fetcher remembers at
// most (a power of two). The memory is needed only for the short time
// between one piece of a read storing a page and another piece of the same
// read looking it up (a few milliseconds); 1,024 slots outlive that window
// under any load a node sees, at 8 KiB of pointers.
const recentSlots = 1 << 10

// fetchRecord is one remembered fetch: the page and the ReadID of the read
// whose flight fetched it.
type fetchRecord struct {
	key    storage.PageKey
	readID uint64
}

// recent remembers which read fetched which page, for the last fetches of
// reads with a non-zero ReadID. It is a direct-mapped table of atomic
// pointers: bounded (a new fetch overwrites the slot its page hashes to),
// lock-free on both sides, one atomic load per look-up. An overwritten or
// never-remembered fetch reads as "not fetched by this read", which is what
// the node assumed before it had this memory. Nothing expires by time: an
// entry matches only its own page and its own read's ID, which the SDK draws
// at random per read, so an old entry is only ever stale for a read that is
// over.
type recent struct {
	slots [recentSlots]atomic.Pointer[fetchRecord]
}

func (r *recent) slot(k storage.PageKey) *atomic.Pointer[fetchRecord] {
	// FileID is a hash of the path already; mix in version and page so
	// that the pages of one file spread over the slots.
	h := binary.LittleEndian.Uint64(k.File[:8]) ^ binary.LittleEndian.Uint64(k.File[8:])
	h ^= k.Version*0x9e3779b97f4a7c15 ^ uint64(k.Index)*0xbf58476d1ce4e5b9
	h ^= h >> 31
	h *= 0x94d049bb133111eb
	h ^= h >> 29
	return &r.slots[h&(recentSlots-1)]
}

// remember records that the read with readID (not 0) fetched page k.
func (r *recent) remember(k storage.PageKey, readID uint64) {
	r.slot(k).Store(&fetchRecord{key: k, readID: readID})
}

// fetchedBy reports whether page k was fetched by the read with readID, as
// far as the table still remembers.
func (r *recent) fetchedBy(k storage.PageKey, readID uint64) bool {
	if readID == 0 {
		return false
	}
	e := r.slot(k).Load()
	return e != nil && e.readID == readID && e.key == k
}
