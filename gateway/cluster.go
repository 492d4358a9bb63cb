package gateway

import (
	"context"

	"github.com/ringcache/ringcache/gateway/internal/listing"
	"github.com/ringcache/ringcache/transport"
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
