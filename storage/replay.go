package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ringcache/ringcache/storage/fb"
)

// replay rebuilds the index from the newest snapshot and the segments after
// it. It returns the number of the segment to create for new appends and
// the sizes of the live segments.
func (s *Store) replay() (uint64, map[uint64]int64, error) {
	dir := s.cfg.JournalDir
	jf, err := listJournal(s.fs, dir)
	if err != nil {
		return 0, nil, fmt.Errorf("storage: listing journal: %w", err)
	}
	for _, t := range jf.tmps {
		s.fs.Remove(t)
	}
	live := map[uint64]int64{}
	var base uint64 // first segment not covered by the snapshot
	if n := len(jf.snaps); n > 0 {
		base = jf.snaps[n-1]
		if err := s.replaySnapshot(snapName(dir, base)); err != nil {
			return 0, nil, err
		}
		for _, old := range jf.snaps[:n-1] {
			s.fs.Remove(snapName(dir, old))
		}
	}
	var segs []uint64
	for _, seq := range jf.segs {
		if seq < base {
			// Covered by the snapshot; a crash left it behind.
			s.fs.Remove(segName(dir, seq))
			continue
		}
		segs = append(segs, seq)
	}
	if len(jf.snaps) > 0 && len(segs) > 0 && segs[0] != base {
		return 0, nil, &CorruptionError{File: segName(dir, base), Err: fmt.Errorf("%w: missing journal segment after snapshot", ErrBadRecord)}
	}
	for i, seq := range segs {
		if i > 0 && seq != segs[i-1]+1 {
			return 0, nil, &CorruptionError{File: segName(dir, segs[i-1]+1), Err: fmt.Errorf("%w: missing journal segment", ErrBadRecord)}
		}
		size, err := s.replaySegment(segName(dir, seq), i == len(segs)-1)
		if err != nil {
			return 0, nil, err
		}
		if size >= 0 {
			live[seq] = size
		}
	}
	next := base
	if n := len(segs); n > 0 {
		next = segs[n-1] + 1
		if _, kept := live[segs[n-1]]; !kept {
			next = segs[n-1] // removed as torn at creation: reuse its number
		}
	}
	if next == 0 {
		next = 1
	}
	return next, live, s.fs.SyncDir(dir)
}

func (s *Store) replaySnapshot(name string) error {
	buf, release, err := mapFile(s.fs, name)
	if err != nil {
		return fmt.Errorf("storage: reading snapshot: %w", err)
	}
	defer release()
	s.reserveSlots(len(buf) / 100)
	if len(buf) < fileMagicSize || string(buf[:fileMagicSize]) != snapshotMagic {
		return &CorruptionError{File: name, Err: fmt.Errorf("%w: bad snapshot magic", ErrBadRecord)}
	}
	var count uint64
	ended := false
	off, _, err := scanFrames(buf[fileMagicSize:], name, fileMagicSize, false, func(r *record) error {
		if ended {
			return fmt.Errorf("%w: record after snapshot end", ErrBadRecord)
		}
		if r.kind == fb.KindSnapEnd {
			if r.count != count {
				return fmt.Errorf("%w: snapshot holds %d records, end says %d", ErrBadRecord, count, r.count)
			}
			ended = true
			return nil
		}
		count++
		return s.apply(r)
	})
	if err == nil && !ended {
		err = fmt.Errorf("%w: snapshot has no end record", ErrBadRecord)
	}
	if err != nil {
		var ce *CorruptionError
		if !errors.As(err, &ce) {
			err = &CorruptionError{File: name, Offset: int64(fileMagicSize + off), Err: err}
		}
		return err
	}
	return nil
}

