package understore

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/ringcache/ringcache/objpath"
)

// Multipart uploads of the local store are staged on disk inside the
// store's directory, so they survive a restart and any process that shares
// the directory can continue one:
//
//	<dir>/.ringcache-put-uploads/<uploadID>/upload.json  {"path": "b/k", "initiated": "..."}
//	<dir>/.ringcache-put-uploads/<uploadID>/part-00001   partHeader, then the part's bytes
//
// The staging directory's name starts with tmpPrefix, so Stat, List and
// Buckets never show it and Put refuses it. Each file appears by rename of
// a synced temporary file, and an upload directory by rename of a complete
// one, so a crash leaves an upload whole or absent and a part old, new or
// absent. Abort renames the upload directory out of the way before removing
// it, so a half-removed upload is never seen.
const (
	uploadsDir     = tmpPrefix + "uploads"
	uploadMetaName = "upload.json"
	maxUploadMeta  = 64 << 10 // upload.json holds a path and a time
)

// partHeader starts every staged part file: magic, the part's size and its
// MD5, so ListParts and CompleteUpload need not re-read the bytes. All
// integers little-endian.
//
//	0  8  "RCPART01"
//	8  8  size of the part in bytes
//	16 16 MD5 of the part
const (
	partMagic      = "RCPART01"
	partHeaderSize = 32
)

// uploadMeta is upload.json.
type uploadMeta struct {
	Path      string    `json:"path"`
	Initiated time.Time `json:"initiated"`
}

// newUploadID returns a fresh upload ID: 16 hex digits of the creation time
// (ns) and 16 random ones, so IDs sort by initiation, as ListUploads orders
// uploads of one key.
func newUploadID(now time.Time) string {
	return fmt.Sprintf("%016x%016x", uint64(now.UnixNano()), rand.Uint64())
}

// parseUploadID accepts exactly what newUploadID makes: 32 lower-case hex
// digits. The ID names a directory, so nothing else (no "/", "..", dots)
// may pass.
func parseUploadID(id string) error {
	if len(id) != 32 {
		return fmt.Errorf("upload ID of %d bytes, want 32", len(id))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("upload ID has byte %q at %d, want lower-case hex", c, i)
		}
	}
	return nil
}

func uploadDir(id string) string { return uploadsDir + "/" + id }

func partName(num int) string { return fmt.Sprintf("part-%05d", num) }

// parsePartName is partName's inverse; ok is false for any other name.
func parsePartName(name string) (int, bool) {
	var n int
	if len(name) != len("part-00000") {
		return 0, false
	}
	if _, err := fmt.Sscanf(name, "part-%05d", &n); err != nil || partName(n) != name || n < 1 || n > MaxParts {
		return 0, false
	}
	return n, true
}

// checkUploadPath validates the path of a multipart operation: an object
// path (no directory markers) outside the reserved names.
func checkUploadPath(op, p string) error {
	if err := ValidatePath(p); err != nil {
		return opErr(op, p, err, nil)
	}
	if hidden(p) {
		return opErr(op, p, ErrBadPath, errors.New("reserved name "+tmpPrefix+"*"))
	}
	return nil
}

// openUpload returns the upload's metadata after checking that id is well
// formed, exists and belongs to p; every failure is ErrNoSuchUpload, as S3
// answers for a malformed or foreign ID.
func (s *local) openUpload(op, p, id string) (uploadMeta, error) {
	if err := parseUploadID(id); err != nil {
		return uploadMeta{}, opErr(op, p, ErrNoSuchUpload, err)
	}
	m, err := s.readMeta(id)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return uploadMeta{}, opErr(op, p, ErrNoSuchUpload, nil)
		}
		return uploadMeta{}, localErr(op, p, err)
	}
	if m.Path != p {
		return uploadMeta{}, opErr(op, p, ErrNoSuchUpload, errors.New("upload belongs to another path"))
	}
	return m, nil
}

func (s *local) readMeta(id string) (uploadMeta, error) {
	f, err := s.root.Open(uploadDir(id) + "/" + uploadMetaName)
	if err != nil {
		return uploadMeta{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxUploadMeta+1))
	if err != nil {
		return uploadMeta{}, err
	}
	var m uploadMeta
	if len(b) > maxUploadMeta {
		return uploadMeta{}, errors.New("upload.json too large")
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return uploadMeta{}, fmt.Errorf("upload.json: %w", err)
	}
	return m, nil
}

