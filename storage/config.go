package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Sentinel errors. Callers match them with errors.Is; they are wrapped with
// detail.
var (
	ErrNotCached    = errors.New("storage: page not cached")
	ErrCorrupt      = errors.New("storage: page corrupt")
	ErrStaleVersion = errors.New("storage: stale version")
	ErrUnknownFile  = errors.New("storage: unknown file")
	ErrOutOfRange   = errors.New("storage: out of range")
	ErrBadLength    = errors.New("storage: bad page length")
	ErrNoSpace      = errors.New("storage: no space")
	ErrClosed       = errors.New("storage: store closed")
	ErrBadRecord    = errors.New("storage: bad journal record")
	ErrBadConfig    = errors.New("storage: bad config")
)

// SyncPolicy says when the journal and page files are fsynced.
type SyncPolicy time.Duration

const (
	// SyncAlways fsyncs every page file, its directory and the journal
	// before PutPage (and every other mutation) returns; concurrent
	// writers share journal fsyncs (group commit).
	SyncAlways SyncPolicy = -1
	// DefaultSyncInterval is the default policy: journal records are written
	// to the OS before a mutation returns (they survive a process crash) and
	// fsynced every 10ms; page files are not fsynced (a page torn by a power
	// loss fails its CRC and is dropped at read).
	DefaultSyncInterval = SyncPolicy(10 * time.Millisecond)
)

// DirConfig is one data directory for page files.
type DirConfig struct {
	Path string // created if missing
	// Capacity is the most bytes of page data (headers not counted) kept
	// in the dir; must be > 0. The store keeps less when the filesystem
	// holds less (Stats.EffectiveCapacityBytes).
	Capacity int64
}

// Config configures a Store. A zero field means its default.
type Config struct {
	// Dirs are the page directories. Required. A new page goes to the
	// directory with the most free bytes.
	Dirs []DirConfig
	// JournalDir holds journal segments and snapshots. Required.
	JournalDir string
	// PageSize is the size of a page; the last page of a file may be
	// shorter. Default 1 MiB; between MinPageSize and MaxPageSize. It must
	// not change between restarts (pages of another size fail PutPage's
	// length check and replay drops them as wrong-sized).
	PageSize int64
	// Sync is SyncAlways or a group-commit interval. Default
	// DefaultSyncInterval (10ms).
	Sync SyncPolicy
	// ScopeQuotas maps a prefix to the most page bytes the files under it
	// may use (over all dirs). A file belongs to the longest prefix of its
	// path or of its scope (FileMeta.Scope, the reader's cache context);
	// eviction for a quota happens inside that scope.
	ScopeQuotas map[string]int64
	// LazyDeleteInterval is how often the background deleter removes the
	// page files of superseded versions and invalidated files. Default 1s.
	LazyDeleteInterval time.Duration
	// OpenPages is how many page files OpenPage keeps open (with their
	// verified headers) for the byte stream. Default DefaultOpenPages;
	// negative disables the cache.
	OpenPages int
	// NoMmap turns off mapping the cached open page files into memory
	// (PageHandle.Mapped stays nil and the transport reads page bytes with
	// pread or sendfile). Mapping is on by default: it lets a small read
	// leave in one writev straight from the page cache.
	NoMmap bool
	// CompactEvery is the floor of the compaction trigger: the journal is
	// compacted into a snapshot when its live segments exceed
	// max(CompactEvery, 2 x the estimated snapshot size), which keeps replay
	// bounded by the live index. Default 16 MiB.
	CompactEvery int64
	// SegmentBytes is the size at which a journal segment is closed and a
	// new one started. Default 64 MiB.
	SegmentBytes int64
	// CapacityCheckInterval is how often the store re-reads the free space
	// of its data dirs (statfs) to raise an effective capacity that a full
	// disk lowered, once space is back (see Stats.EffectiveCapacityBytes).
	// Default 30s, cheap enough to run often and short enough that space
	// freed on a shared disk is used within a minute; negative disables it.
	CapacityCheckInterval time.Duration
	// FS is the filesystem; nil means OSFS.
	FS FS
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock for last-access times; nil means time.Now.
	Now func() time.Time
}

// Defaults.
const (
	DefaultPageSize           = 1 << 20
	DefaultLazyDeleteInterval = time.Second
	DefaultCompactEvery       = 16 << 20
	DefaultSegmentBytes       = 64 << 20
	DefaultCapacityCheck      = 30 * time.Second
)

