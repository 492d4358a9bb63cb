package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/ringcache/ringcache/storage/fb"
)

// noDir marks a replayed page whose file has not been found yet.
const noDir = 0xff

// fileEntry is the in-memory state of one file.
type fileEntry struct {
	meta       FileMeta // LastAccess is kept in lastAccess
	lastAccess atomic.Int64
	pages      []int32 // page index -> slot+1; 0 = not cached
	group      uint16  // quota group
	npages     int32   // cached pages
}

// pageRec is the index state of one cached page (slot). Together with the
// policy's qnode (20 bytes) and the 4-byte entry in fileEntry.pages it is
// all the memory a cached page costs.
type pageRec struct {
	gen   uint64
	file  int32 // index into Store.ftab; -1 = free slot
	index uint32
	sum   uint32 // CRC32C of the chunk-CRC array
	dir   uint8
}

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

	mu        sync.RWMutex
	files     map[FileID]int32
	ftab      []*fileEntry
	ffree     []int32
	recs      []pageRec
	free      []int32
	pol       *policy
	dirUsed   []int64
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
	if err := s.shrinkToCapacity(); err != nil {
		s.j.close()
		return nil, err
	}
	s.replaySeconds = time.Since(start).Seconds()
	s.log.Info("storage ready", "seconds", s.replaySeconds, "records", s.replayRecords,
		"pages", s.livePages(), "dropped", s.replayDropped, "removed_files", s.replayRemoved)
	s.wg.Add(1)
	go s.deleter()
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
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
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
	s.pol = newPolicy(len(ghosts), ghosts)
	s.dirUsed = make([]int64, len(cfg.Dirs))
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

// ---- index helpers (callers hold mu) ----

// groupOf returns the quota group of a file: the longest ScopeQuotas prefix
// of its path or of its scope (the reader's cache context, seed 001; by
// default the file's directory). The group is fixed when the file enters the
// index; a later scope change applies from the next restart.
func (s *Store) groupOf(p, scope string) uint16 {
	best, bestLen := 0, -1
	scoped := scope + "/"
	for g := 1; g < len(s.groups); g++ {
		q := s.groups[g]
		if (strings.HasPrefix(p, q) || (scope != "" && (strings.HasPrefix(scoped, q) || strings.HasPrefix(scope, q)))) && len(q) > bestLen {
			best, bestLen = g, len(s.groups[g])
		}
	}
	return uint16(best)
}

func (s *Store) part(dir int, group uint16) int { return dir*s.ngroups + int(group) }

func (s *Store) numPages(size int64) int64 { return (size + s.cfg.PageSize - 1) / s.cfg.PageSize }

// pageLen is the length of page index of a file of size bytes.
func (s *Store) pageLen(size int64, index uint32) int64 {
	return min(s.cfg.PageSize, size-int64(index)*s.cfg.PageSize)
}

func (s *Store) slotOf(fe *fileEntry, index uint32) int32 {
	if int(index) < len(fe.pages) {
		return fe.pages[index] - 1
	}
	return -1
}

func (s *Store) keyOf(id int32) PageKey {
	r := &s.recs[id]
	fe := s.ftab[r.file]
	return PageKey{File: fe.meta.ID, Version: fe.meta.Version, Index: r.index}
}

func (s *Store) nameOf(id int32) string {
	r := &s.recs[id]
	return pageFileName(s.cfg.Dirs[r.dir].Path, s.keyOf(id), r.gen)
}

func (s *Store) newFile(meta FileMeta) (int32, *fileEntry) {
	fe := &fileEntry{meta: meta, group: s.groupOf(meta.Path, meta.Scope)}
	var fi int32
	if n := len(s.ffree); n > 0 {
		fi = s.ffree[n-1]
		s.ffree = s.ffree[:n-1]
		s.ftab[fi] = fe
	} else {
		fi = int32(len(s.ftab))
		s.ftab = append(s.ftab, fe)
	}
	s.files[meta.ID] = fi
	return fi, fe
}

// addSlot records a page in the index. dir == noDir during replay: the
// policy and usage learn of the page once reconcile finds its file.
func (s *Store) addSlot(fi int32, fe *fileEntry, index, length, sum uint32, gen uint64, dir uint8, replayed bool) int32 {
	var id int32
	if n := len(s.free); n > 0 {
		id = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		id = int32(len(s.recs))
		s.recs = append(s.recs, pageRec{})
	}
	s.recs[id] = pageRec{gen: gen, file: fi, index: index, sum: sum, dir: dir}
	for int(index) >= len(fe.pages) {
		fe.pages = append(fe.pages, 0)
	}
	fe.pages[index] = id + 1
	fe.npages++
	s.pol.grow(id)
	s.pol.nodes[id] = qnode{prev: -1, next: -1, size: length}
	if dir != noDir {
		s.account(id, fe, replayed)
	}
	return id
}

