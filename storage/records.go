package storage

import (
	"errors"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/ringcache/ringcache/storage/fb"
)

// This file turns index changes into journal records.

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
