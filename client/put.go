package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ringcache/ringcache/objpath"
	"github.com/ringcache/ringcache/transport"
)

// Put sizes.
const (
	// DefaultPutPartSize: see Config.PutPartSize.
	DefaultPutPartSize = 64 << 20
	// MinPutPartSize is S3's smallest part but the last.
	MinPutPartSize = 5 << 20
)

// Put writes exactly size bytes of r at path through the cluster (the
// path's owner writes them through to the under-store and keeps them as
// cached pages, so the first read after Put is a hit on every node) and
// returns the new version. Objects larger than Config.PutPartSize go up as
// a multipart upload, one part in flight at a time; a failure aborts it.
// A failed Put leaves the under-store object as it was. With TLS, writes
// need a node or admin certificate.
func (c *Client) Put(ctx context.Context, path string, r io.Reader, size int64) (transport.ObjectVersion, error) {
	if c.closed.Load() {
		return transport.ObjectVersion{}, ErrClosed
	}
	if err := objpath.Validate(path); err != nil {
		return transport.ObjectVersion{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if size < 0 {
		return transport.ObjectVersion{}, fmt.Errorf("%w: negative size %d", ErrBadRequest, size)
	}
	if size <= c.cfg.PutPartSize {
		resp, err := c.putStream(ctx, &transport.PutMessage{Path: path, Size: size}, r, size)
		if err != nil {
			return transport.ObjectVersion{}, err
		}
		return resp.Version, nil
	}
	return c.putMultipart(ctx, path, r, size)
}

// putStream sends one Put or UploadPart stream. It tries the owner first
// and fails over to the next nodes only while no byte of r was taken.
func (c *Client) putStream(ctx context.Context, hdr *transport.PutMessage, r io.Reader, size int64) (*transport.WriteResponse, error) {
	var errs []error
	for _, addr := range c.routeAddrs(c.view.Load(), hdr.Path) {
		resp, started, err := c.putOn(ctx, addr, hdr, r, size)
		if err == nil {
			return resp, nil
		}
		err = nodeError(addr, err)
		if he := tlsError(addr, err); he != nil {
			return nil, he
		}
		if started || permanentRPC(err) || ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
		c.askRefresh()
	}
	return nil, fmt.Errorf("%w: %w", ErrNoMembers, errors.Join(errs...))
}

func (c *Client) putOn(ctx context.Context, addr string, hdr *transport.PutMessage, r io.Reader, size int64) (_ *transport.WriteResponse, started bool, err error) {
	wc, err := c.pool.Write(addr)
	if err != nil {
		return nil, false, err
	}
	resp, started, err := transport.SendPut(ctx, wc, hdr, r, size, nil)
	var be *transport.BodyError
	if errors.As(err, &be) {
		return nil, true, fmt.Errorf("%w: reading the body after %d of %d bytes: %w", ErrBadRequest, be.Got, size, be.Err)
	}
	return resp, started, err
}

// routeAddrs are the nodes to try for a call about key, in order: its
// owners on the ring v, then every other member.
func (c *Client) routeAddrs(v *view, key string) []string {
	seen := map[string]bool{}
	var addrs []string
	for _, id := range v.ring.Owners(key, c.cfg.Owners) {
		if a := v.members[id].GRPCAddr; a != "" && !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	for _, a := range c.addrs() {
		if !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// putMultipart uploads r in parts of PutPartSize: Create, one part after
// another (each through the owner, which spools it for the cache fill),
// Complete; any failure aborts the upload.
func (c *Client) putMultipart(ctx context.Context, path string, r io.Reader, size int64) (transport.ObjectVersion, error) {
	parts := (size + c.cfg.PutPartSize - 1) / c.cfg.PutPartSize
	if parts > transport.MaxPartNumber {
		return transport.ObjectVersion{}, fmt.Errorf("%w: %d bytes need %d parts of %d, more than %d", ErrBadRequest, size, parts, c.cfg.PutPartSize, transport.MaxPartNumber)
	}
	var id string
	err := c.onWrite(ctx, path, func(ctx context.Context, wc transport.WriteClient) error {
		resp, err := wc.CreateUpload(ctx, &transport.UploadRequest{Path: path})
		if err == nil {
			id = resp.UploadID
		}
		return err
	})
	if err != nil {
		return transport.ObjectVersion{}, err
	}
	abort := func(cause error) (transport.ObjectVersion, error) {
		actx := context.WithoutCancel(ctx)
		if err := c.onWrite(actx, path, func(ctx context.Context, wc transport.WriteClient) error {
			_, err := wc.AbortUpload(ctx, &transport.UploadRequest{Path: path, UploadID: id})
			return err
		}); err != nil {
			c.log.Warn("abort multipart upload", "path", path, "upload", id, "err", err)
		}
		return transport.ObjectVersion{}, cause
	}
	done := make([]transport.CompletedPart, 0, parts)
	for num := 1; int64(num) <= parts; num++ {
		n := min(c.cfg.PutPartSize, size-int64(num-1)*c.cfg.PutPartSize)
		resp, err := c.putStream(ctx, &transport.PutMessage{Path: path, Size: n, UploadID: id, Part: num}, r, n)
		if err != nil {
			return abort(err)
		}
		done = append(done, transport.CompletedPart{Number: num, ETag: resp.PartETag})
	}
	var one [1]byte
	if k, _ := io.ReadFull(r, one[:]); k > 0 {
		return abort(fmt.Errorf("%w: body longer than %d bytes", ErrBadRequest, size))
	}
	var v transport.ObjectVersion
	err = c.onWrite(ctx, path, func(ctx context.Context, wc transport.WriteClient) error {
		resp, err := wc.CompleteUpload(ctx, &transport.CompleteRequest{Path: path, UploadID: id, Parts: done})
		if err == nil {
			v = resp.Version
		}
		return err
	})
	if err != nil {
		return abort(err)
	}
	return v, nil
}

// onWrite runs a unary write call on path's owner, failing over to the
// next nodes while the error is not permanent. Writes may take long (a
// Complete of many parts): the caller's context bounds them.
func (c *Client) onWrite(ctx context.Context, path string, call func(context.Context, transport.WriteClient) error) error {
	return c.tryNodes(ctx, path, func(addr string) error {
		wc, err := c.pool.Write(addr)
		if err != nil {
			return err
		}
		return nodeError(addr, call(ctx, wc))
	})
}