// account adds a located page to the policy and the usage counters.
func (s *Store) account(id int32, fe *fileEntry, replayed bool) {
	r := &s.recs[id]
	size := s.pol.nodes[id].size
	p := s.part(int(r.dir), fe.group)
	if replayed {
		s.pol.insertMain(id, p, size, !fe.meta.Pinned)
	} else {
		s.pol.insert(id, p, size, s.keyOf(id).hash(), !fe.meta.Pinned)
	}
	s.dirUsed[r.dir] += int64(size)
	s.dirPages[r.dir]++
	s.groupUsed[fe.group] += int64(size)
}

// removeSlot forgets a page and returns its file name ("" if it was never
// located on disk) and size.
func (s *Store) removeSlot(id int32) (string, int64) {
	r := &s.recs[id]
	fe := s.ftab[r.file]
	size := int64(s.pol.nodes[id].size)
	name := ""
	if r.dir != noDir {
		name = s.nameOf(id)
		s.pol.remove(id)
		s.dirUsed[r.dir] -= size
		s.dirPages[r.dir]--
		s.groupUsed[fe.group] -= size
	}
	fe.pages[r.index] = 0
	fe.npages--
	*r = pageRec{file: -1}
	s.free = append(s.free, id)
	return name, size
}

// dropAllPages removes every page of a file; their files go to the lazy
// deleter (lazy=true) or are left to reconcile (replay).
func (s *Store) dropAllPages(fe *fileEntry, lazy bool) {
	for _, v := range fe.pages {
		if v == 0 {
			continue
		}
		name, size := s.removeSlot(v - 1)
		if lazy && name != "" {
			s.pending = append(s.pending, pendingFile{name: name, size: size})
			s.pendBytes += size
		}
	}
	fe.pages = nil
	fe.npages = 0
}

// retiredHold is how long a forgotten file's last version is remembered:
// far longer than any fetch or page write of it can stay in flight.
const retiredHold = 10 * time.Minute

type retiredFile struct {
	version uint64
	at      time.Time
}

// retireLocked remembers id's last version (see Store.retired), pruning old
// entries once there are many.
func (s *Store) retireLocked(id FileID, version uint64) {
	now := s.now()
	if len(s.retired) >= max(s.retiredPruneAt, 4096) {
		for k, r := range s.retired {
			if now.Sub(r.at) > retiredHold {
				delete(s.retired, k)
			}
		}
		s.retiredPruneAt = 2 * len(s.retired)
	}
	s.retired[id] = retiredFile{version: version, at: now}
}

func (s *Store) removeFile(fi int32, lazy bool) {
	fe := s.ftab[fi]
	s.dropAllPages(fe, lazy)
	delete(s.files, fe.meta.ID)
	s.ftab[fi] = nil
	s.ffree = append(s.ffree, fi)
}

func (s *Store) livePages() int64 {
	var n int64
	for _, p := range s.dirPages {
		n += p
	}
	return n
}

// ---- journal helpers ----

func (s *Store) frame(dst []byte, r *record) []byte {
	b := s.builders.Get().(*flatbuffers.Builder)
	dst = appendFrame(dst, b, r)
	s.builders.Put(b)
	return dst
}

func fileRecord(fe *fileEntry) record {
	m := &fe.meta
	return record{
		kind: fb.KindFile, file: m.ID, version: m.Version, path: m.Path, etag: m.Content.ETag,
		size: m.Size, mtimeNs: timeToNs(m.Content.ModTime), metaFP: m.MetaFP, scope: m.Scope,
		pinned: m.Pinned, lastAccess: fe.lastAccess.Load(),
	}
}

func dropRecord(k PageKey, gen uint64) record {
	return record{kind: fb.KindPageDrop, file: k.File, version: k.Version, index: k.Index, gen: gen}
}

// appendLocked queues frames in the journal; the caller holds mu so that the
// journal's order is the index's order (compaction relies on it).
func (s *Store) appendLocked(frames []byte) (uint64, error) {
	if s.failed != nil {
		return 0, s.failed
	}
	seq, err := s.j.append(frames)
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			s.failed = err
		}
		return 0, err
	}
	s.appends++
	if s.appends%64 == 0 {
		s.maybeCompactLocked()
	}
	return seq, nil
}

