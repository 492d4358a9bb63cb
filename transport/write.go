// Write messages: the write-through RPCs of the S3 gateway and the SDK's
// Put (CONTRACT.md "S3 gateway", writes). They are a gRPC service of their
// own, ringcache.v1.Write, beside the control service: a node that cannot
// write (an under-store without writes) simply does not register it.

package transport

import (
	"fmt"
	"strings"
	"time"

	"github.com/ringcache/ringcache/objpath"
)

// WriteServiceName is the gRPC service of the write RPCs.
const WriteServiceName = "ringcache.v1.Write"

// Full method names of the write RPCs.
const (
	MethodPut            = "/" + WriteServiceName + "/Put"
	MethodUploadPart     = "/" + WriteServiceName + "/UploadPart"
	MethodDelete         = "/" + WriteServiceName + "/Delete"
	MethodCopy           = "/" + WriteServiceName + "/Copy"
	MethodCreateUpload   = "/" + WriteServiceName + "/CreateUpload"
	MethodCompleteUpload = "/" + WriteServiceName + "/CompleteUpload"
	MethodAbortUpload    = "/" + WriteServiceName + "/AbortUpload"
	MethodListParts      = "/" + WriteServiceName + "/ListParts"
	MethodListUploads    = "/" + WriteServiceName + "/ListUploads"
)

// Limits of the write RPCs.
const (
	// MaxWriteChunk bounds the body bytes of one PutMessage: a Put streams
	// its body in messages of at most this size, so neither side holds
	// more than a few of them.
	MaxWriteChunk = 1 << 20
	// MaxPutSize is the largest object of one Put (S3's single PutObject
	// limit, 5 GiB); larger objects are multipart uploads.
	MaxPutSize = 5 << 30
	// MaxPartNumber is S3's highest part number (parts are 1..10000).
	MaxPartNumber = 10_000
	// MaxUploadIDLen bounds an upload ID (S3's are a few hundred bytes).
	MaxUploadIDLen = 1024
	// MaxListLimit bounds one ListParts or ListUploads page.
	MaxListLimit = 1000
)

// PutMessage is one message of a Put or UploadPart stream. The first
// carries the header (Path, Size, and for a part UploadID and Part); every
// message may carry body bytes; the last sets End. A stream that ends
// without End (the sender failed or gave up) is aborted: nothing is
// written and no cached page changes.
type PutMessage struct {
	Path     string `msgpack:"path,omitempty"`
	Size     int64  `msgpack:"size,omitempty"`
	UploadID string `msgpack:"upload,omitempty"`
	Part     int    `msgpack:"part,omitempty"`
	// NoForward: the receiver writes itself (it was forwarded here, or the
	// sender knows it is the owner).
	NoForward bool `msgpack:"nofwd,omitempty"`
	// ReadID ties the write's log lines across nodes (x-amz-request-id).
	ReadID uint64 `msgpack:"rid,omitempty"`
	Data   []byte `msgpack:"data,omitempty"`
	End    bool   `msgpack:"end,omitempty"`
}

// ObjectVersion is the under-store's version of an object after a write.
type ObjectVersion struct {
	Size    int64     `msgpack:"size"`
	ETag    string    `msgpack:"etag"`
	ModTime time.Time `msgpack:"mtime"`
	MetaFP  string    `msgpack:"metafp,omitempty"`
}

// WriteResponse answers every write RPC that changes an object: the new
// version (zero after a delete) and, for UploadPart, the part's ETag.
type WriteResponse struct {
	Version     ObjectVersion `msgpack:"version"`
	PartETag    string        `msgpack:"part_etag,omitempty"`
	RingVersion uint64        `msgpack:"ring"`
}

// DeleteRequest deletes an object at the under-store and every cached copy.
type DeleteRequest struct {
	Path      string `msgpack:"path"`
	NoForward bool   `msgpack:"nofwd"`
	ReadID    uint64 `msgpack:"rid,omitempty"`
}

