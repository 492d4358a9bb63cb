package storage

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	flatbuffers "github.com/google/flatbuffers/go"
)

// This file is the Store type, its lifecycle (Open, Close) and Stats.

// pendingFile is a page file removed from the index and not yet unlinked.
// It is unlinked only once the journal record that superseded it (seq) is
// durable: unlinking earlier and crashing would lose pages the journal
// still vouches for, of a version that is still current after replay.
type pendingFile struct {
	name string
	size int64
	seq  uint64 // 0 until the superseding record is queued
}

// Store is the page store. All methods are safe for concurrent use.
type Store struct {
	cfg    Config
	fs     FS
	log    *slog.Logger
	always bool

	groups     []string // quota prefixes; group 0 = no quota
	groupQuota []int64
	ngroups    int

	mu      sync.RWMutex
	files   map[FileID]int32
	ftab    []*fileEntry
	ffree   []int32
	recs    []pageRec
	free    []int32
	pol     *policy
	dirUsed []int64
	// dirLimit is each dir's effective capacity: at most its configured
	// capacity, less when the filesystem holds less (capacity.go).
	dirLimit  []int64
	dirPages  []int64
	groupUsed []int64
	gen       uint64
	evictions uint64
	closed    bool
	failed    error
	pending   []pendingFile
	pendBytes int64
	// retired remembers the last version of files forgotten by this
	// process, so a file added again gets a version never used before for
	// its id: fetches and page writes of the old incarnation still in
	// flight carry page keys that then name no live version (their pages
	// are refused as stale) instead of colliding with the new content.
	// Not journaled: after a restart nothing of the old incarnation is in
	// flight. Entries older than retiredHold are pruned.
	retired map[FileID]retiredFile
	// retiredPruneAt is the size of retired that triggers the next prune:
	// doubled after a prune that keeps many, so pruning stays amortized O(1).
	retiredPruneAt int
	// writeFormat1 makes writePage write format-1 page files, as an older
	// version did; only tests set it, to check that those are still read.
	writeFormat1 bool
	appends      int
	compaction   uint64

	j          *journal
	open       *openCache // page files kept open for OpenPage
	lock       *os.File   // flock on JournalDir/LOCK
	bufs       bufPool
	builders   sync.Pool
	compacting atomic.Bool
	deleteKick chan struct{}
	stop       chan struct{}
	wg         sync.WaitGroup

	replaySeconds float64
	replayRecords int64
	replayDropped int64
	replayRemoved int64
}

// Open opens (or creates) a store: it replays the snapshot and journal,
// reconciles the index with the page files on disk, evicts down to the
// configured capacities and returns ready to serve.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	s := newStore(cfg.withDefaults())
	cfg = s.cfg

	if err := s.fs.MkdirAll(cfg.JournalDir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: creating journal dir: %w", err)
	}
	if err := s.lockDir(); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.lock.Close()
		}
	}()
	for _, d := range cfg.Dirs {
		if err := s.makeSubdirs(d.Path); err != nil {
			return nil, err
		}
	}
	next, live, err := s.replay()
	if err != nil {
		return nil, err
	}
	s.j, err = openJournal(s.fs, cfg.JournalDir, next, cfg.Sync, cfg.SegmentBytes, live)
	if err != nil {
		return nil, err
	}
	if err := s.reconcile(); err != nil {
		s.j.close()
		return nil, err
	}
	s.mu.Lock()
	s.fitToDiskLocked()
	s.mu.Unlock()
	if err := s.shrinkToCapacity(); err != nil {
		s.j.close()
		return nil, err
	}
	s.replaySeconds = time.Since(start).Seconds()
	s.log.Info("storage ready", "seconds", s.replaySeconds, "records", s.replayRecords,
		"pages", s.livePages(), "dropped", s.replayDropped, "removed_files", s.replayRemoved)
	s.startBackground()
	// Many short runs (restarts) each add a segment: check at start-up too.
	s.mu.Lock()
	s.maybeCompactLocked()
	s.mu.Unlock()
	ok = true
	return s, nil
}