func (s *Store) usableLocked() error {
	if s.closed {
		return ErrClosed
	}
	return s.failed
}

// ---- files ----

func checkPath(p string) error {
	if p == "" || len(p) > 1024 || !utf8.ValidString(p) || strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("%w: bad path %q", ErrUnknownFile, p)
	}
	return nil
}

func (s *Store) metaOf(fe *fileEntry) FileMeta {
	m := fe.meta
	m.LastAccess = nsToTime(fe.lastAccess.Load())
	return m
}

// Lookup returns the metadata of a file.
func (s *Store) Lookup(p string) (FileMeta, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fi, ok := s.files[FileIDOf(p)]
	if !ok {
		return FileMeta{}, false
	}
	return s.metaOf(s.ftab[fi]), true
}

// Upsert records the under-store's view of a file. A content fingerprint
// different from the current one starts a new version (old pages are refused
// at once and deleted lazily). A MetaFP-only change keeps the version. An
// empty scope means the path's directory. It returns once the change is
// journaled per the sync policy.
func (s *Store) Upsert(p string, content Fingerprint, metaFP, scope string) (FileMeta, error) {
	if err := checkPath(p); err != nil {
		return FileMeta{}, err
	}
	if content.Size < 0 {
		return FileMeta{}, fmt.Errorf("%w: negative size", ErrOutOfRange)
	}
	if scope == "" {
		scope = path.Dir(p)
	}
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		return FileMeta{}, err
	}
	id := FileIDOf(p)
	fi, ok := s.files[id]
	var fe *fileEntry
	changed := true
	if !ok {
		version := uint64(1)
		if r, ok := s.retired[id]; ok {
			version = r.version + 1
			delete(s.retired, id)
		}
		_, fe = s.newFile(FileMeta{Path: p, ID: id, Size: content.Size, Content: content, MetaFP: metaFP, Version: version, Scope: scope})
		fe.lastAccess.Store(timeToNs(s.now()))
	} else {
		fe = s.ftab[fi]
		switch {
		case !fe.meta.Content.Equal(content):
			s.dropAllPages(fe, true)
			fe.meta.Version++
			fe.meta.Content, fe.meta.Size = content, content.Size
			fe.meta.MetaFP, fe.meta.Scope = metaFP, scope
			s.kickDeleter()
		case fe.meta.MetaFP != metaFP || fe.meta.Scope != scope:
			fe.meta.MetaFP, fe.meta.Scope = metaFP, scope
		default:
			changed = false
		}
	}
	meta := s.metaOf(fe)
	if !changed {
		s.mu.Unlock()
		return meta, nil
	}
	r := fileRecord(fe)
	seq, err := s.appendLocked(s.frame(nil, &r))
	s.setPendingSeqLocked(seq)
	s.mu.Unlock()
	if err != nil {
		return FileMeta{}, err
	}
	return meta, s.j.wait(seq)
}

// Invalidate forgets a file; its pages are deleted lazily. Unknown files
// are not an error.
func (s *Store) Invalidate(p string) error {
	_, err := s.invalidate(func(fe *fileEntry) bool { return fe.meta.Path == p }, FileIDOf(p), true)
	return err
}

// InvalidatePrefix forgets every file whose path starts with prefix and
// returns how many there were.
func (s *Store) InvalidatePrefix(prefix string) (int, error) {
	return s.invalidate(func(fe *fileEntry) bool { return strings.HasPrefix(fe.meta.Path, prefix) }, FileID{}, false)
}

func (s *Store) invalidate(match func(*fileEntry) bool, id FileID, single bool) (int, error) {
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	var victims []int32
	if single {
		if fi, ok := s.files[id]; ok {
			victims = append(victims, fi)
		}
	} else {
		for _, fi := range s.files {
			if match(s.ftab[fi]) {
				victims = append(victims, fi)
			}
		}
	}
	if len(victims) == 0 {
		s.mu.Unlock()
		return 0, nil
	}
	var frames []byte
	for _, fi := range victims {
		r := record{kind: fb.KindForget, file: s.ftab[fi].meta.ID}
		frames = s.frame(frames, &r)
		s.retireLocked(s.ftab[fi].meta.ID, s.ftab[fi].meta.Version)
		s.removeFile(fi, true)
	}
	seq, err := s.appendLocked(frames)
	s.setPendingSeqLocked(seq)
	s.kickDeleter()
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return len(victims), s.j.wait(seq)
}

