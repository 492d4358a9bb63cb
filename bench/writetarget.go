package bench

import (
	"context"
	"io"

	"github.com/ringcache/ringcache/client"
)

// WriteTarget is where the write-through workload writes an object: the
// cluster (through the S3 gateway or the Go SDK) or the under-store
// directly (the baseline).
type WriteTarget interface {
	// Kind is "gateway", "sdk" or "understore".
	Kind() string
	// Put writes exactly size bytes of body at path. body can seek, for
	// clients that read it twice (to sign its digest, then to send it).
	Put(ctx context.Context, path string, body io.ReadSeeker, size int64) error
}

// SDKWriteTarget writes through the cluster with the Go SDK's Put: one
// stream to the path's owner, which writes through to the under-store and
// keeps the bytes as cached pages.
func SDKWriteTarget(c *client.Client) WriteTarget { return sdkWriteTarget{c} }

type sdkWriteTarget struct{ c *client.Client }

func (sdkWriteTarget) Kind() string { return "sdk" }

func (t sdkWriteTarget) Put(ctx context.Context, path string, body io.ReadSeeker, size int64) error {
	_, err := t.c.Put(ctx, path, body, size)
	return err
}

// StoreWriteTarget writes straight to the under-store (an understore.Store,
// with any injected latency): the baseline a write through the cluster is
// compared with.
func StoreWriteTarget(w Writer) WriteTarget { return storeWriteTarget{w} }

type storeWriteTarget struct{ w Writer }

func (storeWriteTarget) Kind() string { return "understore" }

func (t storeWriteTarget) Put(ctx context.Context, path string, body io.ReadSeeker, size int64) error {
	_, err := t.w.Put(ctx, path, body, size)
	return err
}
