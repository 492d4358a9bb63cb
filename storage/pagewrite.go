package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/ringcache/ringcache/storage/fb"
)

// This file writes pages: PutPage, eviction to make room, the page file.

// PutPage stores one page. It checks that the file is known, the version
// current, the index in range and the length right; makes room by eviction
// (ErrNoSpace if it cannot); writes the page to a temporary file, publishes
// it by rename and journals it; and returns once both are durable per the
// sync policy. Putting a page that is already cached is a no-op.
//
// A write that fails for want of disk space (ENOSPC) lowers the dir's
// effective capacity to what the disk holds (capacity.go) and is tried once
// more, after evicting down to it: a disk smaller than the configured
// capacity keeps taking new pages instead of freezing the cache.
func (s *Store) PutPage(key PageKey, data []byte) error {
	err := s.putPage(key, data)
	if isDiskFull(err) {
		// Superseded pages waiting for the lazy deleter hold disk space
		// too: free it before trying again.
		s.deletePending()
		err = s.putPage(key, data)
	}
	return err
}

// putPage runs the three steps of a put, each its own critical section or
// none: reserve (under mu), write (no lock: the slow part), commit (under mu).
func (s *Store) putPage(key PageKey, data []byte) error {
	res, cached, err := s.reservePage(key, int64(len(data)))
	if err != nil || cached {
		return err
	}
	sum, err := s.writePage(s.cfg.Dirs[res.dir].Path, key, res.gen, data)
	seq, added, err := s.commitPage(key, res, sum, err)
	if err != nil || !added {
		return err
	}
	return s.j.wait(seq)
}

// reservation is the room PutPage holds for a page while it writes it.
type reservation struct {
	dir   int
	group uint16
	size  int64
	gen   uint64 // the page file's generation
}

// reservePage checks a page put, evicts to make room for size bytes and
// reserves them (so concurrent puts cannot overfill a dir or quota).
// cached is true when the page is already in the index: nothing to do.
func (s *Store) reservePage(key PageKey, size int64) (res reservation, cached bool, err error) {
	var victims []string
	defer func() { s.unlink(victims) }() // runs after mu is released
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return res, false, err
	}
	_, fe, err := s.checkKeyLocked(key)
	if errors.Is(err, ErrUnknownFile) {
		return res, false, fmt.Errorf("%w: %s", ErrUnknownFile, key.File)
	}
	if err != nil {
		return res, false, err
	}
	if want := s.pageLen(fe.meta.Size, key.Index); size != want {
		return res, false, fmt.Errorf("%w: page %d is %d bytes, got %d", ErrBadLength, key.Index, want, size)
	}
	if s.slotOf(fe, key.Index) >= 0 {
		return res, true, nil
	}
	res = reservation{dir: s.pickDirLocked(), group: fe.group, size: size}
	var frames []byte
	victims, frames, err = s.makeRoomLocked(res.dir, res.group, size)
	if len(frames) > 0 {
		// Evictions are journaled without waiting: if they are lost, replay
		// finds the files gone and drops the entries.
		if _, aerr := s.appendLocked(frames); aerr != nil && err == nil {
			err = aerr
		}
	}
	if err != nil {
		return res, false, err
	}
	s.dirUsed[res.dir] += size
	s.groupUsed[res.group] += size
	s.gen++
	res.gen = s.gen
	return res, false, nil
}

// commitPage releases a reservation and, if the page file was written
// (werr == nil) and the page is still wanted, journals the page and adds it
// to the index. added is false when the file was discarded: another put of
// the same page won the race (not an error), or the file was superseded or
// forgotten while the page was written, or the store closed (errors).
func (s *Store) commitPage(key PageKey, res reservation, sum uint32, werr error) (seq uint64, added bool, err error) {
	if werr != nil {
		// writePage removed what it wrote.
		s.mu.Lock()
		s.releaseLocked(res)
		if isDiskFull(werr) {
			s.diskFullLocked(res.dir)
		}
		s.mu.Unlock()
		return 0, false, werr
	}
	name := pageFileName(s.cfg.Dirs[res.dir].Path, key, res.gen)
	defer func() { // runs after mu is released
		if !added {
			s.fs.Remove(name)
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(res)
	if err := s.usableLocked(); err != nil {
		return 0, false, err
	}
	fi, fe, err := s.checkKeyLocked(key)
	if err != nil || s.slotOf(fe, key.Index) >= 0 {
		return 0, false, err
	}
	r := record{kind: fb.KindPagePut, file: key.File, version: key.Version, index: key.Index,
		length: uint32(res.size), crc: sum, gen: res.gen}
	if seq, err = s.appendLocked(s.frame(nil, &r)); err != nil {
		return 0, false, err
	}
	s.addSlot(fi, fe, key.Index, uint32(res.size), sum, res.gen, uint8(res.dir), false)
	return seq, true, nil
}

// releaseLocked returns a reservation's bytes; the page, if added, counts
// them again.
func (s *Store) releaseLocked(res reservation) {
	s.dirUsed[res.dir] -= res.size
	s.groupUsed[res.group] -= res.size
}

// pickDirLocked chooses the dir with the most free bytes (below its
// effective capacity).
func (s *Store) pickDirLocked() int {
	best, bestFree := 0, int64(-1<<63)
	for d := range s.cfg.Dirs {
		if free := s.dirLimit[d] - s.dirUsed[d]; free > bestFree {
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
	for s.dirUsed[d]+size > s.dirLimit[d] {
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
