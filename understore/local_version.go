package understore

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/ringcache/ringcache/objpath"
)

// writeVersion publishes a new version of p whose bytes fill writes, the way
// Put does: into a temporary file beside p (hidden by tmpPrefix), synced,
// stamped with a fresh mtime, renamed over p, and the directory synced. A
// failure or crash at any point leaves the old version (and at most a hidden
// temporary file). fill returns errors already wrapped for op and p.
// CompleteUpload and Copy use it.
func (s *local) writeVersion(op, p string, fill func(f *os.File) error) (ObjectInfo, error) {
	bucket, _ := objpath.Split(p)
	if err := s.checkBucket(op, p, bucket); err != nil {
		return ObjectInfo{}, err
	}
	dir := path.Dir(p)
	if err := s.makeParents(op, p, dir); err != nil {
		return ObjectInfo{}, err
	}
	f, tmp, err := s.createTemp(dir)
	if err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	}
	fi, err := s.finishTemp(op, p, f, tmp, fill)
	if err == nil {
		err = s.publish(op, tmp, p, dir)
	}
	if err != nil {
		s.root.Remove(tmp) // best effort; a leftover stays hidden
		return ObjectInfo{}, err
	}
	return localInfo(p, fi), nil
}

// finishTemp fills, syncs, stamps and closes the temporary file and
// returns its fstat (the version that appears at p: rename keeps inode and
// times).
func (s *local) finishTemp(op, p string, f *os.File, tmp string, fill func(*os.File) error) (fs.FileInfo, error) {
	err := fill(f)
	if err == nil {
		if serr := f.Sync(); serr != nil {
			err = localErr(op, p, serr)
		}
	}
	if err == nil {
		mt := s.nextMtime()
		if cerr := s.root.Chtimes(tmp, mt, mt); cerr != nil {
			err = localErr(op, p, cerr)
		}
	}
	var fi fs.FileInfo
	if err == nil {
		var serr error
		if fi, serr = f.Stat(); serr != nil {
			err = localErr(op, p, serr)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = localErr(op, p, cerr)
	}
	return fi, err
}

// copyChunk bounds one copy_file_range (or read/write) call of copyFile, so
// a cancelled ctx stops a long copy between chunks.
const copyChunk = 64 << 20

// copyFile appends n bytes of src, from its current offset, to dst. On
// Linux (*os.File).ReadFrom uses copy_file_range, so the bytes need not
// pass through user space. It returns how many bytes were copied; fewer
// than n with a nil error means src ended early.
func copyFile(ctx context.Context, dst, src *os.File, n int64) (int64, error) {
	var done int64
	for done < n {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		c := min(copyChunk, n-done)
		m, err := dst.ReadFrom(io.LimitReader(src, c))
		done += m
		if err != nil {
			return done, err
		}
		if m < c {
			break
		}
	}
	return done, nil
}