// CreateUpload makes the upload's directory under a temporary name, writes
// and syncs upload.json in it, and renames it into place.
func (s *local) CreateUpload(ctx context.Context, p string) (string, error) {
	const op = "create upload"
	if err := checkUploadPath(op, p); err != nil {
		return "", err
	}
	bucket, _ := objpath.Split(p)
	if err := s.checkBucket(op, p, bucket); err != nil {
		return "", err
	}
	if err := s.root.MkdirAll(uploadsDir, 0o755); err != nil {
		return "", localErr(op, p, err)
	}
	now := time.Now()
	id := newUploadID(now)
	meta, err := json.Marshal(uploadMeta{Path: p, Initiated: now.UTC()})
	if err != nil {
		return "", opErr(op, p, nil, err)
	}
	tmp := uploadsDir + "/.new-" + id
	if err := s.root.Mkdir(tmp, 0o755); err != nil {
		return "", localErr(op, p, err)
	}
	err = s.writeSynced(tmp+"/"+uploadMetaName, meta)
	if err == nil {
		err = s.syncDir(tmp)
	}
	if err == nil {
		err = s.root.Rename(tmp, uploadDir(id))
	}
	if err == nil {
		err = s.syncDir(uploadsDir)
	}
	if err != nil {
		s.root.RemoveAll(tmp)
		return "", localErr(op, p, err)
	}
	return id, nil
}

// writeSynced creates name with b and syncs it.
func (s *local) writeSynced(name string, b []byte) error {
	f, err := s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// UploadPart writes the part to a temporary file in the upload's directory
// (header, then the bytes while hashing them), syncs it and renames it over
// any earlier upload of that part number. A body that fails or has the
// wrong length leaves the earlier part, if any, in place.
func (s *local) UploadPart(ctx context.Context, p, id string, num int, r io.Reader, size int64) (PartInfo, error) {
	const op = "upload part"
	if err := checkUploadPath(op, p); err != nil {
		return PartInfo{}, err
	}
	if err := checkPartArgs(p, num, size); err != nil {
		return PartInfo{}, err
	}
	if _, err := s.openUpload(op, p, id); err != nil {
		return PartInfo{}, err
	}
	dir := uploadDir(id)
	tmp := fmt.Sprintf("%s/.tmp-%016x", dir, rand.Uint64())
	f, err := s.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return PartInfo{}, opErr(op, p, ErrNoSuchUpload, nil) // aborted meanwhile
		}
		return PartInfo{}, localErr(op, p, err)
	}
	info, err := writePart(ctx, f, r, size)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		err = s.root.Rename(tmp, dir+"/"+partName(num))
		if errors.Is(err, fs.ErrNotExist) {
			err = ErrNoSuchUpload // aborted or completed meanwhile
		}
	}
	if err == nil {
		err = s.syncDir(dir)
	}
	if err != nil {
		s.root.Remove(tmp)
		return PartInfo{}, partErr(op, p, err)
	}
	info.Number = num
	return info, nil
}

// partErr wraps a failure of UploadPart: the body's own failures and
// sentinels as they are, the file system's through localErr.
func partErr(op, p string, err error) error {
	switch {
	case errors.Is(err, ErrBadRequest):
		return opErr(op, p, ErrBadRequest, err)
	case errors.Is(err, ErrNoSuchUpload):
		return opErr(op, p, ErrNoSuchUpload, nil)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return opErr(op, p, nil, err)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return localErr(op, p, err)
	}
	return opErr(op, p, nil, err) // the caller's reader failed
}

// writePart fills a new part file: a blank header, exactly size bytes of r
// (hashed on the way), then the real header, and syncs it. Memory is one
// copy buffer whatever the size.
func writePart(ctx context.Context, f *os.File, r io.Reader, size int64) (PartInfo, error) {
	var hdr [partHeaderSize]byte
	if _, err := f.Write(hdr[:]); err != nil {
		return PartInfo{}, err
	}
	h := md5.New()
	if _, err := copyToFile(f, io.TeeReader(newExactReader(ctx, r, size), h)); err != nil {
		return PartInfo{}, err
	}
	sum := h.Sum(nil)
	copy(hdr[:8], partMagic)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(size))
	copy(hdr[16:], sum)
	if _, err := f.WriteAt(hdr[:], 0); err != nil {
		return PartInfo{}, err
	}
	if err := f.Sync(); err != nil {
		return PartInfo{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		return PartInfo{}, err
	}
	return PartInfo{Size: size, ETag: hex.EncodeToString(sum), ModTime: fi.ModTime()}, nil
}