func (c Config) withDefaults() Config {
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Sync == 0 {
		c.Sync = DefaultSyncInterval
	}
	if c.OpenPages == 0 {
		c.OpenPages = DefaultOpenPages
	}
	if c.LazyDeleteInterval == 0 {
		c.LazyDeleteInterval = DefaultLazyDeleteInterval
	}
	if c.CompactEvery == 0 {
		c.CompactEvery = DefaultCompactEvery
	}
	if c.SegmentBytes == 0 {
		c.SegmentBytes = DefaultSegmentBytes
	}
	if c.CapacityCheckInterval == 0 {
		c.CapacityCheckInterval = DefaultCapacityCheck
	}
	if c.FS == nil {
		c.FS = OSFS{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate checks a config (after defaults are applied to zero fields).
func (c Config) Validate() error {
	c = c.withDefaults()
	if len(c.Dirs) == 0 {
		return fmt.Errorf("%w: no data dirs", ErrBadConfig)
	}
	if len(c.Dirs) > 200 {
		return fmt.Errorf("%w: at most 200 data dirs", ErrBadConfig)
	}
	seen := map[string]bool{}
	for _, d := range c.Dirs {
		if d.Path == "" || d.Capacity <= 0 {
			return fmt.Errorf("%w: dir %q needs a path and a positive capacity", ErrBadConfig, d.Path)
		}
		if seen[d.Path] {
			return fmt.Errorf("%w: dir %q listed twice", ErrBadConfig, d.Path)
		}
		seen[d.Path] = true
	}
	if c.JournalDir == "" {
		return fmt.Errorf("%w: no journal dir", ErrBadConfig)
	}
	if c.PageSize < MinPageSize || c.PageSize > MaxPageSize {
		return fmt.Errorf("%w: page size %d not in [%d, %d]", ErrBadConfig, c.PageSize, MinPageSize, MaxPageSize)
	}
	if c.Sync < 0 && c.Sync != SyncAlways {
		return fmt.Errorf("%w: sync policy %d", ErrBadConfig, c.Sync)
	}
	if len(c.ScopeQuotas) > 1000 {
		return fmt.Errorf("%w: at most 1000 scope quotas", ErrBadConfig)
	}
	if len(c.Dirs)*(len(c.ScopeQuotas)+1) > 1<<16 {
		return fmt.Errorf("%w: dirs x (quotas+1) must stay below 65536", ErrBadConfig)
	}
	for p, q := range c.ScopeQuotas {
		if p == "" || q <= 0 {
			return fmt.Errorf("%w: scope quota %q=%d", ErrBadConfig, p, q)
		}
	}
	if c.LazyDeleteInterval < 0 || c.CompactEvery < 0 || c.SegmentBytes < 4096 {
		return fmt.Errorf("%w: negative interval or size", ErrBadConfig)
	}
	return nil
}

// Fingerprint identifies the content of a version of a file.
type Fingerprint struct {
	ETag    string
	Size    int64
	ModTime time.Time
}

// Equal compares fingerprints (ModTime with time.Time.Equal).
func (f Fingerprint) Equal(o Fingerprint) bool {
	return f.ETag == o.ETag && f.Size == o.Size && f.ModTime.Equal(o.ModTime)
}

// FileMeta is what the store knows of a file.
type FileMeta struct {
	Path       string
	ID         FileID
	Size       int64
	Content    Fingerprint
	MetaFP     string // metadata-only fingerprint: a change does NOT drop pages
	Version    uint64 // starts at 1, +1 per content change
	Scope      string // default: the path's directory
	Pinned     bool
	LastAccess time.Time
}

// Stats is a snapshot of the store's counters.
type Stats struct {
	UsedBytes     int64 // page data bytes indexed (all dirs)
	CapacityBytes int64 // configured capacity (sum of DirConfig.Capacity)
	// EffectiveCapacityBytes is the capacity eviction works to (all dirs):
	// CapacityBytes, or less where a dir's filesystem holds less (found
	// from its free space at Open and from ENOSPC on page writes, raised
	// again by the background check when space comes back).
	EffectiveCapacityBytes int64
	Pages                  int64
	Files                  int
	Evictions              uint64
	PendingDeleteBytes     int64 // superseded/invalidated pages not yet unlinked
	ReplaySeconds          float64
	ReplayRecords          int64
	ReplayDroppedPages     int64 // journal entries whose page file was missing or wrong
	ReplayRemovedFiles     int64 // page files the journal did not vouch for
	JournalBytes           int64 // live journal segments
	Compactions            uint64
	Dirs                   []DirStats
	Scopes                 []ScopeStats
}

// DirStats is the usage of one data directory.
type DirStats struct {
	Path          string
	UsedBytes     int64
	CapacityBytes int64 // DirConfig.Capacity
	// EffectiveCapacityBytes is CapacityBytes or, when the dir's filesystem
	// holds less, what it holds less a margin (see Stats).
	EffectiveCapacityBytes int64
	Pages                  int64
}

// ScopeStats is the usage of one quota scope.
type ScopeStats struct {
	Prefix     string
	UsedBytes  int64
	QuotaBytes int64
}
