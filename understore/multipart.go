package understore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Multipart-upload sentinels, named after the S3 error codes they stand for.
var (
	// ErrNoSuchUpload: the upload ID is unknown, malformed, belongs to
	// another path, or the upload was completed or aborted.
	ErrNoSuchUpload = errors.New("understore: no such upload")
	// ErrInvalidPart: a part listed in CompleteUpload was not uploaded, or
	// its ETag is not the one given.
	ErrInvalidPart = errors.New("understore: invalid part")
	// ErrInvalidPartOrder: CompleteUpload's parts are not in strictly
	// ascending order of part number.
	ErrInvalidPartOrder = errors.New("understore: invalid part order")
	// ErrEntityTooSmall: a part other than the last is smaller than
	// MinPartSize.
	ErrEntityTooSmall = errors.New("understore: part too small")
)

// S3's limits, which both Stores enforce.
const (
	// MaxParts is the highest part number and the most parts an upload
	// may complete with.
	MaxParts = 10000
	// MaxPutSize is the largest single PutObject, UploadPart or CopyObject.
	MaxPutSize = 5 << 30
	// MaxObjectSize is the largest object a multipart upload may make.
	MaxObjectSize = 5 << 40
)

// PartInfo describes one uploaded part. ETag follows the Store's ETag
// convention (see ObjectInfo); pass it back unchanged in CompletedPart.
type PartInfo struct {
	Number  int
	Size    int64
	ETag    string
	ModTime time.Time
}

// CompletedPart names a part to assemble in CompleteUpload.
type CompletedPart struct {
	Number int
	ETag   string
}

// PartsPage is one page of ListParts, in ascending part number.
// NextMarker is the last part number on the page; pass it as the next
// call's marker when Truncated.
type PartsPage struct {
	Parts      []PartInfo
	NextMarker int
	Truncated  bool
}

// UploadInfo describes an upload in progress.
type UploadInfo struct {
	Path      string // bucket/key
	UploadID  string
	Initiated time.Time
}

// UploadsPage is one page of ListUploads, ordered by key and, within a
// key, by initiation. Prefixes are full paths ("bucket/dir/") as in
// ListPage. NextKeyMarker (a key relative to the bucket, like ListAfter's
// after) and NextUploadIDMarker continue the listing when Truncated.
type UploadsPage struct {
	Uploads                           []UploadInfo
	Prefixes                          []string
	NextKeyMarker, NextUploadIDMarker string
	Truncated                         bool
}

// Multiparter is implemented by Stores that take an object in parts (S3's
// multipart upload). Both Stores of this package implement it; like
// AfterLister it is separate so wrappers of Store need not. The object
// appears atomically at CompleteUpload; until then readers see the old
// version (or none), and an aborted or abandoned upload changes nothing.
type Multiparter interface {
	// CreateUpload starts an upload to path and returns its ID.
	CreateUpload(ctx context.Context, path string) (uploadID string, err error)
	// UploadPart stores exactly size bytes of r as part num (1..MaxParts,
	// size at most MaxPutSize), replacing an earlier upload of that part.
	// A body shorter or longer than size is ErrBadRequest and stores
	// nothing.
	UploadPart(ctx context.Context, path, uploadID string, num int, r io.Reader, size int64) (PartInfo, error)
	// CompleteUpload assembles the listed parts (ascending, each with the
	// ETag its UploadPart returned, all but the last at least MinPartSize)
	// into the object at path and ends the upload. It returns the new
	// version, as Stat would. On failure the object and the upload are as
	// they were (the upload can be completed again).
	CompleteUpload(ctx context.Context, path, uploadID string, parts []CompletedPart) (ObjectInfo, error)
	// AbortUpload ends the upload and drops its parts.
	AbortUpload(ctx context.Context, path, uploadID string) error
	// ListParts lists the uploaded parts with numbers above marker; limit
	// <= 0 means 1000.
	ListParts(ctx context.Context, path, uploadID string, marker, limit int) (PartsPage, error)
	// ListUploads lists uploads in progress whose path starts with prefix
	// ("bucket/" or "bucket/keyprefix"), after (keyMarker, uploadIDMarker)
	// as S3's ListMultipartUploads; a non-empty delimiter rolls keys up into
	// Prefixes. limit <= 0 means 1000.
	ListUploads(ctx context.Context, prefix, delimiter, keyMarker, uploadIDMarker string, limit int) (UploadsPage, error)
}

