package understore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/ringcache/ringcache/objpath"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
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
	if err := ValidatePath(p); err != nil {
		return ObjectInfo{}, opErr("stat", p, err, nil)
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
	if n, ok, err := s.fastReadAt(p, want, buf, off); ok {
		return n, err
	}
	f, err := s.root.Open(p)
	if err != nil {
		return 0, localErr("read", p, err)
	}
	defer f.Close()
	check := func() error {
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
	if err := check(); err != nil {
		return 0, err
	}
	n, err := f.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return n, localErr("read", p, err)
	}
	// The descriptor pins the inode, so a Put cannot mix versions; a second
	// fstat also catches a writer that rewrote this inode during the read.
	if cerr := check(); cerr != nil {
		return 0, cerr
	}
	return n, err // nil or io.EOF, as io.ReaderAt
}

// localToken is the decoded List continuation token: the last key (relative
// to the bucket) or common prefix a page returned.
type localToken struct {
	last     string
	isPrefix bool
}

func encodeLocalToken(last string, isPrefix bool) string {
	kind := "k"
	if isPrefix {
		kind = "p"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(kind + last))
}

func decodeLocalToken(tok, keyPrefix string) (localToken, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 2 || (b[0] != 'k' && b[0] != 'p') {
		return localToken{}, errors.New("malformed continuation token")
	}
	t := localToken{last: string(b[1:]), isPrefix: b[0] == 'p'}
	if !strings.HasPrefix(t.last, keyPrefix) {
		return localToken{}, errors.New("continuation token does not belong to this prefix")
	}
	return t, nil
}

func (s *local) List(ctx context.Context, prefix, delimiter, token string, limit int) (ListPage, error) {
	const op = "list"
	if err := ValidatePrefix(prefix); err != nil {
		return ListPage{}, opErr(op, prefix, err, nil)
	}
	if limit <= 0 {
		limit = s.cfg.ListLimit
	}
	bucket, kp := objpath.Split(prefix)
	var tok localToken
	if token != "" {
		var err error
		if tok, err = decodeLocalToken(token, kp); err != nil {
			return ListPage{}, opErr(op, prefix, ErrBadRequest, err)
		}
	}
	if fi, err := s.root.Stat(bucket); err != nil {
		return ListPage{}, localErr(op, prefix, err)
	} else if !fi.IsDir() {
		return ListPage{}, opErr(op, prefix, ErrNotFound, errors.New("bucket is not a directory"))
	}

	// Start at the deepest directory the prefix names.
	start := bucket
	if i := strings.LastIndexByte(kp, '/'); i >= 0 {
		start = bucket + "/" + kp[:i]
	}
	var ents []listEntry
	if delimiter == "/" {
		// One directory level is enough: subdirectories are the common
		// prefixes (if they hold any object), so a listing of the top of
		// a big bucket does not walk all of it.
		var err error
		if ents, err = s.readLevel(ctx, bucket, start, kp); err != nil {
			return ListPage{}, localErr(op, prefix, err)
		}
	} else {
		keys, err := s.walkKeys(ctx, bucket, start, kp, 0)
		if err != nil {
			return ListPage{}, localErr(op, prefix, err)
		}
		ents = groupKeys(keys, kp, delimiter)
	}

	var page ListPage
	var last listEntry
	n := 0
	for _, e := range ents {
		if token != "" && (e.key <= tok.last || (tok.isPrefix && strings.HasPrefix(e.key, tok.last))) {
			continue
		}
		if n == limit {
			page.NextToken = encodeLocalToken(last.key, last.prefix)
			break
		}
		if e.prefix {
			page.Prefixes = append(page.Prefixes, bucket+"/"+e.key)
		} else {
			fi, err := s.root.Stat(bucket + "/" + e.key)
			if err != nil || !fi.Mode().IsRegular() {
				continue // removed since the walk
			}
			page.Objects = append(page.Objects, localInfo(bucket+"/"+e.key, fi))
		}
		last = e
		n++
	}
	return page, nil
}

// listEntry is a key (relative to the bucket) or a common prefix.
type listEntry struct {
	key    string
	prefix bool
}

// groupKeys rolls sorted keys up into common prefixes at delimiter. The
// result stays sorted: every key under a prefix sorts with the prefix.
func groupKeys(keys []string, kp, delimiter string) []listEntry {
	var out []listEntry
	for _, k := range keys {
		if delimiter != "" {
			if i := strings.Index(k[len(kp):], delimiter); i >= 0 {
				cp := k[:len(kp)+i+len(delimiter)]
				if len(out) == 0 || out[len(out)-1].key != cp {
					out = append(out, listEntry{cp, true})
				}
				continue
			}
		}
		out = append(out, listEntry{k, false})
	}
	return out
}