// replaySegment applies one segment. The last segment may have a torn tail,
// which is cut off (and the cut made durable). It returns the segment's
// size after the cut, or -1 if the segment was removed (a crash while it
// was being created).
func (s *Store) replaySegment(name string, last bool) (int64, error) {
	buf, release, err := mapFile(s.fs, name)
	if err != nil {
		return 0, fmt.Errorf("storage: reading journal segment: %w", err)
	}
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	s.reserveSlots(len(buf) / 100)
	if len(buf) < fileMagicSize || string(buf[:fileMagicSize]) != segmentMagic {
		if last && (len(buf) < fileMagicSize || isZero(buf[:fileMagicSize])) &&
			(bytes.HasPrefix([]byte(segmentMagic), buf) || isZero(buf)) {
			if err := s.fs.Remove(name); err != nil {
				return 0, fmt.Errorf("storage: removing torn segment: %w", err)
			}
			return -1, nil
		}
		return 0, &CorruptionError{File: name, Err: fmt.Errorf("%w: bad segment magic", ErrBadRecord)}
	}
	valid, torn, err := scanFrames(buf[fileMagicSize:], name, fileMagicSize, last, func(r *record) error {
		if r.kind == fb.KindSnapEnd {
			return fmt.Errorf("%w: snapshot end in a segment", ErrBadRecord)
		}
		return s.apply(r)
	})
	if err != nil {
		var ce *CorruptionError
		if !errors.As(err, &ce) {
			err = &CorruptionError{File: name, Offset: int64(fileMagicSize + valid), Err: err}
		}
		return 0, err
	}
	size := int64(fileMagicSize + valid)
	total := int64(len(buf))
	release()
	released = true
	if torn {
		s.log.Warn("storage: cutting torn journal tail", "segment", name, "offset", size, "bytes", total-size)
		if err := s.fs.Truncate(name, size); err != nil {
			return 0, fmt.Errorf("storage: truncating torn tail: %w", err)
		}
		f, err := s.fs.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return 0, fmt.Errorf("storage: syncing truncated segment: %w", err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("storage: syncing truncated segment: %w", err)
		}
	}
	return size, nil
}

// reserveSlots grows the page slab ahead of replay (PagePut frames are
// about 100 bytes), so a large journal does not pay for repeated slice
// growth.
func (s *Store) reserveSlots(n int) {
	if free := cap(s.recs) - len(s.recs); n > free {
		recs := make([]pageRec, len(s.recs), len(s.recs)+n)
		copy(recs, s.recs)
		s.recs = recs
	}
	if free := cap(s.pol.nodes) - len(s.pol.nodes); n > free {
		nodes := make([]qnode, len(s.pol.nodes), len(s.pol.nodes)+n)
		copy(nodes, s.pol.nodes)
		s.pol.nodes = nodes
	}
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// apply applies one journal record to the index during replay. Records are
// absolute (a File record carries the whole metadata), so applying a record
// whose effect a snapshot already holds is harmless.
func (s *Store) apply(r *record) error {
	s.replayRecords++
	switch r.kind {
	case fb.KindFile:
		meta := FileMeta{
			Path: r.path, ID: r.file, Size: r.size, MetaFP: r.metaFP, Version: r.version, Scope: r.scope, Pinned: r.pinned,
			Content: Fingerprint{ETag: r.etag, Size: r.size, ModTime: nsToTime(r.mtimeNs)},
		}
		fi, ok := s.files[r.file]
		if !ok {
			_, fe := s.newFile(meta)
			fe.lastAccess.Store(r.lastAccess)
			return nil
		}
		fe := s.ftab[fi]
		if fe.meta.Version != r.version || fe.meta.Size != r.size {
			s.dropAllPages(fe, false)
		}
		fe.meta = meta
		fe.lastAccess.Store(r.lastAccess)
	case fb.KindForget:
		if fi, ok := s.files[r.file]; ok {
			s.removeFile(fi, false)
		}
	case fb.KindPagePut:
		s.gen = max(s.gen, r.gen)
		fi, ok := s.files[r.file]
		if !ok {
			return nil
		}
		fe := s.ftab[fi]
		if fe.meta.Version != r.version || int64(r.index) >= s.numPages(fe.meta.Size) ||
			int64(r.length) != s.pageLen(fe.meta.Size, r.index) {
			return nil // a page of a superseded version, put while it was superseded
		}
		if old := s.slotOf(fe, r.index); old >= 0 {
			s.removeSlot(old)
		}
		s.addSlot(fi, fe, r.index, r.length, r.crc, r.gen, noDir, true)
	case fb.KindPageDrop:
		if fi, ok := s.files[r.file]; ok {
			fe := s.ftab[fi]
			if id := s.slotOf(fe, r.index); fe.meta.Version == r.version && id >= 0 && s.recs[id].gen == r.gen {
				s.removeSlot(id)
			}
		}
	}
	return nil
}

// reconcile walks the page directories: files the index vouches for (key,
// generation and size match) are located; every other page or temporary
// file is deleted; index entries whose file was not found are dropped (and
// the drops journaled).
func (s *Store) reconcile() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	listed, err := s.listPageDirs()
	if err != nil {
		return err
	}
	for _, l := range listed {
		for _, e := range l.ents {
			if err := s.reconcileFile(l.dir, l.path, e); err != nil {
				return err
			}
		}
	}
	var frames []byte
	for id := range s.recs {
		r := &s.recs[id]
		if r.file < 0 || r.dir() != noDir {
			continue
		}
		k := s.keyOf(int32(id))
		dr := dropRecord(k, r.gen)
		frames = s.frame(frames, &dr)
		s.removeSlot(int32(id))
		s.replayDropped++
	}
	if len(frames) > 0 {
		seq, err := s.appendLocked(frames)
		if err != nil {
			return err
		}
		s.mu.Unlock()
		err = s.j.wait(seq)
		s.mu.Lock()
		return err
	}
	return nil
}

