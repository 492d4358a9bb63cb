package understore

import (
	"context"
	"errors"
	"io"
	"time"
)

// STUB for the node branch: the multipart helper's branch has the real file.

type PartInfo struct {
	Number  int
	Size    int64
	ETag    string
	ModTime time.Time
}
type CompletedPart struct {
	Number int
	ETag   string
}
type PartsPage struct {
	Parts      []PartInfo
	NextMarker int
	Truncated  bool
}
type UploadInfo struct {
	Path      string
	UploadID  string
	Initiated time.Time
}
type UploadsPage struct {
	Uploads                           []UploadInfo
	Prefixes                          []string
	NextKeyMarker, NextUploadIDMarker string
	Truncated                         bool
}

var (
	ErrNoSuchUpload     = errors.New("understore: no such upload")
	ErrInvalidPart      = errors.New("understore: invalid part")
	ErrInvalidPartOrder = errors.New("understore: invalid part order")
	ErrEntityTooSmall   = errors.New("understore: entity too small")
)

const (
	MaxParts      = 10000
	MaxPutSize    = 5 << 30
	MaxObjectSize = 5 << 40
)

type Multiparter interface {
	CreateUpload(ctx context.Context, path string) (uploadID string, err error)
	UploadPart(ctx context.Context, path, uploadID string, num int, r io.Reader, size int64) (PartInfo, error)
	CompleteUpload(ctx context.Context, path, uploadID string, parts []CompletedPart) (ObjectInfo, error)
	AbortUpload(ctx context.Context, path, uploadID string) error
	ListParts(ctx context.Context, path, uploadID string, marker, limit int) (PartsPage, error)
	ListUploads(ctx context.Context, prefix, delimiter, keyMarker, uploadIDMarker string, limit int) (UploadsPage, error)
}

type Copier interface {
	Copy(ctx context.Context, src, dst string, want ObjectInfo) (ObjectInfo, error)
}