// walkKeys returns the sorted keys (relative to bucket) of the objects
// under the directory start that begin with kp; max > 0 stops after that
// many. It descends only into directories that can hold such keys. Walk
// order is not key order ("a/b" sorts after "a-b" but is visited first), so
// it collects, then sorts.
func (s *local) walkKeys(ctx context.Context, bucket, start, kp string, max int) ([]string, error) {
	var keys []string
	err := fs.WalkDir(s.root.FS(), start, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == start && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if name == bucket {
			return nil
		}
		key := name[len(bucket)+1:]
		if strings.HasPrefix(d.Name(), tmpPrefix) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			dk := key + "/"
			if !strings.HasPrefix(dk, kp) && !strings.HasPrefix(kp, dk) {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(key, kp) || !s.isObject(name, d) {
			return nil
		}
		keys = append(keys, key)
		if max > 0 && len(keys) >= max {
			return fs.SkipAll
		}
		return nil
	})
	slices.Sort(keys)
	return keys, err
}

// isObject reports whether a non-directory entry is an object: a regular
// file, or a symlink that leads to one inside the root (devices, fifos and
// escaping links are not).
func (s *local) isObject(name string, d fs.DirEntry) bool {
	if d.Type().IsRegular() {
		return true
	}
	fi, err := s.root.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

// readLevel lists one directory for delimiter "/": its objects, and its
// subdirectories that hold at least one object as common prefixes.
func (s *local) readLevel(ctx context.Context, bucket, start, kp string) ([]listEntry, error) {
	d, err := s.root.Open(start)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil
		}
		return nil, err
	}
	des, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return nil, nil
		}
		return nil, err
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(start, bucket), "/")
	if rel != "" {
		rel += "/"
	}
	var out []listEntry
	for _, de := range des {
		if strings.HasPrefix(de.Name(), tmpPrefix) {
			continue
		}
		key := rel + de.Name()
		name := start + "/" + de.Name()
		if de.IsDir() {
			dk := key + "/"
			if !strings.HasPrefix(dk, kp) {
				continue
			}
			some, err := s.walkKeys(ctx, bucket, name, dk, 1)
			if err != nil {
				return nil, err
			}
			if len(some) > 0 {
				out = append(out, listEntry{dk, true})
			}
			continue
		}
		if strings.HasPrefix(key, kp) && s.isObject(name, de) {
			out = append(out, listEntry{key, false})
		}
	}
	slices.SortFunc(out, func(a, b listEntry) int { return strings.Compare(a.key, b.key) })
	return out, nil
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

// ctxReader stops a long copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func (s *local) Put(ctx context.Context, p string, r io.Reader, size int64) (info ObjectInfo, err error) {
	const op = "put"
	if err := ValidatePath(p); err != nil {
		return ObjectInfo{}, opErr(op, p, err, nil)
	}
	if hidden(p) {
		return ObjectInfo{}, opErr(op, p, ErrBadPath, errors.New("reserved name "+tmpPrefix+"*"))
	}
	if size < 0 {
		return ObjectInfo{}, opErr(op, p, ErrBadRequest, fmt.Errorf("negative size %d", size))
	}
	bucket, _ := objpath.Split(p)
	if fi, err := s.root.Stat(bucket); err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	} else if !fi.IsDir() {
		return ObjectInfo{}, opErr(op, p, ErrNotFound, errors.New("bucket is not a directory"))
	}
	dir := path.Dir(p)
	if err := s.root.MkdirAll(dir, 0o755); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
			// S3 allows both "a" and "a/b"; a directory tree cannot.
			return ObjectInfo{}, opErr(op, p, ErrBadRequest, fmt.Errorf("a parent of the path is an object: %w", err))
		}
		return ObjectInfo{}, localErr(op, p, err)
	}

	var f *os.File
	var tmp string
	for range 10 {
		tmp = fmt.Sprintf("%s/%s%016x", dir, tmpPrefix, rand.Uint64())
		f, err = s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			s.root.Remove(tmp)
		}
	}()

	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, size))
	if err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	}
	if n < size {
		return ObjectInfo{}, opErr(op, p, ErrBadRequest, fmt.Errorf("body has %d bytes, want %d", n, size))
	}
	var one [1]byte
	if m, _ := io.ReadFull(r, one[:]); m > 0 {
		return ObjectInfo{}, opErr(op, p, ErrBadRequest, fmt.Errorf("body longer than %d bytes", size))
	}
	if err = f.Sync(); err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	}
	mt := s.nextMtime()
	if err = s.root.Chtimes(tmp, mt, mt); err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	}
	// fstat before the rename: the rename keeps inode and times, so this is
	// exactly the version that appears at p.
	fi, err := f.Stat()
	if err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	}
	if err = s.root.Rename(tmp, p); err != nil {
		return ObjectInfo{}, localErr(op, p, err)
	}
	// Make the rename durable.
	if d, derr := s.root.Open(dir); derr == nil {
		derr = d.Sync()
		d.Close()
		if derr != nil {
			return ObjectInfo{}, localErr(op, p, derr)
		}
	}
	return localInfo(p, fi), nil
}

func (s *local) Delete(ctx context.Context, p string) error {
	if err := ValidatePath(p); err != nil {
		return opErr("delete", p, err, nil)
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