// lockDir takes an exclusive flock on JournalDir/LOCK so that two stores
// (two processes, or two Opens in one) never share a journal. The kernel
// drops the lock when the process dies, so kill -9 needs no cleanup.
func (s *Store) lockDir() error {
	f, err := os.OpenFile(filepath.Join(s.cfg.JournalDir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("storage: opening lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return fmt.Errorf("%w: journal dir %s is in use by another store: %w", ErrBadConfig, s.cfg.JournalDir, err)
	}
	s.lock = f
	return nil
}

// newStore builds an empty store (no I/O) for a validated, defaulted config.
func newStore(cfg Config) *Store {
	s := &Store{
		cfg: cfg, fs: cfg.FS, log: cfg.Logger, always: cfg.Sync == SyncAlways,
		files: make(map[FileID]int32), retired: make(map[FileID]retiredFile), deleteKick: make(chan struct{}, 1), stop: make(chan struct{}),
		open: newOpenCache(cfg.OpenPages),
	}
	s.groups = append(s.groups, "")
	s.groupQuota = append(s.groupQuota, 0)
	prefixes := make([]string, 0, len(cfg.ScopeQuotas))
	for p := range cfg.ScopeQuotas {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		s.groups = append(s.groups, p)
		s.groupQuota = append(s.groupQuota, cfg.ScopeQuotas[p])
	}
	s.ngroups = len(s.groups)
	ghosts := make([]int, len(cfg.Dirs)*s.ngroups)
	for d, dc := range cfg.Dirs {
		for g := range s.groups {
			c := dc.Capacity
			if q := s.groupQuota[g]; q > 0 && q < c {
				c = q
			}
			ghosts[d*s.ngroups+g] = int(max(c/cfg.PageSize, 16))
		}
	}
	s.pol = newPolicy(len(ghosts), ghosts, func(id int32) int64 { return int64(s.recs[id].length()) })
	s.dirUsed = make([]int64, len(cfg.Dirs))
	s.dirLimit = make([]int64, len(cfg.Dirs))
	for d, dc := range cfg.Dirs {
		s.dirLimit[d] = dc.Capacity
	}
	s.dirPages = make([]int64, len(cfg.Dirs))
	s.groupUsed = make([]int64, s.ngroups)
	s.builders.New = func() any { return flatbuffers.NewBuilder(256) }

	return s
}

func (s *Store) makeSubdirs(dir string) error {
	if err := s.fs.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("storage: creating data dir: %w", err)
	}
	for i := 0; i < 256; i++ {
		if err := s.fs.MkdirAll(filepath.Join(dir, fmt.Sprintf("%02x", i)), 0o755); err != nil {
			return fmt.Errorf("storage: creating data dir: %w", err)
		}
	}
	return s.fs.SyncDir(dir)
}

// Close stops the background work, syncs the journal and closes it.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	s.deletePending()
	s.open.closeAll()
	err := s.j.close()
	s.lock.Close()
	return err
}

// PageSize returns the page size.
func (s *Store) PageSize() int64 { return s.cfg.PageSize }

func (s *Store) now() time.Time { return s.cfg.Now() }

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	st := Stats{
		Files: len(s.files), Evictions: s.evictions, PendingDeleteBytes: s.pendBytes,
		ReplaySeconds: s.replaySeconds, ReplayRecords: s.replayRecords,
		ReplayDroppedPages: s.replayDropped, ReplayRemovedFiles: s.replayRemoved,
		Compactions: s.compaction,
	}
	for d, dc := range s.cfg.Dirs {
		st.Dirs = append(st.Dirs, DirStats{Path: dc.Path, UsedBytes: s.dirUsed[d], CapacityBytes: dc.Capacity,
			EffectiveCapacityBytes: s.dirLimit[d], Pages: s.dirPages[d]})
		st.UsedBytes += s.dirUsed[d]
		st.CapacityBytes += dc.Capacity
		st.EffectiveCapacityBytes += s.dirLimit[d]
		st.Pages += s.dirPages[d]
	}
	for g := 1; g < s.ngroups; g++ {
		st.Scopes = append(st.Scopes, ScopeStats{Prefix: s.groups[g], UsedBytes: s.groupUsed[g], QuotaBytes: s.groupQuota[g]})
	}
	s.mu.RUnlock()
	st.JournalBytes = s.j.liveBytes()
	return st
}