// errBadPartFile is a staged part whose header or length is wrong (torn by
// something other than this package, which only renames whole parts).
var errBadPartFile = errors.New("staged part file is damaged")

// openPart opens a staged part and reads its header; the file is left
// positioned at the first byte of the part.
func (s *local) openPart(id string, num int) (*os.File, PartInfo, error) {
	f, err := s.root.Open(uploadDir(id) + "/" + partName(num))
	if err != nil {
		return nil, PartInfo{}, err
	}
	info, err := readPartHeader(f)
	if err != nil {
		f.Close()
		return nil, PartInfo{}, err
	}
	info.Number = num
	return f, info, nil
}

func readPartHeader(f *os.File) (PartInfo, error) {
	var hdr [partHeaderSize]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return PartInfo{}, fmt.Errorf("%w: %v", errBadPartFile, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return PartInfo{}, err
	}
	size := int64(binary.LittleEndian.Uint64(hdr[8:]))
	if string(hdr[:8]) != partMagic || size < 0 || fi.Size() != partHeaderSize+size {
		return PartInfo{}, fmt.Errorf("%w: header says %d bytes, file has %d", errBadPartFile, size, fi.Size()-partHeaderSize)
	}
	return PartInfo{Size: size, ETag: hex.EncodeToString(hdr[16:]), ModTime: fi.ModTime()}, nil
}

// statPart is openPart's header without keeping the file open.
func (s *local) statPart(id string, num int) (PartInfo, error) {
	f, info, err := s.openPart(id, num)
	if err != nil {
		return PartInfo{}, err
	}
	f.Close()
	return info, nil
}

// ListParts reads the upload's directory and the headers of the parts on
// the page.
func (s *local) ListParts(ctx context.Context, p, id string, marker, limit int) (PartsPage, error) {
	const op = "list parts"
	if err := checkUploadPath(op, p); err != nil {
		return PartsPage{}, err
	}
	if marker < 0 {
		return PartsPage{}, opErr(op, p, ErrBadRequest, fmt.Errorf("negative part marker %d", marker))
	}
	if limit <= 0 {
		limit = defaultListParts
	}
	if _, err := s.openUpload(op, p, id); err != nil {
		return PartsPage{}, err
	}
	nums, err := s.partNumbers(id)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return PartsPage{}, opErr(op, p, ErrNoSuchUpload, nil)
		}
		return PartsPage{}, localErr(op, p, err)
	}
	var page PartsPage
	for _, n := range nums {
		if n <= marker {
			continue
		}
		if len(page.Parts) == limit {
			page.Truncated = true
			break
		}
		info, err := s.statPart(id, n)
		if err != nil {
			continue // replaced or removed since the directory was read
		}
		page.Parts = append(page.Parts, info)
		page.NextMarker = n
	}
	return page, nil
}

// partNumbers lists the staged part numbers of an upload, ascending.
func (s *local) partNumbers(id string) ([]int, error) {
	d, err := s.root.Open(uploadDir(id))
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	// Part names are fixed-width, so name order is number order; sort the
	// numbers anyway rather than rely on it.
	var nums []int
	for _, name := range names {
		if n, ok := parsePartName(name); ok {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	return nums, nil
}

// AbortUpload removes the upload: first out of sight by rename, then from
// the disk.
func (s *local) AbortUpload(ctx context.Context, p, id string) error {
	const op = "abort upload"
	if err := checkUploadPath(op, p); err != nil {
		return err
	}
	if _, err := s.openUpload(op, p, id); err != nil {
		return err
	}
	if err := s.dropUpload(id); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return opErr(op, p, ErrNoSuchUpload, nil) // a concurrent abort or complete won
		}
		return localErr(op, p, err)
	}
	return nil
}

// dropUpload renames the upload's directory to a dead name (so no one sees
// a half-removed upload) and removes it.
func (s *local) dropUpload(id string) error {
	dead := fmt.Sprintf("%s/.dead-%s-%016x", uploadsDir, id, rand.Uint64())
	if err := s.root.Rename(uploadDir(id), dead); err != nil {
		return err
	}
	s.syncDir(uploadsDir) // the upload is gone once the rename is durable
	return s.root.RemoveAll(dead)
}
