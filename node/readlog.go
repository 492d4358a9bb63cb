package node

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// A read's id (ReadRequest.ReadID, the S3 gateway's x-amz-request-id, the
// SDK's per-read id) is logged at debug level on every node that handles
// the read: the node that forwards it, the owner that serves it and the
// owner's under-store requests for it. Grepping the id across the nodes'
// logs (--verbose) follows one read through the cluster.

// readIDAttr formats a read id as the gateway's request ids are written:
// 16 upper-case hex digits.
func readIDAttr(id uint64) slog.Attr { return slog.String("read_id", fmt.Sprintf("%016X", id)) }

// logUnder logs one under-store request made for a read.
func (n *Node) logUnder(ctx context.Context, op, path string, readID uint64, off int64, length int, start time.Time, err error) {
	if !n.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	n.log.LogAttrs(ctx, slog.LevelDebug, "under-store request", slog.String("op", op), slog.String("path", path), readIDAttr(readID),
		slog.Int64("offset", off), slog.Int("length", length), slog.Duration("duration", time.Since(start)), slog.Any("err", err))
}