// CopyRequest makes Dst a copy of Src; with IfMatch set only of the Src
// version with that ETag.
type CopyRequest struct {
	Src       string `msgpack:"src"`
	Dst       string `msgpack:"dst"`
	IfMatch   string `msgpack:"if_match,omitempty"`
	NoForward bool   `msgpack:"nofwd"`
	ReadID    uint64 `msgpack:"rid,omitempty"`
}

// UploadRequest names a multipart upload (Create: UploadID empty).
type UploadRequest struct {
	Path      string `msgpack:"path"`
	UploadID  string `msgpack:"upload"`
	NoForward bool   `msgpack:"nofwd"`
	ReadID    uint64 `msgpack:"rid,omitempty"`
}

// UploadResponse answers CreateUpload.
type UploadResponse struct {
	UploadID string `msgpack:"upload"`
}

// CompletedPart is one part of a CompleteUpload, as the client listed it.
type CompletedPart struct {
	Number int    `msgpack:"n"`
	ETag   string `msgpack:"etag"`
}

// CompleteRequest completes a multipart upload from Parts.
type CompleteRequest struct {
	Path      string          `msgpack:"path"`
	UploadID  string          `msgpack:"upload"`
	Parts     []CompletedPart `msgpack:"parts"`
	NoForward bool            `msgpack:"nofwd"`
	ReadID    uint64          `msgpack:"rid,omitempty"`
}

// ListPartsRequest lists the parts of an upload after Marker.
type ListPartsRequest struct {
	Path     string `msgpack:"path"`
	UploadID string `msgpack:"upload"`
	Marker   int    `msgpack:"marker"`
	Limit    int    `msgpack:"limit"`
}

// PartInfo is one uploaded part.
type PartInfo struct {
	Number  int       `msgpack:"n"`
	Size    int64     `msgpack:"size"`
	ETag    string    `msgpack:"etag"`
	ModTime time.Time `msgpack:"mtime"`
}

// ListPartsResponse is one page of parts.
type ListPartsResponse struct {
	Parts      []PartInfo `msgpack:"parts"`
	NextMarker int        `msgpack:"next"`
	Truncated  bool       `msgpack:"trunc"`
}

// ListUploadsRequest lists the uploads in progress under Prefix
// ("bucket/" or "bucket/keyprefix").
type ListUploadsRequest struct {
	Prefix         string `msgpack:"prefix"`
	Delimiter      string `msgpack:"delim"`
	KeyMarker      string `msgpack:"key_marker"`
	UploadIDMarker string `msgpack:"upload_marker"`
	Limit          int    `msgpack:"limit"`
}

// UploadInfo is one upload in progress.
type UploadInfo struct {
	Path      string    `msgpack:"path"`
	UploadID  string    `msgpack:"upload"`
	Initiated time.Time `msgpack:"initiated"`
}

// ListUploadsResponse is one page of uploads.
type ListUploadsResponse struct {
	Uploads            []UploadInfo `msgpack:"uploads"`
	Prefixes           []string     `msgpack:"prefixes"`
	NextKeyMarker      string       `msgpack:"next_key"`
	NextUploadIDMarker string       `msgpack:"next_upload"`
	Truncated          bool         `msgpack:"trunc"`
}

// ValidateWritePath checks the path of a write: a file path, or a
// directory marker (a path ending in "/", which S3 clients write around
// every directory they create).
func ValidateWritePath(p string) error {
	if strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "//") {
		return badRequest(objpath.Validate(strings.TrimSuffix(p, "/")))
	}
	return ValidatePath(p)
}

func validateUploadID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty upload ID", ErrBadRequest)
	case len(id) > MaxUploadIDLen:
		return fmt.Errorf("%w: upload ID of %d bytes > %d", ErrBadRequest, len(id), MaxUploadIDLen)
	}
	return nil
}