// SetPinned pins or unpins a file: the pages of a pinned file are never
// evicted. Journaled.
func (s *Store) SetPinned(p string, pinned bool) error {
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	fi, ok := s.files[FileIDOf(p)]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownFile, p)
	}
	fe := s.ftab[fi]
	if fe.meta.Pinned == pinned {
		s.mu.Unlock()
		return nil
	}
	fe.meta.Pinned = pinned
	for _, v := range fe.pages {
		if v != 0 && s.recs[v-1].dir != noDir {
			s.pol.setEvictable(v-1, !pinned)
		}
	}
	r := fileRecord(fe)
	seq, err := s.appendLocked(s.frame(nil, &r))
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.j.wait(seq)
}

// Files lists the files whose path starts with prefix, sorted by path.
func (s *Store) Files(prefix string) []FileMeta {
	s.mu.RLock()
	var out []FileMeta
	for _, fi := range s.files {
		if fe := s.ftab[fi]; strings.HasPrefix(fe.meta.Path, prefix) {
			out = append(out, s.metaOf(fe))
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(a, b int) bool { return out[a].Path < out[b].Path })
	return out
}

// ---- pages ----

// checkKeyLocked resolves a key to its file, checking the version and index.
func (s *Store) checkKeyLocked(key PageKey) (int32, *fileEntry, error) {
	fi, ok := s.files[key.File]
	if !ok {
		return 0, nil, fmt.Errorf("%w: %w: %s", ErrNotCached, ErrUnknownFile, key.File)
	}
	fe := s.ftab[fi]
	if key.Version != fe.meta.Version {
		return 0, nil, fmt.Errorf("%w: %s is at version %d", ErrStaleVersion, key, fe.meta.Version)
	}
	if int64(key.Index) >= s.numPages(fe.meta.Size) {
		return 0, nil, fmt.Errorf("%w: page %d of a %d-byte file", ErrOutOfRange, key.Index, fe.meta.Size)
	}
	return fi, fe, nil
}

// PutPage stores one page. It checks that the file is known, the version
// current, the index in range and the length right; makes room by eviction
// (ErrNoSpace if it cannot); writes the page to a temporary file, publishes
// it by rename and journals it; and returns once both are durable per the
// sync policy. Putting a page that is already cached is a no-op.
func (s *Store) PutPage(key PageKey, data []byte) error {
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	_, fe, err := s.checkKeyLocked(key)
	if err != nil {
		s.mu.Unlock()
		if errors.Is(err, ErrUnknownFile) {
			return fmt.Errorf("%w: %s", ErrUnknownFile, key.File)
		}
		return err
	}
	if want := s.pageLen(fe.meta.Size, key.Index); int64(len(data)) != want {
		s.mu.Unlock()
		return fmt.Errorf("%w: page %d is %d bytes, got %d", ErrBadLength, key.Index, want, len(data))
	}
	if s.slotOf(fe, key.Index) >= 0 {
		s.mu.Unlock()
		return nil
	}
	group := fe.group
	d := s.pickDirLocked()
	size := int64(len(data))
	victims, frames, err := s.makeRoomLocked(d, group, size)
	var seq uint64
	if len(frames) > 0 {
		// Evictions are journaled without waiting: if they are lost, replay
		// finds the files gone and drops the entries.
		if _, aerr := s.appendLocked(frames); aerr != nil && err == nil {
			err = aerr
		}
	}
	if err != nil {
		s.mu.Unlock()
		s.unlink(victims)
		return err
	}
	// Reserve the bytes so concurrent puts cannot overfill the dir.
	s.dirUsed[d] += size
	s.groupUsed[group] += size
	s.gen++
	gen := s.gen
	s.mu.Unlock()
	s.unlink(victims)

	sum, werr := s.writePage(s.cfg.Dirs[d].Path, key, gen, data)
	name := pageFileName(s.cfg.Dirs[d].Path, key, gen)

	s.mu.Lock()
	s.dirUsed[d] -= size
	s.groupUsed[group] -= size
	if werr != nil {
		s.mu.Unlock()
		return werr
	}
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		s.fs.Remove(name)
		return err
	}
	fi, fe, err := s.checkKeyLocked(key)
	if err != nil {
		// Superseded or forgotten while we wrote.
		s.mu.Unlock()
		s.fs.Remove(name)
		return err
	}
	if s.slotOf(fe, key.Index) >= 0 {
		s.mu.Unlock()
		s.fs.Remove(name)
		return nil
	}
	r := record{kind: fb.KindPagePut, file: key.File, version: key.Version, index: key.Index,
		length: uint32(size), crc: sum, gen: gen}
	seq, err = s.appendLocked(s.frame(nil, &r))
	if err != nil {
		s.mu.Unlock()
		s.fs.Remove(name)
		return err
	}
	s.addSlot(fi, fe, key.Index, uint32(size), sum, gen, uint8(d), false)
	s.mu.Unlock()
	return s.j.wait(seq)
}

