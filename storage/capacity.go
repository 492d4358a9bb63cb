package storage

import (
	"errors"
	"syscall"
)

// This file is the effective capacity of each data dir. The configured
// capacity (DirConfig.Capacity) is a wish: the disk may be smaller, or
// shared with other data. Page writes that fail with ENOSPC would then fail
// forever and freeze the cache at what it holds, so the store treats the
// filesystem as the real limit:
//
//   - at Open, if the dir's filesystem cannot hold Capacity (used + free
//     space), the effective capacity starts at what it can hold, less a
//     margin, with a warning;
//   - a page write that fails with ENOSPC lowers the effective capacity to
//     what the dir uses, less the margin; PutPage then evicts down to it and
//     writes once more;
//   - a background check (Config.CapacityCheckInterval) raises it again,
//     never above Capacity, when the filesystem has room again (evictions,
//     other data deleted). It lowers it ahead of ENOSPC only when the free
//     space is already inside the margin: statfs is an estimate (headers,
//     block rounding, puts in flight), ENOSPC is the truth, and lowering on
//     an estimate would evict pages for nothing.
//
// Eviction (makeRoomLocked) and dir choice (pickDirLocked) use the effective
// capacity; Stats reports it as EffectiveCapacityBytes.

// spaceFS is implemented by an FS that can tell the free space of a
// directory's filesystem (OSFS on Linux and macOS).
type spaceFS interface {
	freeBytes(dir string) (int64, bool)
}

// spaceMarginPages is the least headroom kept below the filesystem's real
// capacity: room for a few page writes in flight and for the journal, which
// fails the whole store if it cannot append (it usually shares the disk).
const spaceMarginPages = 4

// spaceMargin is the headroom kept below a filesystem that can hold about
// total bytes of page data: spaceMarginPages pages or 1%, whichever is more.
func (s *Store) spaceMargin(total int64) int64 {
	return max(spaceMarginPages*s.cfg.PageSize, total/100)
}

// dataBytesOf converts free disk bytes to the page data they hold: each page
// file also carries a DataOffset-byte header.
func (s *Store) dataBytesOf(disk int64) int64 {
	return disk / (s.cfg.PageSize + DataOffset) * s.cfg.PageSize
}

// diskTargetLocked is what dir d could hold by the filesystem's free space:
// its used bytes plus the data the free space holds, less the margin. ok is
// false when the free space is unknown.
func (s *Store) diskTargetLocked(d int) (target, free int64, ok bool) {
	sfs, ok := s.fs.(spaceFS)
	if !ok {
		return 0, 0, false
	}
	free, ok = sfs.freeBytes(s.cfg.Dirs[d].Path)
	if !ok {
		return 0, 0, false
	}
	total := s.dirUsed[d] + s.dataBytesOf(free)
	return max(total-s.spaceMargin(total), s.cfg.PageSize), free, true
}

// fitToDiskLocked starts each dir's effective capacity at what its
// filesystem can hold, when that is less than the configured capacity.
func (s *Store) fitToDiskLocked() {
	for d, dc := range s.cfg.Dirs {
		target, free, ok := s.diskTargetLocked(d)
		if !ok || target >= dc.Capacity {
			continue
		}
		s.dirLimit[d] = target
		s.log.Warn("storage: capacity exceeds the free space of the data dir; using the space there is",
			"dir", dc.Path, "capacity_bytes", dc.Capacity, "used_bytes", s.dirUsed[d],
			"free_bytes", free, "effective_capacity_bytes", target)
	}
}

// isDiskFull reports whether a page write failed for want of disk space.
func isDiskFull(err error) bool { return errors.Is(err, syscall.ENOSPC) }

// diskFullLocked lowers dir d's effective capacity after a page write failed
// with ENOSPC: the filesystem holds no more than the dir uses now.
func (s *Store) diskFullLocked(d int) {
	used := s.dirUsed[d]
	limit := max(used-s.spaceMargin(used), s.cfg.PageSize)
	if limit >= s.dirLimit[d] {
		return
	}
	s.log.Warn("storage: data dir full; lowering its effective capacity",
		"dir", s.cfg.Dirs[d].Path, "capacity_bytes", s.cfg.Dirs[d].Capacity,
		"used_bytes", used, "effective_capacity_bytes", limit)
	s.dirLimit[d] = limit
}

// recheckCapacity is the background check described above.
func (s *Store) recheckCapacity() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d, dc := range s.cfg.Dirs {
		target, free, ok := s.diskTargetLocked(d)
		if !ok {
			continue
		}
		target = min(target, dc.Capacity)
		switch {
		case target > s.dirLimit[d]:
			s.log.Info("storage: data dir has room again; raising its effective capacity",
				"dir", dc.Path, "free_bytes", free, "effective_capacity_bytes", target)
		case target < s.dirLimit[d] && s.dataBytesOf(free) < s.spaceMargin(s.dirUsed[d]):
			s.log.Warn("storage: data dir nearly full; lowering its effective capacity",
				"dir", dc.Path, "free_bytes", free, "effective_capacity_bytes", target)
		default:
			continue
		}
		s.dirLimit[d] = target
	}
}