func validateLimit(n int) error {
	if n < 0 || n > MaxListLimit {
		return fmt.Errorf("%w: limit %d outside 0..%d", ErrBadRequest, n, MaxListLimit)
	}
	return nil
}

// Validate checks one message of a Put stream: the header fields where set,
// and the chunk size. The node checks that the first message has a header.
func (m *PutMessage) Validate() error {
	switch {
	case len(m.Data) > MaxWriteChunk:
		return fmt.Errorf("%w: write chunk of %d bytes > %d", ErrTooLarge, len(m.Data), MaxWriteChunk)
	case m.Size < 0:
		return fmt.Errorf("%w: negative size", ErrBadRequest)
	case m.Part < 0 || m.Part > MaxPartNumber:
		return fmt.Errorf("%w: part number %d outside 1..%d", ErrBadRequest, m.Part, MaxPartNumber)
	case m.Part == 0 && m.Size > MaxPutSize:
		return fmt.Errorf("%w: object of %d bytes > %d (use a multipart upload)", ErrTooLarge, m.Size, int64(MaxPutSize))
	case len(m.UploadID) > MaxUploadIDLen:
		return fmt.Errorf("%w: upload ID of %d bytes > %d", ErrBadRequest, len(m.UploadID), MaxUploadIDLen)
	}
	if m.Path != "" {
		return ValidateWritePath(m.Path)
	}
	return nil
}

// Validate checks the request's shape; the node checks the rest.
func (r *DeleteRequest) Validate() error { return ValidateWritePath(r.Path) }

// Validate checks the request's shape; the node checks the rest.
func (r *CopyRequest) Validate() error {
	if err := ValidateWritePath(r.Src); err != nil {
		return err
	}
	return ValidateWritePath(r.Dst)
}

// Validate checks the request's shape; the node checks the rest. An empty
// UploadID is a CreateUpload.
func (r *UploadRequest) Validate() error {
	if len(r.UploadID) > MaxUploadIDLen {
		return fmt.Errorf("%w: upload ID of %d bytes > %d", ErrBadRequest, len(r.UploadID), MaxUploadIDLen)
	}
	return ValidateWritePath(r.Path)
}

// Validate checks the request's shape; the node checks the rest.
func (r *CompleteRequest) Validate() error {
	if err := validateUploadID(r.UploadID); err != nil {
		return err
	}
	if len(r.Parts) == 0 || len(r.Parts) > MaxPartNumber {
		return fmt.Errorf("%w: %d parts, want 1..%d", ErrBadRequest, len(r.Parts), MaxPartNumber)
	}
	for _, p := range r.Parts {
		if p.Number < 1 || p.Number > MaxPartNumber || len(p.ETag) > 1024 {
			return fmt.Errorf("%w: part %d outside 1..%d or ETag too long", ErrBadRequest, p.Number, MaxPartNumber)
		}
	}
	return ValidateWritePath(r.Path)
}

// Validate checks the request's shape; the node checks the rest.
func (r *ListPartsRequest) Validate() error {
	if err := validateUploadID(r.UploadID); err != nil {
		return err
	}
	if r.Marker < 0 || r.Marker > MaxPartNumber {
		return fmt.Errorf("%w: part marker %d outside 0..%d", ErrBadRequest, r.Marker, MaxPartNumber)
	}
	if err := validateLimit(r.Limit); err != nil {
		return err
	}
	return ValidateWritePath(r.Path)
}

// Validate checks the request's shape; the node checks the rest.
func (r *ListUploadsRequest) Validate() error {
	if err := validateLimit(r.Limit); err != nil {
		return err
	}
	if len(r.Delimiter) > 64 || len(r.KeyMarker) > objpath.MaxLen || len(r.UploadIDMarker) > MaxUploadIDLen {
		return fmt.Errorf("%w: delimiter or marker too long", ErrBadRequest)
	}
	return validatePrefix(r.Prefix)
}
