package understore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"

	"github.com/ringcache/ringcache/objpath"
)

// On the local store a directory is its own directory marker ("b/dir/",
// see isMarker): Put of an empty marker creates the directory, Stat and
// ReadAt of an existing directory's marker answer a 0-byte object, and
// Delete removes the directory if it is empty. Deleting an S3 marker does
// not delete the keys under it, so Delete of a non-empty directory's
// marker leaves the directory and succeeds.

// emptyMD5 is the ETag of every local marker: S3's ETag of 0 bytes.
const emptyMD5 = "d41d8cd98f00b204e9800998ecf8427e"

func markerDir(p string) string { return p[:len(p)-1] }

func markerInfo(p string, fi fs.FileInfo) ObjectInfo {
	return ObjectInfo{
		Path:    p,
		Size:    0,
		ETag:    emptyMD5,
		ModTime: fi.ModTime(),
		MetaFP:  fmt.Sprintf("%o", uint32(fi.Mode())),
	}
}

// putMarker creates the marker's directory (checkPut has checked the
// path, the bucket and the size).
func (s *local) putMarker(p string, r io.Reader) (ObjectInfo, error) {
	const op = "put"
	if err := noMore(r, 0); err != nil {
		return ObjectInfo{}, opErr(op, p, ErrBadRequest, err)
	}
	dir := markerDir(p)
	if err := s.makeParents(op, p, dir); err != nil {
		return ObjectInfo{}, err
	}
	bucket, _ := objpath.Split(p)
	if err := s.syncDir(bucket); err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	}
	return s.statMarker(op, p)
}

func (s *local) statMarker(op, p string) (ObjectInfo, error) {
	if hidden(p) {
		return ObjectInfo{}, opErr(op, p, ErrNotFound, nil)
	}
	fi, err := s.root.Stat(markerDir(p))
	if err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	}
	if !fi.IsDir() {
		return ObjectInfo{}, opErr(op, p, ErrNotFound, errors.New("not a directory"))
	}
	return markerInfo(p, fi), nil
}

// readMarker is ReadAt of a marker: no bytes, once the directory is there
// and is the version asked for.
func (s *local) readMarker(p string, want ObjectInfo, buf []byte) (int, error) {
	info, err := s.statMarker("read", p)
	if err != nil {
		return 0, err
	}
	if want.ETag != "" && want.ETag != info.ETag {
		return 0, opErr("read", p, ErrChanged, nil)
	}
	if len(buf) == 0 {
		return 0, nil
	}
	return 0, io.EOF
}

// deleteMarker removes the marker's directory when it is empty.
func (s *local) deleteMarker(p string) error {
	const op = "delete"
	if hidden(p) {
		return nil
	}
	dir := markerDir(p)
	fi, err := s.root.Lstat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return localErr(op, p, err)
	}
	if !fi.IsDir() {
		return nil // "b/x/" is not the object "b/x"
	}
	err = s.root.Remove(dir)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, syscall.EEXIST):
		return nil
	}
	return localErr(op, p, err)
}
