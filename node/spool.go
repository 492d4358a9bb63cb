package node

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ringcache/ringcache/storage"
)

// The spool holds the bytes of writes in flight on their owner: a Put's
// body, or a multipart upload's parts, as they pass through to the
// under-store. Once the under-store has acknowledged the write the owner
// cuts the spooled bytes into the new version's pages (CACHE_THROUGH: the
// first read after a write is a hit, without reading the object back), and
// the spool file goes. Nothing in it is ever served: a write that fails,
// is aborted, or is cut off by a crash leaves only spool files, which Start
// removes. The spool is bounded (spoolLimit bytes in all); a write that
// does not fit goes through unspooled and is simply not cached.
type spool struct {
	dir   string
	limit int64
	used  atomic.Int64
	mu    sync.Mutex // orders part files of one upload
}

// errSpoolFull: the write goes on without a cache fill.
var errSpoolFull = errors.New("node: write spool full")

// spoolMargin is the free disk space the spool leaves beside a body it
// takes (the page store shares the disk).
const spoolMargin = 256 << 20

// openSpool empties (or creates) dir: whatever is there belongs to writes
// of an earlier run, none of which may be served.
func openSpool(dir string, limit int64) (*spool, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("node: clear write spool %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "uploads"), 0o755); err != nil {
		return nil, fmt.Errorf("node: write spool: %w", err)
	}
	return &spool{dir: dir, limit: limit}, nil
}

// spoolFile is one spooled body. The body passes through it (spoolpipe.go),
// so create refuses one that would not fit the limit or the disk: such a
// write goes on straight to the under-store, without a cache fill.
type spoolFile struct {
	s       *spool
	f       *os.File
	reserve int64
	// copying counts a pipe's copy goroutine (spoolpipe.go): a part file
	// is kept only once it is done.
	copying sync.WaitGroup
	piped   *spoolPipe // set by pipe
}

// create starts a spool file for a body of size bytes, or returns nil
// (and why) when the spool has no room for it.
func (s *spool) create(dir string, size int64) (*spoolFile, error) {
	if s == nil {
		return nil, errSpoolFull
	}
	if s.used.Add(size) > s.limit {
		s.used.Add(-size)
		return nil, errSpoolFull
	}
	if dir == "" {
		dir = s.dir
	}
	if free, ok := storage.FreeBytes(dir); ok && free < size+spoolMargin {
		s.used.Add(-size)
		return nil, errSpoolFull
	}
	f, err := os.CreateTemp(dir, "put-*")
	if err != nil {
		s.used.Add(-size)
		return nil, fmt.Errorf("node: write spool: %w", err)
	}
	return &spoolFile{s: s, f: f, reserve: size}, nil
}

// complete reports whether the file holds the whole body, intact: its
// pipe copied every byte and the body ended there.
func (sf *spoolFile) complete() bool {
	return sf != nil && sf.piped != nil && sf.piped.whole()
}

// discard removes the file and returns its room.
func (sf *spoolFile) discard() {
	if sf == nil {
		return
	}
	if sf.piped != nil {
		// The write failed or was cancelled: the copy stops after the
		// read it is in. It is not waited for (a stalled client would
		// hold the answer): closing the file fails its next write, and
		// it ends with the request's body.
		sf.piped.finish(errWriteAborted)
	}
	name := sf.f.Name()
	sf.f.Close()
	os.Remove(name)
	sf.s.used.Add(-sf.reserve)
	sf.reserve = 0
}

// keepAs moves a complete part file to name (its room stays reserved
// until the upload's directory is dropped).
func (sf *spoolFile) keepAs(name string) error {
	sf.copying.Wait()
	if err := sf.f.Close(); err != nil {
		os.Remove(sf.f.Name())
		sf.s.used.Add(-sf.reserve)
		return err
	}
	if err := os.Rename(sf.f.Name(), name); err != nil {
		os.Remove(sf.f.Name())
		sf.s.used.Add(-sf.reserve)
		return err
	}
	return nil
}

// uploadDir is the directory of one multipart upload's spooled parts,
// named by a hash of the upload ID (IDs are the under-store's, any bytes).
func (s *spool) uploadDir(uploadID string, create bool) (string, error) {
	sum := sha256.Sum256([]byte(uploadID))
	dir := filepath.Join(s.dir, "uploads", hex.EncodeToString(sum[:16]))
	if create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// partName is the spool file of part num with etag: a part uploaded again
// under the same number replaces the file, and Complete uses a part only
// if the ETag the client lists is the one spooled.
func partName(dir string, num int) string { return filepath.Join(dir, strconv.Itoa(num)) }

// spooledPart is a part file and the ETag it was uploaded with.
type spooledPart struct {
	name string
	etag string
	size int64
}

// keepPart stores a complete part file with its ETag beside it.
func (s *spool) keepPart(dir string, num int, sf *spoolFile, etag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := partName(dir, num)
	if old, err := os.Stat(name); err == nil {
		s.used.Add(-old.Size())
	}
	if err := sf.keepAs(name); err != nil {
		return err
	}
	return os.WriteFile(name+".etag", []byte(etag), 0o644)
}

// parts returns the spooled files of the listed parts, in order, or false
// when one is missing or was spooled with another ETag (the client
// uploaded it through another owner, or again): then there is no fill.
func (s *spool) parts(dir string, nums []int, etags []string) ([]spooledPart, bool) {
	out := make([]spooledPart, 0, len(nums))
	for i, num := range nums {
		name := partName(dir, num)
		b, err := os.ReadFile(name + ".etag")
		if err != nil || strings.Trim(string(b), `"`) != strings.Trim(etags[i], `"`) {
			return nil, false
		}
		fi, err := os.Stat(name)
		if err != nil {
			return nil, false
		}
		out = append(out, spooledPart{name: name, etag: string(b), size: fi.Size()})
	}
	return out, true
}

// dropUpload removes an upload's spooled parts and returns their room.
func (s *spool) dropUpload(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".etag") {
			continue
		}
		if fi, err := e.Info(); err == nil && !strings.HasPrefix(e.Name(), "put-") {
			s.used.Add(-fi.Size())
		}
	}
	os.RemoveAll(dir)
}

// partsReader reads spooled parts as one object, at any offset (the page
// fill reads pages in parallel).
type partsReader struct {
	files []*os.File
	ends  []int64 // ends[i] is the object offset where part i ends
	size  int64
}

// openParts opens the spooled parts of a completed upload, in order.
func openParts(parts []spooledPart) (*partsReader, error) {
	r := &partsReader{}
	for _, p := range parts {
		f, err := os.Open(p.name)
		if err != nil {
			r.close()
			return nil, err
		}
		r.size += p.size
		r.files = append(r.files, f)
		r.ends = append(r.ends, r.size)
	}
	return r, nil
}

func (r *partsReader) close() {
	for _, f := range r.files {
		f.Close()
	}
}

// ReadAt reads len(p) bytes at off, across part boundaries.
func (r *partsReader) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		at := off + int64(done)
		i, _ := slices.BinarySearch(r.ends, at+1)
		if i >= len(r.files) {
			return done, io.EOF
		}
		start := r.ends[i] - partSize(r, i)
		k, err := r.files[i].ReadAt(p[done:min(len(p), done+int(r.ends[i]-at))], at-start)
		done += k
		if err != nil && !errors.Is(err, io.EOF) {
			return done, err
		}
		if k == 0 {
			return done, io.ErrUnexpectedEOF
		}
	}
	return done, nil
}

func partSize(r *partsReader, i int) int64 {
	if i == 0 {
		return r.ends[0]
	}
	return r.ends[i] - r.ends[i-1]
}
