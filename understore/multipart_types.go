package understore

import (
	"errors"
	"time"
)

// Multipart upload and copy: the values and sentinels the optional
// Multiparter and Copier interfaces speak (SPEC13 section B).

// Sentinels of multipart uploads (errors.Is), named as S3's error codes.
var (
	// ErrNoSuchUpload means the upload id names no upload of that path
	// (never created, completed, aborted, or its staging was removed).
	ErrNoSuchUpload = errors.New("understore: no such upload")
	// ErrInvalidPart means a completed part is missing or its ETag differs.
	ErrInvalidPart = errors.New("understore: invalid part")
	// ErrInvalidPartOrder means the completed parts are not ascending.
	ErrInvalidPartOrder = errors.New("understore: invalid part order")
	// ErrEntityTooSmall means a part other than the last is below
	// MinPartSize.
	ErrEntityTooSmall = errors.New("understore: entity too small")
)

// S3's limits.
const (
	MaxParts      = 10000   // parts of one upload, numbered 1..MaxParts
	MaxPutSize    = 5 << 30 // bytes of one PutObject or one part
	MaxObjectSize = 5 << 40 // bytes of one object
)

// PartInfo describes one uploaded part.
type PartInfo struct {
	Number  int
	Size    int64
	ETag    string
	ModTime time.Time
}

// CompletedPart names a part in a CompleteUpload.
type CompletedPart struct {
	Number int
	ETag   string
}

// PartsPage is one page of an upload's parts.
type PartsPage struct {
	Parts      []PartInfo
	NextMarker int
	Truncated  bool
}

// UploadInfo describes one upload in progress.
type UploadInfo struct {
	Path      string
	UploadID  string
	Initiated time.Time
}

// UploadsPage is one page of the uploads in progress.
type UploadsPage struct {
	Uploads                           []UploadInfo
	Prefixes                          []string
	NextKeyMarker, NextUploadIDMarker string
	Truncated                         bool
}