// Copier is implemented by Stores that copy an object without the bytes
// passing through the caller. Both Stores of this package implement it.
type Copier interface {
	// Copy makes dst a copy of src's current version (want.ETag non-empty:
	// only that version, else ErrChanged). Atomic like Put.
	Copy(ctx context.Context, src, dst string, want ObjectInfo) (ObjectInfo, error)
}

// defaultListParts is ListParts' and ListUploads' page size for limit <= 0
// (S3's own maximum).
const defaultListParts = 1000

// checkPartArgs validates UploadPart's number and size.
func checkPartArgs(p string, num int, size int64) error {
	const op = "upload part"
	switch {
	case num < 1 || num > MaxParts:
		return opErr(op, p, ErrBadRequest, fmt.Errorf("part number %d not in 1..%d", num, MaxParts))
	case size < 0:
		return opErr(op, p, ErrBadRequest, fmt.Errorf("negative size %d", size))
	case size > MaxPutSize:
		return opErr(op, p, ErrBadRequest, fmt.Errorf("part of %d bytes > %d", size, int64(MaxPutSize)))
	}
	return nil
}

// checkCompleted validates the shape of CompleteUpload's list, before any
// part is looked at: 1..MaxParts parts in strictly ascending order.
func checkCompleted(p string, parts []CompletedPart) error {
	const op = "complete upload"
	if len(parts) == 0 {
		return opErr(op, p, ErrBadRequest, errors.New("no parts"))
	}
	if len(parts) > MaxParts {
		return opErr(op, p, ErrBadRequest, fmt.Errorf("%d parts > %d", len(parts), MaxParts))
	}
	for i, cp := range parts {
		if cp.Number < 1 || cp.Number > MaxParts {
			return opErr(op, p, ErrInvalidPart, fmt.Errorf("part number %d not in 1..%d", cp.Number, MaxParts))
		}
		if i > 0 && cp.Number <= parts[i-1].Number {
			return opErr(op, p, ErrInvalidPartOrder, fmt.Errorf("part %d after part %d", cp.Number, parts[i-1].Number))
		}
	}
	return nil
}

// unquoteETag drops the quotes S3 clients put around ETags, so either form
// of a local part ETag matches.
func unquoteETag(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// isMarker reports whether p is a directory marker: a valid path followed
// by one "/" ("bucket/dir/"), the 0-byte objects Hadoop S3A and the aws
// console write for directories (CONTRACT "S3 gateway"). Stat, ReadAt, Put
// (0 bytes only) and Delete take them; every other operation holds to
// ValidatePath.
func isMarker(p string) bool {
	return strings.HasSuffix(p, "/") && ValidatePath(p[:len(p)-1]) == nil
}

// validateObject is ValidatePath that also admits directory markers.
func validateObject(p string) error {
	if isMarker(p) {
		return nil
	}
	return ValidatePath(p)
}

// checkMarkerPut refuses a marker with content: a key ending in "/" is a
// directory, which has no bytes.
func checkMarkerPut(p string, size int64) error {
	if isMarker(p) && size != 0 {
		return opErr("put", p, ErrBadRequest, fmt.Errorf("directory marker with %d bytes; must be empty", size))
	}
	return nil
}

// exactReader yields exactly size bytes of r and fails, before returning
// the last byte, if r has more; a short r is io.ErrUnexpectedEOF. So a
// streaming upload never sends a complete body that was not the one
// declared: the server sees a cut request and stores nothing.
type exactReader struct {
	ctx  context.Context
	r    io.Reader
	size int64 // declared
	left int64
	bad  error // why the body was refused; nil if it was not
}

func newExactReader(ctx context.Context, r io.Reader, size int64) *exactReader {
	return &exactReader{ctx: ctx, r: r, size: size, left: size}
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.bad != nil {
		return 0, e.bad
	}
	if e.left == 0 {
		return 0, io.EOF
	}
	if err := e.ctx.Err(); err != nil {
		return 0, err
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if e.left == 0 {
		if nerr := noMore(e.r, e.size); nerr != nil {
			e.bad = fmt.Errorf("%w: %v", ErrBadRequest, nerr)
			return 0, e.bad
		}
		return n, io.EOF
	}
	if err == io.EOF {
		e.bad = fmt.Errorf("%w: body ended %d bytes early: %w", ErrBadRequest, e.left, io.ErrUnexpectedEOF)
		return n, e.bad
	}
	if err != nil {
		e.bad = err
	}
	return n, err
}