// pickDirLocked chooses the dir with the most free bytes.
func (s *Store) pickDirLocked() int {
	best, bestFree := 0, int64(-1<<63)
	for d, dc := range s.cfg.Dirs {
		if free := dc.Capacity - s.dirUsed[d]; free > bestFree {
			best, bestFree = d, free
		}
	}
	return best
}

// makeRoomLocked evicts until a page of size bytes fits in the quota of
// group and in dir d. It returns the evicted files (to unlink after mu is
// released) and their drop records.
func (s *Store) makeRoomLocked(d int, group uint16, size int64) ([]string, []byte, error) {
	var victims []string
	var frames []byte
	evict := func(p int) {
		id, _ := s.pol.evict(p, func(id int32) uint64 { return s.keyOf(id).hash() })
		k, gen := s.keyOf(id), s.recs[id].gen
		name, _ := s.removeSlot(id)
		victims = append(victims, name)
		r := dropRecord(k, gen)
		frames = s.frame(frames, &r)
		s.evictions++
	}
	if q := s.groupQuota[group]; q > 0 {
		for s.groupUsed[group]+size > q {
			best, most := -1, int64(0)
			for dd := range s.cfg.Dirs {
				if e := s.pol.evictable(s.part(dd, group)); e > most {
					best, most = s.part(dd, group), e
				}
			}
			if best < 0 {
				return victims, frames, fmt.Errorf("%w: scope %q is full of pinned or in-flight pages", ErrNoSpace, s.groups[group])
			}
			evict(best)
		}
	}
	for s.dirUsed[d]+size > s.cfg.Dirs[d].Capacity {
		best, most := -1, int64(0)
		for g := 0; g < s.ngroups; g++ {
			if e := s.pol.evictable(s.part(d, uint16(g))); e > most {
				best, most = s.part(d, uint16(g)), e
			}
		}
		if best < 0 {
			return victims, frames, fmt.Errorf("%w: dir %s is full of pinned or in-flight pages", ErrNoSpace, s.cfg.Dirs[d].Path)
		}
		evict(best)
	}
	return victims, frames, nil
}

func (s *Store) unlink(names []string) {
	for _, n := range names {
		if n != "" {
			s.open.remove(n)
			if err := s.fs.Remove(n); err != nil && !errors.Is(err, fs.ErrNotExist) {
				s.log.Warn("storage: removing page file", "file", n, "err", err)
			}
		}
	}
}

func noSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	return err
}

// writePage writes a page file under a temporary name and publishes it by
// rename; with SyncAlways the file and its directory are fsynced first.
func (s *Store) writePage(dir string, key PageKey, gen uint64, data []byte) (uint32, error) {
	final := pageFileName(dir, key, gen)
	tmp := final + tmpExt
	bp := s.bufs.get()
	defer s.bufs.put(bp)
	hdr := (*bp)[:DataOffset]
	clear(hdr)
	var crcArr [maxChunks]uint32
	version, chunk := uint16(pageFormatVersion), ChunkSize
	if s.writeFormat1 {
		version, chunk = 1, legacyChunkSize
	}
	crcs, sum := chunkCRCsOf(data, chunk, crcArr[:0])
	encodePageHeader(hdr, &pageHeader{key: key, length: uint32(len(data)), gen: gen, crcs: crcs, sum: sum}, version, uint32(chunk))
	f, err := s.fs.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, noSpace(fmt.Errorf("storage: creating page file: %w", err))
	}
	fail := func(err error) (uint32, error) {
		f.Close()
		s.fs.Remove(tmp)
		return 0, noSpace(err)
	}
	if _, err := f.Write(hdr); err != nil {
		return fail(fmt.Errorf("storage: writing page file: %w", err))
	}
	if _, err := f.Write(data); err != nil {
		return fail(fmt.Errorf("storage: writing page file: %w", err))
	}
	if s.always {
		if err := f.Sync(); err != nil {
			return fail(fmt.Errorf("storage: syncing page file: %w", err))
		}
	}
	if err := f.Close(); err != nil {
		s.fs.Remove(tmp)
		return 0, noSpace(fmt.Errorf("storage: closing page file: %w", err))
	}
	if err := s.fs.Rename(tmp, final); err != nil {
		s.fs.Remove(tmp)
		return 0, noSpace(fmt.Errorf("storage: publishing page file: %w", err))
	}
	if s.always {
		if err := s.fs.SyncDir(filepath.Dir(final)); err != nil {
			s.fs.Remove(final)
			return 0, noSpace(fmt.Errorf("storage: syncing page dir: %w", err))
		}
	}
	return sum, nil
}

