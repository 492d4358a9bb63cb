package storage

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/ringcache/ringcache/objpath"
	"github.com/ringcache/ringcache/storage/fb"
)

// This file is the file table: lookup, versions (Upsert), Invalidate, pins.

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
	// A bad path is an unknown file to callers (errors.Is ErrUnknownFile)
	// and says why (errors.Is objpath.ErrBadPath).
	if err := objpath.Validate(p); err != nil {
		return FileMeta{}, fmt.Errorf("%w: %w", ErrUnknownFile, err)
	}
	if err := objpath.ValidateScope(scope); err != nil {
		return FileMeta{}, fmt.Errorf("%w: %w", ErrUnknownFile, err)
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
		if v != 0 && s.recs[v-1].dir() != noDir {
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
