package understore

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Copy copies src's version (want.ETag names it, or any when empty) to dst
// through writeVersion, so dst changes atomically, as with Put. The source
// is read from one open descriptor, which pins the version even if a Put
// replaces src meanwhile; a second fstat catches a writer that rewrote the
// inode in place during the copy (ErrChanged).
func (s *local) Copy(ctx context.Context, src, dst string, want ObjectInfo) (ObjectInfo, error) {
	const op = "copy"
	if err := ValidatePath(src); err != nil {
		return ObjectInfo{}, opErr(op, src, err, nil)
	}
	if hidden(src) {
		return ObjectInfo{}, opErr(op, src, ErrNotFound, nil)
	}
	if err := checkUploadPath(op, dst); err != nil {
		return ObjectInfo{}, err
	}
	sf, err := s.root.Open(src)
	if err != nil {
		return ObjectInfo{}, localErr(op, src, err)
	}
	defer sf.Close()
	fi, err := sf.Stat()
	if err != nil {
		return ObjectInfo{}, localErr(op, src, err)
	}
	if !fi.Mode().IsRegular() {
		return ObjectInfo{}, opErr(op, src, ErrNotFound, errors.New("not a regular file"))
	}
	version := localETag(fi)
	if want.ETag != "" && version != want.ETag {
		return ObjectInfo{}, opErr(op, src, ErrChanged, nil)
	}
	if fi.Size() > MaxPutSize {
		return ObjectInfo{}, opErr(op, src, ErrBadRequest,
			fmt.Errorf("copy of %d bytes > %d; copy it in parts", fi.Size(), int64(MaxPutSize)))
	}
	return s.writeVersion(op, dst, func(f *os.File) error {
		n, err := copyFile(ctx, f, sf, fi.Size())
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return opErr(op, dst, nil, err)
		case err != nil:
			return localErr(op, src, err)
		}
		now, err := sf.Stat()
		if err != nil {
			return localErr(op, src, err)
		}
		if n != fi.Size() || localETag(now) != version {
			return opErr(op, src, ErrChanged, errors.New("source rewritten during the copy"))
		}
		return nil
	})
}