// located is what a reader needs to open a page after releasing mu.
type located struct {
	dir    uint8
	length uint32
	sum    uint32
	gen    uint64
}

// locate finds a cached page and records the access.
func (s *Store) locate(key PageKey) (located, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return located{}, ErrClosed
	}
	_, fe, err := s.checkKeyLocked(key)
	if err != nil {
		return located{}, err
	}
	id := s.slotOf(fe, key.Index)
	if id < 0 {
		return located{}, fmt.Errorf("%w: %s", ErrNotCached, key)
	}
	r := &s.recs[id]
	s.pol.touch(id)
	fe.lastAccess.Store(timeToNs(s.now()))
	return located{dir: r.dir, length: s.pol.nodes[id].size, sum: r.sum, gen: r.gen}, nil
}

// fileName is the path of the located page file.
func (s *Store) fileName(key PageKey, loc located) string {
	return pageFileName(s.cfg.Dirs[loc.dir].Path, key, loc.gen)
}

// dropBroken removes a page found missing or corrupt, if the index still
// holds the same generation, journals the drop and unlinks the file.
func (s *Store) dropBroken(key PageKey, gen uint64, why error) {
	s.mu.Lock()
	fi, ok := s.files[key.File]
	if !ok || s.closed {
		s.mu.Unlock()
		return
	}
	fe := s.ftab[fi]
	id := s.slotOf(fe, key.Index)
	if fe.meta.Version != key.Version || id < 0 || s.recs[id].gen != gen {
		s.mu.Unlock()
		return
	}
	name, _ := s.removeSlot(id)
	r := dropRecord(key, gen)
	s.appendLocked(s.frame(nil, &r))
	s.mu.Unlock()
	s.log.Warn("storage: dropped page", "key", key.String(), "err", why)
	s.unlink([]string{name})
}

// openChecked opens a located page file and validates its header.
func (s *Store) openChecked(key PageKey, loc located, h *pageHeader, hdr []byte) (*os.File, error) {
	f, err := s.fs.Open(s.fileName(key, loc))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Evicted since locate (then the index no longer has this
			// generation and dropBroken does nothing) or deleted behind
			// our back.
			s.dropBroken(key, loc.gen, err)
			return nil, fmt.Errorf("%w: %s: page file gone", ErrNotCached, key)
		}
		return nil, fmt.Errorf("storage: opening page: %w", err)
	}
	if err := readHeader(f, hdr, key, loc.gen, loc.length, loc.sum, h); err != nil {
		f.Close()
		s.dropBroken(key, loc.gen, err)
		return nil, fmt.Errorf("%w (%s)", err, key)
	}
	return f, nil
}

