package gateway

import (
	"context"
	"io"

	"github.com/ringcache/ringcache/gateway/internal/listing"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// Cluster is what the gateway needs of the node it runs on; *node.Node
// implements it. Declared here, by its consumer.
type Cluster interface {
	// ServeRead serves a read through the cluster (the owner first, this
	// node when the owner cannot be reached) into w. Errors match the
	// transport sentinels (transport.ErrNotFound, ...).
	ServeRead(ctx context.Context, req *transport.ReadRequest, w transport.ResponseWriter) error
	// StatObject returns the owner's view of the object's metadata; within
	// the sync interval it costs no under-store request. Errors match the
	// transport sentinels.
	StatObject(ctx context.Context, path string) (transport.StatResponse, error)
}

// Store is what the gateway needs of the under-store itself: listings and
// buckets (understore.Store implements it). Reads never go here; they go
// through the Cluster.
type Store = listing.Store

// Writer writes through the cluster (*node.Node implements it): every
// method is routed to the path's owner, which writes through to the
// under-store, fills its cache and tells every node. Errors match the
// understore sentinels (ErrNotFound, ErrNoSuchUpload, ErrInvalidPart,
// ErrInvalidPartOrder, ErrEntityTooSmall, ErrBadRequest, ErrChanged, ...)
// and the transport sentinels. ETags are as the under-store gives them
// (the gateway quotes them). A body a method reads may fail (a bad digest,
// a short body): the method must then fail and leave the object as it was.
type Writer interface {
	PutObject(ctx context.Context, path string, body io.Reader, size int64) (understore.ObjectInfo, error)
	// CopyObject copies src's current version to dst; a non-empty
	// want.ETag copies only that version (else ErrChanged).
	CopyObject(ctx context.Context, src, dst string, want understore.ObjectInfo) (understore.ObjectInfo, error)
	// DeleteObject succeeds for a missing object, as S3 does.
	DeleteObject(ctx context.Context, path string) error
	CreateUpload(ctx context.Context, path string) (string, error)
	UploadPart(ctx context.Context, path, uploadID string, num int, body io.Reader, size int64) (understore.PartInfo, error)
	CompleteUpload(ctx context.Context, path, uploadID string, parts []understore.CompletedPart) (understore.ObjectInfo, error)
	AbortUpload(ctx context.Context, path, uploadID string) error
	ListParts(ctx context.Context, path, uploadID string, marker, limit int) (understore.PartsPage, error)
	// ListUploads: prefix is "bucket/" or "bucket/keyprefix"; delimiter
	// optional.
	ListUploads(ctx context.Context, prefix, delimiter, keyMarker, uploadIDMarker string, limit int) (understore.UploadsPage, error)
}
