package storage

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// This file is the in-memory index: files, page slots and the usage
// counters. Callers hold Store.mu.

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
// policy's qnode (16 bytes) and the 4-byte entry in fileEntry.pages it is
// all the memory a cached page costs: 24 + 16 + 4 bytes.
type pageRec struct {
	gen   uint64
	file  int32 // index into Store.ftab; -1 = free slot
	index uint32
	sum   uint32 // CRC32C of the chunk-CRC array
	// lenDir packs the page's length in bytes (low 24 bits) and its data
	// dir (high 8 bits; noDir until replay finds the file), which keeps the
	// record at 24 bytes.
	lenDir uint32
}

// A page's length must fit lenDir's 24 bits (a compile error otherwise).
const _ = uint32(1<<24 - 1 - MaxPageSize)

func packLenDir(length uint32, dir uint8) uint32 { return length | uint32(dir)<<24 }

// length is the page's length in bytes.
func (r *pageRec) length() uint32 { return r.lenDir & (1<<24 - 1) }

// dir is the index of the page's data dir, or noDir.
func (r *pageRec) dir() uint8 { return uint8(r.lenDir >> 24) }

func (r *pageRec) setDir(dir uint8) { r.lenDir = packLenDir(r.length(), dir) }

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
	return pageFileName(s.cfg.Dirs[r.dir()].Path, s.keyOf(id), r.gen)
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
	s.recs[id] = pageRec{gen: gen, file: fi, index: index, sum: sum, lenDir: packLenDir(length, dir)}
	for int(index) >= len(fe.pages) {
		fe.pages = append(fe.pages, 0)
	}
	fe.pages[index] = id + 1
	fe.npages++
	s.pol.grow(id)
	s.pol.nodes[id] = qnode{prev: -1, next: -1}
	if dir != noDir {
		s.account(id, fe, replayed)
	}
	return id
}

// account adds a located page to the policy and the usage counters.
func (s *Store) account(id int32, fe *fileEntry, replayed bool) {
	r := &s.recs[id]
	size := r.length()
	p := s.part(int(r.dir()), fe.group)
	if replayed {
		s.pol.insertMain(id, p, !fe.meta.Pinned)
	} else {
		s.pol.insert(id, p, s.keyOf(id).hash(), !fe.meta.Pinned)
	}
	s.dirUsed[r.dir()] += int64(size)
	s.dirPages[r.dir()]++
	s.groupUsed[fe.group] += int64(size)
}

// removeSlot forgets a page and returns its file name ("" if it was never
// located on disk) and size.
func (s *Store) removeSlot(id int32) (string, int64) {
	r := &s.recs[id]
	fe := s.ftab[r.file]
	size := int64(r.length())
	name := ""
	if r.dir() != noDir {
		name = s.nameOf(id)
		s.pol.remove(id)
		s.dirUsed[r.dir()] -= size
		s.dirPages[r.dir()]--
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