// ReadPage reads p at offset off inside the page, verifying the CRC32C of
// every chunk it touches. It returns io.EOF with a short count when p
// extends past the page's end. Errors: ErrNotCached if absent, ErrCorrupt
// (page dropped) on mismatch, ErrStaleVersion for a superseded version,
// ErrOutOfRange for a bad offset.
func (s *Store) ReadPage(key PageKey, off int64, p []byte) (int, error) {
	loc, err := s.locate(key)
	if err != nil {
		return 0, err
	}
	length := int64(loc.length)
	if off < 0 || off > length {
		return 0, fmt.Errorf("%w: offset %d in a %d-byte page", ErrOutOfRange, off, length)
	}
	bp := s.bufs.get()
	defer s.bufs.put(bp)
	var crcArr [maxChunks]uint32
	h := pageHeader{crcs: crcArr[:0]}
	f, err := s.openChecked(key, loc, &h, *bp)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := min(int64(len(p)), length-off)
	if err := s.readChunks(f, h.crcs, int64(h.chunk), length, off, p[:n], *bp); err != nil {
		s.dropBroken(key, loc.gen, err)
		return 0, fmt.Errorf("%w (%s)", err, key)
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// readChunks fills p with page bytes [off, off+len(p)), reading whole
// chunks so each can be verified: full chunks straight into p with one
// pread, partial ones through scratch.
func (s *Store) readChunks(f *os.File, crcs []uint32, chunk, length, off int64, p []byte, scratch []byte) error {
	end := off + int64(len(p))
	pos := off
	for pos < end {
		c := pos / chunk
		cStart := c * chunk
		cEnd := min(cStart+chunk, length)
		if pos == cStart && end >= cEnd {
			// Run of whole chunks inside p.
			runEnd := cEnd
			for runEnd < end && min(runEnd+chunk, length) <= end {
				runEnd = min(runEnd+chunk, length)
			}
			// Read in groups of readGroup chunks and verify each group
			// right away, while it is still in the CPU cache.
			for pos < runEnd {
				gEnd := min(pos+readGroupBytes, runEnd)
				dst := p[pos-off : gEnd-off]
				if err := preadFull(f, dst, DataOffset+pos); err != nil {
					return err
				}
				for o := int64(0); o < int64(len(dst)); o += chunk {
					ch := dst[o:min(o+chunk, int64(len(dst)))]
					if crc32c(ch) != crcs[(pos+o)/chunk] {
						return fmt.Errorf("%w: chunk %d CRC mismatch", ErrCorrupt, (pos+o)/chunk)
					}
				}
				pos = gEnd
			}
			continue
		}
		buf := scratch[:cEnd-cStart]
		if err := preadFull(f, buf, DataOffset+cStart); err != nil {
			return err
		}
		if crc32c(buf) != crcs[c] {
			return fmt.Errorf("%w: chunk %d CRC mismatch", ErrCorrupt, c)
		}
		stop := min(end, cEnd)
		copy(p[pos-off:stop-off], buf[pos-cStart:stop-cStart])
		pos = stop
	}
	return nil
}

// readGroupBytes is how much ReadPage reads per pread before verifying the
// chunks in it (measured with 64 KiB chunks as 4 chunks: small enough to
// stay in L2, large enough to amortize the syscall).
const readGroupBytes = 256 << 10

func preadFull(f *os.File, p []byte, off int64) error {
	n, err := f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: page file truncated", ErrCorrupt)
	}
	return fmt.Errorf("storage: reading page: %w", err)
}

// PageHandle is an open page for zero-copy transfer: the page's data lives
// in File at [DataOffset, DataOffset+Length); ChunkCRCs[i] is the CRC32C of
// bytes [i*ChunkSize, min((i+1)*ChunkSize, Length)) of the page. The reader
// of the bytes verifies them. Close releases the file.
//
// Mapped, when not nil, is the same Length bytes mapped into memory
// (read-only, valid until Close). It is meant for the kernel only (write or
// writev from it): a page file truncated behind the store's back turns a
// user-space read of the lost part into SIGBUS, which kills the process,
// while the kernel fails such a write with EFAULT.
type PageHandle struct {
	File       *os.File
	DataOffset int64
	Length     int64
	ChunkSize  int
	ChunkCRCs  []uint32 // shared with other handles of the page: read-only
	Mapped     []byte

	cache *openCache
	entry *openEntry
}

// Close releases the handle; the file itself may stay open in the store's
// cache of open pages. Close it exactly once.
func (h *PageHandle) Close() error {
	h.cache.release(h.entry)
	return nil
}

// OpenPage opens a page for the byte stream (sendfile). The header is
// verified; the data is verified by the remote reader, which reports a
// mismatch with DropPage. Counts as an access for eviction.
func (s *Store) OpenPage(key PageKey) (*PageHandle, error) {
	loc, err := s.locate(key)
	if err != nil {
		return nil, err
	}
	name := openKey{key, loc.gen}
	var e *openEntry
	for e == nil {
		var wait <-chan struct{}
		if e, wait = s.open.claim(name); e != nil {
			break
		}
		if wait != nil {
			<-wait // another caller is opening this file: use its entry
			continue
		}
		func() {
			defer s.open.opened(name) // even if the open panics: waiters must not hang
			e, err = s.openEntry(key, loc, name)
		}()
		if err != nil {
			return nil, err
		}
	}
	hd := &PageHandle{File: e.f, DataOffset: DataOffset, Length: int64(loc.length), ChunkSize: e.chunk,
		ChunkCRCs: e.crcs, cache: s.open, entry: e}
	if e.mapped != nil {
		hd.Mapped = e.mapped[DataOffset : DataOffset+int64(loc.length)]
	}
	return hd, nil
}

// openEntry opens, checks and maps a page file for the open cache and
// returns its entry with a reference taken.
func (s *Store) openEntry(key PageKey, loc located, name openKey) (*openEntry, error) {
	bp := s.bufs.get()
	h := pageHeader{crcs: make([]uint32, 0, chunksOf(int64(loc.length), ChunkSize))}
	f, err := s.openChecked(key, loc, &h, *bp)
	s.bufs.put(bp)
	if err != nil {
		return nil, err
	}
	// A page file cut short behind the store's back would break the
	// stream mid-response (sendfile runs dry, a writev from the mapping
	// faults): caught here, once per open, it is a clean error and the
	// page is dropped and fetched again.
	if fi, err := f.Stat(); err != nil || fi.Size() < DataOffset+int64(loc.length) {
		f.Close()
		err = fmt.Errorf("%w: page file truncated", ErrCorrupt)
		s.dropBroken(key, loc.gen, err)
		return nil, fmt.Errorf("%w (%s)", err, key)
	}
	var mapped []byte
	if !s.cfg.NoMmap && s.cfg.OpenPages > 0 {
		// Only cached entries are mapped: a mapping per uncached open
		// would cost more than the copy it saves.
		mapped = mapPageFile(f, DataOffset+int64(loc.length))
	}
	return s.open.add(name, f, mapped, h.crcs, h.chunk), nil
}

// HasPage reports whether a page of the current version is cached.
func (s *Store) HasPage(key PageKey) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fi, ok := s.files[key.File]
	if !ok || s.closed {
		return false
	}
	fe := s.ftab[fi]
	return fe.meta.Version == key.Version && s.slotOf(fe, key.Index) >= 0
}

