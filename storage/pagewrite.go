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
