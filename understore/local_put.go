package understore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"syscall"
	"time"

	"github.com/ringcache/ringcache/objpath"
)

// Put writes the object atomically: the body goes to a temporary file
// beside p (tmpPrefix), which is synced, stamped with a fresh mtime and
// renamed over p, so a reader sees the old version or the new one, never a
// mix, and a crash leaves at most a hidden temporary file.
func (s *local) Put(ctx context.Context, p string, r io.Reader, size int64) (ObjectInfo, error) {
	const op = "put"
	if err := s.checkPut(p, size); err != nil {
		return ObjectInfo{}, err
	}
	if isMarker(p) {
		return s.putMarker(p, r)
	}
	dir := path.Dir(p)
	if err := s.makeParents(op, p, dir); err != nil {
		return ObjectInfo{}, err
	}
	f, tmp, err := s.createTemp(dir)
	if err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	}
	fi, err := s.writeTemp(ctx, f, tmp, p, r, size)
	if err == nil {
		err = s.publish(op, tmp, p, dir)
	}
	if err != nil {
		s.root.Remove(tmp) // best effort; a leftover stays hidden
		return ObjectInfo{}, err
	}
	return localInfo(p, fi), nil
}

// checkPut refuses a Put before anything is written: a bad or reserved
// path, a negative size, or a bucket that does not exist (Put does not
// create buckets, as on S3).
func (s *local) checkPut(p string, size int64) error {
	const op = "put"
	if err := validateObject(p); err != nil {
		return opErr(op, p, err, nil)
	}
	if err := checkMarkerPut(p, size); err != nil {
		return err
	}
	if hidden(p) {
		return opErr(op, p, ErrBadPath, errors.New("reserved name "+tmpPrefix+"*"))
	}
	if size < 0 {
		return opErr(op, p, ErrBadRequest, fmt.Errorf("negative size %d", size))
	}
	bucket, _ := objpath.Split(p)
	return s.checkBucket(op, p, bucket)
}

// makeParents creates the directories above p.
func (s *local) makeParents(op, p, dir string) error {
	if err := s.root.MkdirAll(dir, 0o755); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
			// S3 allows both "a" and "a/b"; a directory tree cannot.
			return opErr(op, p, ErrBadRequest, fmt.Errorf("a parent of the path is an object: %w", err))
		}
		return localErr(op, p, err)
	}
	return nil
}

// createTemp creates a new temporary file in dir under a random name,
// retrying on the (unlikely) clash with a concurrent Put's.
func (s *local) createTemp(dir string) (f *os.File, tmp string, err error) {
	for range 10 {
		tmp = fmt.Sprintf("%s/%s%016x", dir, tmpPrefix, rand.Uint64())
		f, err = s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	return f, tmp, err
}

// writeTemp fills the temporary file with exactly size bytes of r, makes
// them durable, stamps the new version's mtime and closes the file. It
// returns the file's fstat, taken before the rename: the rename keeps inode
// and times, so this is exactly the version that appears at p.
func (s *local) writeTemp(ctx context.Context, f *os.File, tmp, p string, r io.Reader, size int64) (fs.FileInfo, error) {
	const op = "put"
	fi, err := s.fillTemp(ctx, f, tmp, p, r, size)
	if cerr := f.Close(); err == nil && cerr != nil {
		return nil, localErr(op, p, cerr)
	}
	return fi, err
}

func (s *local) fillTemp(ctx context.Context, f *os.File, tmp, p string, r io.Reader, size int64) (fs.FileInfo, error) {
	const op = "put"
	n, err := copyToFile(f, io.LimitReader(ctxReader{ctx, r}, size))
	if err != nil {
		return nil, localErr(op, p, err)
	}
	if n < size {
		return nil, opErr(op, p, ErrBadRequest, fmt.Errorf("body has %d bytes, want %d", n, size))
	}
	if err := noMore(r, size); err != nil {
		return nil, opErr(op, p, ErrBadRequest, err)
	}
	if err := f.Sync(); err != nil {
		return nil, localErr(op, p, err)
	}
	mt := s.nextMtime()
	if err := s.root.Chtimes(tmp, mt, mt); err != nil {
		return nil, localErr(op, p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, localErr(op, p, err)
	}
	return fi, nil
}

// publish renames the finished temporary file over p and syncs the
// directory so the rename survives a crash.
func (s *local) publish(op, tmp, p, dir string) error {
	if err := s.root.Rename(tmp, p); err != nil {
		return localErr(op, p, err)
	}
	if err := s.syncDir(dir); err != nil {
		return localErr(op, p, err)
	}
	return nil
}

// syncDir makes the renames and creations in dir durable.
func (s *local) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	d.Close()
	return err
}

// nextMtime returns the mtime for a new Put: now, but strictly after every
// earlier Put's so (size, mtime, inode) never repeats even if the kernel
// reuses an inode within one timestamp tick.
func (s *local) nextMtime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := time.Now()
	if !t.After(s.lastMtime) {
		t = s.lastMtime.Add(time.Microsecond)
	}
	s.lastMtime = t
	return t
}