// DropPage removes a page (e.g. a remote reader found it corrupt). Dropping
// a page that is not cached is not an error.
func (s *Store) DropPage(key PageKey) error {
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	fi, ok := s.files[key.File]
	if !ok {
		s.mu.Unlock()
		return nil
	}
	fe := s.ftab[fi]
	id := s.slotOf(fe, key.Index)
	if fe.meta.Version != key.Version || id < 0 {
		s.mu.Unlock()
		return nil
	}
	gen := s.recs[id].gen
	name, _ := s.removeSlot(id)
	r := dropRecord(key, gen)
	seq, err := s.appendLocked(s.frame(nil, &r))
	s.mu.Unlock()
	s.unlink([]string{name})
	if err != nil {
		return err
	}
	return s.j.wait(seq)
}

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
		st.Dirs = append(st.Dirs, DirStats{Path: dc.Path, UsedBytes: s.dirUsed[d], CapacityBytes: dc.Capacity, Pages: s.dirPages[d]})
		st.UsedBytes += s.dirUsed[d]
		st.CapacityBytes += dc.Capacity
		st.Pages += s.dirPages[d]
	}
	for g := 1; g < s.ngroups; g++ {
		st.Scopes = append(st.Scopes, ScopeStats{Prefix: s.groups[g], UsedBytes: s.groupUsed[g], QuotaBytes: s.groupQuota[g]})
	}
	s.mu.RUnlock()
	st.JournalBytes = s.j.liveBytes()
	return st
}

// ---- background work ----

func (s *Store) kickDeleter() {
	select {
	case s.deleteKick <- struct{}{}:
	default:
	}
}

// deleter unlinks the page files of superseded versions and forgotten files
// in the background, at most every LazyDeleteInterval, so Upsert and
// Invalidate never wait for unlinks.
func (s *Store) deleter() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.LazyDeleteInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.deleteKick:
		}
		s.deletePending()
	}
}

// setPendingSeqLocked tags the files queued for deletion in this critical
// section with the journal record that supersedes them (seq 0 when the
// append failed: they then stay on disk for the next Open to judge).
func (s *Store) setPendingSeqLocked(seq uint64) {
	for i := len(s.pending) - 1; i >= 0 && s.pending[i].seq == 0; i-- {
		s.pending[i].seq = seq
	}
}

func (s *Store) deletePending() {
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	s.mu.Unlock()
	var last uint64
	var freed int64
	for _, p := range batch {
		last = max(last, p.seq)
		freed += p.size
	}
	durable := last == 0 || s.j.wait(last) == nil
	for _, p := range batch {
		if !durable || p.seq == 0 {
			// The superseding record is not durable: leave the file for
			// the next Open, which deletes what the journal disowns.
			continue
		}
		s.open.remove(p.name)
		if err := s.fs.Remove(p.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("storage: lazy delete", "file", p.name, "err", err)
		}
	}
	s.mu.Lock()
	s.pendBytes -= freed
	s.mu.Unlock()
}
