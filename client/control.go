package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/transport"
)

// Stat describes a file as its owner sees it.
func (c *Client) Stat(ctx context.Context, path string) (*transport.StatResponse, error) {
	if err := transport.ValidatePath(path); err != nil {
		return nil, err
	}
	var out *transport.StatResponse
	err := c.onOwners(ctx, path, func(ctx context.Context, cc transport.ControlClient, ring uint64) error {
		r, err := cc.Stat(ctx, &transport.StatRequest{Path: path, RingVersion: ring})
		out = r
		return err
	})
	return out, err
}

// Invalidate drops the cached version of a path, or of every file under a
// prefix ending in "/", on every node. It returns once the owner dropped it.
func (c *Client) Invalidate(ctx context.Context, pathOrPrefix string) (int64, error) {
	req := &transport.InvalidateRequest{}
	setTarget(pathOrPrefix, &req.Path, &req.Prefix)
	var files int64
	err := c.onOwners(ctx, routeKey(pathOrPrefix), func(ctx context.Context, cc transport.ControlClient, _ uint64) error {
		r, err := cc.Invalidate(ctx, req)
		if err == nil {
			files = r.Files
		}
		return err
	})
	return files, err
}

// SetPinned pins or unpins a path or every file under a prefix.
func (c *Client) SetPinned(ctx context.Context, pathOrPrefix string, pinned bool) (int64, error) {
	req := &transport.PinRequest{Pinned: pinned}
	setTarget(pathOrPrefix, &req.Path, &req.Prefix)
	var files int64
	err := c.onOwners(ctx, routeKey(pathOrPrefix), func(ctx context.Context, cc transport.ControlClient, _ uint64) error {
		r, err := cc.Pin(ctx, req)
		if err == nil {
			files = r.Files
		}
		return err
	})
	return files, err
}

// Load warms the cache with a path or every file under a prefix ending in
// "/" (pinning them when pin is set), calling progress as it goes.
func (c *Client) Load(ctx context.Context, pathOrPrefix string, pin bool, progress func(transport.LoadProgress)) error {
	req := &transport.LoadRequest{Pin: pin}
	setTarget(pathOrPrefix, &req.Path, &req.Prefix)
	return c.onOwners(ctx, routeKey(pathOrPrefix), func(ctx context.Context, cc transport.ControlClient, _ uint64) error {
		stream, err := cc.Load(ctx, req)
		if err != nil {
			return err
		}
		var failed []string
		for {
			p, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				if len(failed) > 0 {
					return fmt.Errorf("load: %d file(s) failed: %s", len(failed), strings.Join(failed, "; "))
				}
				return nil
			}
			if err != nil {
				return err
			}
			if p.Error != "" {
				failed = append(failed, p.Path+": "+p.Error)
			}
			if progress != nil {
				progress(*p)
			}
		}
	})
}

func setTarget(s string, path, prefix *string) {
	if strings.HasSuffix(s, "/") {
		*prefix = s
	} else {
		*path = s
	}
}

// routeKey is what a control call is routed by: the path, or for a prefix
// the prefix itself (any node can fan a prefix out).
func routeKey(s string) string { return strings.TrimSuffix(s, "/") }

// onOwners runs a control call on the key's owner, failing over to the next
// owners and then to any member while the error is not permanent.
func (c *Client) onOwners(ctx context.Context, key string, call func(context.Context, transport.ControlClient, uint64) error) error {
	if c.closed.Load() {
		return ErrClosed
	}
	version := c.view.Load().ring.Version()
	return c.tryNodes(ctx, key, func(addr string) error {
		cc, err := c.pool.Control(addr)
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		defer cancel()
		return nodeError(addr, call(cctx, cc, version))
	})
}

// tryNodes runs call on key's nodes (routeAddrs) one after another until
// one succeeds or fails for a reason every node would give.
func (c *Client) tryNodes(ctx context.Context, key string, call func(addr string) error) error {
	var errs []error
	for _, addr := range c.routeAddrs(c.view.Load(), key) {
		err := call(addr)
		if err == nil {
			return nil
		}
		if he := tlsError(addr, err); he != nil {
			return he
		}
		if permanentRPC(err) || ctx.Err() != nil {
			return err
		}
		if _, named := err.(*rpcError); !named {
			err = fmt.Errorf("%s: %w", addr, err)
		}
		errs = append(errs, err)
		c.askRefresh()
	}
	return fmt.Errorf("%w: %w", ErrNoMembers, errors.Join(errs...))
}

// permanentRPC reports control-call errors that another node would answer
// the same way, so failing over is pointless.
func permanentRPC(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.OutOfRange,
		codes.PermissionDenied, codes.Unimplemented, codes.Canceled, codes.Unauthenticated:
		return true
	}
	return false
}

// rpcError is a node's gRPC answer to a control call as the SDK returns it:
// the node's message and which node said it, without gRPC's "rpc error:
// code = ... desc =" wrapping. It matches the transport sentinel of its code
// (errors.Is(err, ErrNotFound) for a Stat of a missing file, as for a
// read), and status.Code still reads the code (GRPCStatus).
type rpcError struct {
	addr string
	st   *status.Status
}

// nodeError makes a control call's gRPC status error an *rpcError; other
// errors (and nil) are returned as they are.
func nodeError(addr string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &rpcError{addr: addr, st: st}
}

func (e *rpcError) Error() string {
	return e.st.Message() + " (node " + e.addr + ")"
}

// GRPCStatus is the node's status (status.Code, status.FromError).
func (e *rpcError) GRPCStatus() *status.Status { return e.st }

// Unwrap is the transport sentinel of the code; nil for codes without one.
func (e *rpcError) Unwrap() error { return codeSentinels[e.st.Code()] }

var codeSentinels = map[codes.Code]error{
	codes.NotFound:          transport.ErrNotFound,
	codes.InvalidArgument:   transport.ErrBadRequest,
	codes.OutOfRange:        transport.ErrOutOfRange,
	codes.PermissionDenied:  transport.ErrAccessDenied,
	codes.Unavailable:       transport.ErrUnavailable,
	codes.ResourceExhausted: transport.ErrThrottled,
	codes.DeadlineExceeded:  transport.ErrDeadlineExceeded,
	codes.Canceled:          transport.ErrCanceled,
	codes.Internal:          transport.ErrInternal,
	codes.Unauthenticated:   transport.ErrTLS,
}
