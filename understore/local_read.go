package understore

import (
	"context"
	"errors"
	"io"
	"os"
)

// ReadAt reads from the version want names (any version when want.ETag is
// empty). On Linux it takes the fast path (readat_linux.go); elsewhere, or
// when that path declines, it reads through os.Root.
func (s *local) ReadAt(ctx context.Context, p string, want ObjectInfo, buf []byte, off int64) (int, error) {
	if err := checkRead(p, buf, off); err != nil {
		return 0, err
	}
	if hidden(p) {
		return 0, opErr("read", p, ErrNotFound, nil)
	}
	if err := ctx.Err(); err != nil {
		return 0, opErr("read", p, nil, err)
	}
	if isMarker(p) {
		return s.readMarker(p, want, buf)
	}
	if n, ok, err := s.fastReadAt(p, want, buf, off); ok {
		return n, err
	}
	f, err := s.root.Open(p)
	if err != nil {
		return 0, localErr("read", p, err)
	}
	defer f.Close()
	if err := checkOpenVersion(f, p, want); err != nil {
		return 0, err
	}
	n, err := f.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return n, localErr("read", p, err)
	}
	// The descriptor pins the inode, so a Put cannot mix versions; a second
	// fstat also catches a writer that rewrote this inode during the read.
	if cerr := checkOpenVersion(f, p, want); cerr != nil {
		return 0, cerr
	}
	return n, err // nil or io.EOF, as io.ReaderAt
}

// checkOpenVersion fstats the open file: it must be a regular file and, when
// want names a version, that version (else ErrChanged).
func checkOpenVersion(f *os.File, p string, want ObjectInfo) error {
	fi, err := f.Stat()
	if err != nil {
		return localErr("read", p, err)
	}
	if !fi.Mode().IsRegular() {
		return opErr("read", p, ErrNotFound, errors.New("not a regular file"))
	}
	if want.ETag != "" && localETag(fi) != want.ETag {
		return opErr("read", p, ErrChanged, nil)
	}
	return nil
}

// ReadFirst reads len(buf) bytes at off of whatever version is current and
// returns that version's info, from one open descriptor: fstat names the
// version, pread reads it, a second fstat catches a writer that rewrote the
// inode meanwhile (ErrChanged). A short read only at the end (io.EOF).
func (s *local) ReadFirst(ctx context.Context, p string, buf []byte, off int64) (ObjectInfo, int, error) {
	if err := checkRead(p, buf, off); err != nil {
		return ObjectInfo{}, 0, err
	}
	if hidden(p) {
		return ObjectInfo{}, 0, opErr("read", p, ErrNotFound, nil)
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, 0, opErr("read", p, nil, err)
	}
	if isMarker(p) {
		info, err := s.statMarker("read", p)
		if err != nil {
			return ObjectInfo{}, 0, err
		}
		n, err := s.readMarker(p, info, buf)
		return info, n, err
	}
	f, err := s.root.Open(p)
	if err != nil {
		return ObjectInfo{}, 0, localErr("read", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ObjectInfo{}, 0, localErr("read", p, err)
	}
	if !fi.Mode().IsRegular() {
		return ObjectInfo{}, 0, opErr("read", p, ErrNotFound, errors.New("not a regular file"))
	}
	info := localInfo(p, fi)
	n, err := f.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return ObjectInfo{}, n, localErr("read", p, err)
	}
	if cerr := checkOpenVersion(f, p, info); cerr != nil {
		return ObjectInfo{}, 0, cerr
	}
	return info, n, err // nil or io.EOF, as io.ReaderAt
}
