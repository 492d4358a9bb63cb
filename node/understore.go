package node

import (
	"context"
	"io"

	"github.com/ringcache/ringcache/understore"
)

// UnderStore is what a node needs of the store its files live in: the
// version of an object, bytes of one version, and listings (for Load).
// Every understore.Store (S3, a local directory) implements it; the node
// never writes, deletes or closes it (its owner does). Declared here, by its consumer, so a test or a wrapper (latency,
// faults) implements three methods, not the whole understore.Store.
type UnderStore interface {
	// Stat returns the current version of the object at path.
	Stat(ctx context.Context, path string) (understore.ObjectInfo, error)
	// ReadAt reads len(p) bytes at off of the version want.ETag names,
	// failing with understore.ErrChanged if the object changed; a short
	// read only at the end of the object (io.EOF).
	ReadAt(ctx context.Context, path string, want understore.ObjectInfo, p []byte, off int64) (int, error)
	// List lists one page of the objects under prefix.
	List(ctx context.Context, prefix, delimiter, token string, limit int) (understore.ListPage, error)
}

// understore.Store is the UnderStore every binary passes in.
var _ UnderStore = understore.Store(nil)

// UnderWriter is what a node needs of the under-store to write through it
// (the S3 gateway's and the SDK's writes). Every understore.Store
// implements it; multipart uploads and copies are the optional
// understore.Multiparter and understore.Copier. An UnderStore without it
// answers writes with ErrWriteUnsupported.
type UnderWriter interface {
	// Put stores exactly size bytes of r at path, atomically.
	Put(ctx context.Context, path string, r io.Reader, size int64) (understore.ObjectInfo, error)
	// Delete removes the object (a missing one is not an error).
	Delete(ctx context.Context, path string) error
}

var _ UnderWriter = understore.Store(nil)
