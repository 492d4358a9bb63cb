package storage

import (
	"errors"
	"io/fs"
	"time"
)

// This file is the lazy deleter of superseded page files.

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
