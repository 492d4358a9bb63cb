package understore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tmpPrefix starts the name of the temporary file of an in-progress Put. Such
// names are invisible to Stat, ReadAt, List and Buckets and refused by Put.
const tmpPrefix = ".ringcache-put-"

// local is the Store for file:///dir. Every file access goes through an
// os.Root (ReadAt on Linux: openat2 with RESOLVE_BENEATH, the same guarantee
// in fewer syscalls), so no path, symlink or ".." can reach outside dir; the
// path rules are checked first anyway. An escape is ErrBadPath.
//
// Versioning: the ETag is a hash of (size, mtime ns, inode, device), read by
// fstat on the open descriptor. Put writes a new inode and renames it into
// place, so an open descriptor keeps reading the version it was opened on,
// and Put stamps each new file with an mtime strictly later than the
// previous Put's so a reused inode number cannot repeat an ETag. A writer
// other than Put that rewrites a file in place within one timestamp tick
// and keeps its size is not detected: that is outside the contract.
type local struct {
	cfg  Config
	dir  string
	root *os.Root
	fast fastDir // the ReadAt path without os.Root's per-call overhead

	// afterPart, when set (tests), runs after CompleteUpload has copied
	// each part: a test cancels the ctx there to fail an assembly halfway.
	afterPart func(num int)

	mu        sync.Mutex
	lastMtime time.Time // latest mtime a Put stamped; guarded by mu
}

func openLocal(cfg Config, dir string) (*local, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("understore: open %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("understore: open %s: not a directory", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("understore: open %s: %w", dir, err)
	}
	return &local{cfg: cfg, dir: dir, root: root, fast: openFast(dir)}, nil
}

// Close releases the directory handles.
func (s *local) Close() error {
	s.fast.close()
	return s.root.Close()
}

func hidden(p string) bool {
	return strings.HasPrefix(p, tmpPrefix) || strings.Contains(p, "/"+tmpPrefix)
}

// localErr maps an os error to the sentinels.
func localErr(op, p string, err error) error {
	var errno syscall.Errno
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return opErr(op, p, ErrNotFound, err)
	case errors.Is(err, fs.ErrPermission):
		return opErr(op, p, ErrAccessDenied, err)
	case !errors.As(err, &errno):
		// os.Root's only non-errno failure is a path (or symlink) that
		// leads outside the root.
		return opErr(op, p, ErrBadPath, err)
	default:
		return opErr(op, p, nil, err)
	}
}

// checkBucket reports whether bucket exists as a directory: List and Put
// answer ErrNotFound for a missing bucket rather than creating it.
func (s *local) checkBucket(op, p, bucket string) error {
	fi, err := s.root.Stat(bucket)
	if err != nil {
		return localErr(op, p, err)
	}
	if !fi.IsDir() {
		return opErr(op, p, ErrNotFound, errors.New("bucket is not a directory"))
	}
	return nil
}

func localETag(fi fs.FileInfo) string {
	ino, dev := fileID(fi)
	return etagOf(fi.Size(), fi.ModTime().UnixNano(), ino, dev)
}

func etagOf(size, mtimeNs int64, ino, dev uint64) string {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(size))
	binary.LittleEndian.PutUint64(b[8:], uint64(mtimeNs))
	binary.LittleEndian.PutUint64(b[16:], ino)
	binary.LittleEndian.PutUint64(b[24:], dev)
	h := sha256.Sum256(b[:])
	return hex.EncodeToString(h[:16])
}

func localInfo(p string, fi fs.FileInfo) ObjectInfo {
	return ObjectInfo{
		Path:    p,
		Size:    fi.Size(),
		ETag:    localETag(fi),
		ModTime: fi.ModTime(),
		MetaFP:  fmt.Sprintf("%o", uint32(fi.Mode())),
	}
}

func (s *local) Stat(ctx context.Context, p string) (ObjectInfo, error) {
	if err := validateObject(p); err != nil {
		return ObjectInfo{}, opErr("stat", p, err, nil)
	}
	if isMarker(p) {
		return s.statMarker("stat", p)
	}
	if hidden(p) {
		return ObjectInfo{}, opErr("stat", p, ErrNotFound, nil)
	}
	fi, err := s.root.Stat(p)
	if err != nil {
		return ObjectInfo{}, localErr("stat", p, err)
	}
	if !fi.Mode().IsRegular() {
		return ObjectInfo{}, opErr("stat", p, ErrNotFound, errors.New("not a regular file"))
	}
	return localInfo(p, fi), nil
}

func (s *local) Delete(ctx context.Context, p string) error {
	if err := validateObject(p); err != nil {
		return opErr("delete", p, err, nil)
	}
	if isMarker(p) {
		return s.deleteMarker(p)
	}
	if hidden(p) {
		return nil
	}
	fi, err := s.root.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil // like S3: deleting a missing key succeeds
		}
		return localErr("delete", p, err)
	}
	if fi.IsDir() {
		return nil // a directory is not an object
	}
	if err := s.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return localErr("delete", p, err)
	}
	return nil
}

func (s *local) Buckets(ctx context.Context) ([]string, error) {
	d, err := s.root.Open(".")
	if err != nil {
		return nil, localErr("buckets", s.dir, err)
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil, localErr("buckets", s.dir, err)
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue // not a valid bucket name; also hides our temp files
		}
		if !e.IsDir() {
			fi, err := s.root.Stat(name) // a symlink to a directory inside the root
			if err != nil || !fi.IsDir() {
				continue
			}
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out, nil
}

// DirectoryMarkers reports that a directory of this store is its own
// directory marker (a key ending in "/"): the S3 gateway answers HEAD of
// "dir/" from the directory, where an S3 store would need a marker object.
func (s *local) DirectoryMarkers() bool { return true }