// pageDirEntry is a file found in a page subdirectory.
type pageDirEntry struct {
	name string
	size int64 // -1 if it could not be stat'ed
}

type listedSubdir struct {
	dir  int
	path string
	ents []pageDirEntry
}

// listPageDirs lists every page subdirectory and stats the page files in
// them, with one worker per CPU: at a million pages the lstat calls are
// most of Open's time.
func (s *Store) listPageDirs() ([]listedSubdir, error) {
	var out []listedSubdir
	for d, dc := range s.cfg.Dirs {
		subs, err := s.fs.ReadDir(dc.Path)
		if err != nil {
			return nil, fmt.Errorf("storage: listing data dir: %w", err)
		}
		for _, sub := range subs {
			if sub.IsDir() && len(sub.Name()) == 2 {
				out = append(out, listedSubdir{dir: d, path: filepath.Join(dc.Path, sub.Name())})
			}
		}
	}
	errs := make([]error, len(out))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(out) {
					return
				}
				ents, err := s.fs.ReadDir(out[i].path)
				if err != nil {
					errs[i] = fmt.Errorf("storage: listing data dir: %w", err)
					continue
				}
				for _, e := range ents {
					if e.IsDir() {
						continue
					}
					pe := pageDirEntry{name: e.Name(), size: -1}
					if strings.HasSuffix(pe.name, pageExt) {
						if info, err := e.Info(); err == nil {
							pe.size = info.Size()
						}
					}
					out[i].ents = append(out[i].ents, pe)
				}
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func (s *Store) reconcileFile(d int, sd string, e pageDirEntry) error {
	full := filepath.Join(sd, e.name)
	if filepath.Ext(e.name) == tmpExt {
		s.replayRemoved++
		return s.removeStray(full)
	}
	k, gen, ok := parsePageName(e.name)
	if !ok {
		return nil // not ours: leave it alone
	}
	fi, known := s.files[k.File]
	if known {
		fe := s.ftab[fi]
		id := s.slotOf(fe, k.Index)
		if fe.meta.Version == k.Version && id >= 0 && s.recs[id].gen == gen && s.recs[id].dir() == noDir &&
			e.size == DataOffset+int64(s.recs[id].length()) {
			s.recs[id].setDir(uint8(d))
			s.account(id, fe, true)
			return nil
		}
	}
	s.replayRemoved++
	return s.removeStray(full)
}

func (s *Store) removeStray(name string) error {
	if err := s.fs.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: removing unvouched page file: %w", err)
	}
	return nil
}

// shrinkToCapacity evicts at Open until every dir and quota fits (the
// capacity may have shrunk since the last run).
func (s *Store) shrinkToCapacity() error {
	s.mu.Lock()
	var victims []string
	var frames []byte
	for d := range s.cfg.Dirs {
		for g := 0; g < s.ngroups; g++ {
			// makeRoomLocked with size 0 evicts down to the limits.
			v, f, err := s.makeRoomLocked(d, uint16(g), 0)
			victims, frames = append(victims, v...), append(frames, f...)
			if err != nil {
				s.log.Warn("storage: cannot shrink to capacity (pinned pages)", "err", err)
			}
		}
	}
	var seq uint64
	var err error
	if len(frames) > 0 {
		seq, err = s.appendLocked(frames)
	}
	s.mu.Unlock()
	s.unlink(victims)
	if err == nil && seq > 0 {
		err = s.j.wait(seq)
	}
	return err
}
