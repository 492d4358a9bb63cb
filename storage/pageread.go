package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// This file reads pages: ReadPage, OpenPage (zero-copy), HasPage, DropPage.

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
	return located{dir: r.dir(), length: r.length(), sum: r.sum, gen: r.gen}, nil
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
