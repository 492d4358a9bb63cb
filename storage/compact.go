package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/ringcache/ringcache/storage/fb"
)

// This file is journal compaction: a snapshot of the live index replaces
// the segments before it.

// snapshotEstimate is the approximate size of a snapshot of the live index.
func (s *Store) snapshotEstimateLocked() int64 {
	return int64(len(s.files))*256 + int64(len(s.recs)-len(s.free))*72
}

func (s *Store) maybeCompactLocked() {
	if s.closed || s.compacting.Load() {
		return
	}
	limit := max(s.cfg.CompactEvery, 2*s.snapshotEstimateLocked())
	if s.j.liveBytes() <= limit {
		return
	}
	s.compacting.Store(true)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.compacting.Store(false)
		if err := s.compact(); err != nil && !errors.Is(err, ErrClosed) {
			s.log.Error("storage: journal compaction failed", "err", err)
		}
	}()
}

// Compact writes a snapshot of the live index and retires the segments it
// covers. It runs in the background when the journal grows; it is exported
// for tests and operators.
func (s *Store) Compact() error {
	if !s.compacting.CompareAndSwap(false, true) {
		return nil
	}
	defer s.compacting.Store(false)
	return s.compact()
}

type snapPage struct {
	key    PageKey
	gen    uint64
	length uint32
	sum    uint32
}

func (s *Store) compact() error {
	start := time.Now()
	// Every record queued after roll returns lands in segment seq or later;
	// the index captured below includes every record queued before, so
	// snapshot seq plus segments >= seq replay to the current state.
	seq, err := s.j.roll()
	if err != nil {
		return err
	}
	files, pages, err := s.captureIndex()
	if err != nil {
		return err
	}
	final := snapName(s.cfg.JournalDir, seq)
	if err := s.writeSnapshot(final, files, pages); err != nil {
		return err
	}
	if err := s.retireBefore(seq); err != nil {
		return err
	}
	s.mu.Lock()
	s.compaction++
	s.mu.Unlock()
	s.log.Info("storage: journal compacted", "snapshot", final, "files", len(files), "pages", len(pages), "seconds", time.Since(start).Seconds())
	return nil
}

// captureIndex copies what a snapshot holds: every file and located page.
func (s *Store) captureIndex() ([]record, []snapPage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, nil, ErrClosed
	}
	files := make([]record, 0, len(s.files))
	for _, fi := range s.files {
		files = append(files, fileRecord(s.ftab[fi]))
	}
	pages := make([]snapPage, 0, len(s.recs)-len(s.free))
	for id := range s.recs {
		r := &s.recs[id]
		if r.file < 0 || r.dir() == noDir {
			continue
		}
		pages = append(pages, snapPage{key: s.keyOf(int32(id)), gen: r.gen, length: r.length(), sum: r.sum})
	}
	return files, pages, nil
}

// writeSnapshot writes a snapshot under a temporary name, fsyncs it and
// publishes it as final (the journal dir fsynced too).
func (s *Store) writeSnapshot(final string, files []record, pages []snapPage) error {
	tmp := final + tmpExt
	f, err := s.fs.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("storage: creating snapshot: %w", err)
	}
	w := &snapshotWriter{f: f, buf: []byte(snapshotMagic)}
	b := s.builders.Get().(*flatbuffers.Builder)
	var frame []byte
	for i := range files {
		frame = appendFrame(frame[:0], b, &files[i])
		w.add(frame)
	}
	for _, p := range pages {
		r := record{kind: fb.KindPagePut, file: p.key.File, version: p.key.Version, index: p.key.Index,
			length: p.length, crc: p.sum, gen: p.gen}
		frame = appendFrame(frame[:0], b, &r)
		w.add(frame)
	}
	end := record{kind: fb.KindSnapEnd, count: w.count}
	w.buf = appendFrame(w.buf, b, &end)
	s.builders.Put(b)
	w.flush()
	err = w.err
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.fs.Rename(tmp, final)
	}
	if err == nil {
		err = s.fs.SyncDir(filepath.Dir(final))
	}
	if err != nil {
		s.fs.Remove(tmp)
		return fmt.Errorf("storage: writing snapshot: %w", err)
	}
	return nil
}

// retireBefore removes the segments and snapshots that snapshot seq covers.
func (s *Store) retireBefore(seq uint64) error {
	dir := s.cfg.JournalDir
	jf, err := listJournal(s.fs, dir)
	if err != nil {
		return fmt.Errorf("storage: listing journal: %w", err)
	}
	for _, n := range jf.segs {
		if n < seq {
			s.fs.Remove(segName(dir, n))
		}
	}
	for _, n := range jf.snaps {
		if n < seq {
			s.fs.Remove(snapName(dir, n))
		}
	}
	s.j.retire(seq)
	if err := s.fs.SyncDir(dir); err != nil {
		return fmt.Errorf("storage: syncing journal dir: %w", err)
	}
	return nil
}
