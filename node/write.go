package node

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// Writes through the cluster: what the S3 gateway (gateway.Writer) and the
// write RPCs call. Each write of a path goes to its owner (write_owner.go),
// which writes through to the under-store and fills its cache. When the
// owner cannot be reached before any byte of the body was taken, this node
// writes through itself, without a cache fill, and still tells every
// member; a write whose body was already streaming fails instead (the body
// cannot be read twice) and the client retries it, as S3 clients do on a
// 503.

// checkWritePath refuses a bad path before anything is sent.
func checkWritePath(p string) error {
	if err := transport.ValidateWritePath(p); err != nil {
		return fmt.Errorf("%w: %w", understore.ErrBadPath, err)
	}
	return nil
}

// writeOwner is the owner to forward a write of p to, or "" to write here.
func (n *Node) writeOwner(p string) string {
	owner := n.ring().Owner(p)
	if owner == n.id {
		return ""
	}
	return owner
}

// peerWrite returns the write client of a member.
func (n *Node) peerWrite(id string) (transport.WriteClient, error) {
	m, ok := n.members.Member(id)
	if !ok || m.Meta.GRPCAddr == "" {
		return nil, fmt.Errorf("%w: member %s unknown", transport.ErrUnavailable, id)
	}
	return n.peers.Write(m.Meta.GRPCAddr)
}

// PutObject writes exactly size bytes of body at path through its owner
// and returns the new version. A body that fails (a bad digest, a client
// gone) aborts the write: the under-store keeps the old object.
func (n *Node) PutObject(ctx context.Context, path string, body io.Reader, size int64) (understore.ObjectInfo, error) {
	if err := checkWritePath(path); err != nil {
		return understore.ObjectInfo{}, err
	}
	if size < 0 || size > transport.MaxPutSize {
		return understore.ObjectInfo{}, fmt.Errorf("%w: object of %d bytes outside 0..%d", understore.ErrBadRequest, size, int64(transport.MaxPutSize))
	}
	if owner := n.writeOwner(path); owner != "" {
		v, started, err := n.streamTo(ctx, owner, &transport.PutMessage{Path: path, Size: size, NoForward: true}, body, size)
		if err != nil && (started || permanentWrite(err)) {
			return understore.ObjectInfo{}, err
		}
		if err == nil {
			return infoOf(path, v.Version), nil
		}
		n.log.Warn("write owner unreachable; writing through here", "owner", owner, "path", path, "err", err)
		return n.putHere(ctx, path, body, size, false)
	}
	return n.putHere(ctx, path, body, size, true)
}

// UploadPart uploads part num of an upload through the path's owner.
func (n *Node) UploadPart(ctx context.Context, path, uploadID string, num int, body io.Reader, size int64) (understore.PartInfo, error) {
	if err := checkWritePath(path); err != nil {
		return understore.PartInfo{}, err
	}
	if num < 1 || num > transport.MaxPartNumber || size < 0 || size > transport.MaxPutSize || uploadID == "" {
		return understore.PartInfo{}, fmt.Errorf("%w: part %d of %d bytes (want 1..%d, at most %d bytes)", understore.ErrBadRequest, num, size, transport.MaxPartNumber, int64(transport.MaxPutSize))
	}
	if owner := n.writeOwner(path); owner != "" {
		hdr := &transport.PutMessage{Path: path, Size: size, UploadID: uploadID, Part: num, NoForward: true}
		v, started, err := n.streamTo(ctx, owner, hdr, body, size)
		if err != nil && (started || permanentWrite(err)) {
			return understore.PartInfo{}, err
		}
		if err == nil {
			return understore.PartInfo{Number: num, Size: size, ETag: v.PartETag, ModTime: v.Version.ModTime}, nil
		}
		n.log.Warn("write owner unreachable; uploading the part here", "owner", owner, "path", path, "err", err)
		return n.uploadPartHere(ctx, path, uploadID, num, body, size, false)
	}
	return n.uploadPartHere(ctx, path, uploadID, num, body, size, true)
}

// streamTo sends a Put or UploadPart stream to owner (transport.SendPut).
// started reports that body bytes were taken (the write cannot move
// elsewhere).
func (n *Node) streamTo(ctx context.Context, owner string, hdr *transport.PutMessage, body io.Reader, size int64) (_ *transport.WriteResponse, started bool, err error) {
	wc, err := n.peerWrite(owner)
	if err != nil {
		return nil, false, err
	}
	resp, started, err := transport.SendPut(ctx, wc, hdr, body, size, func() error { return noMoreBody(body, size) })
	var be *transport.BodyError
	switch {
	case err == nil:
		return resp, true, nil
	case errors.As(err, &be):
		return nil, true, bodyError(be.Err, be.Got, size)
	default:
		return nil, started, writeErrorFromRPC(err)
	}
}

// bodyError names a body that failed after got of size bytes.
func bodyError(err error, got, size int64) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: body ended after %d of %d bytes", understore.ErrBadRequest, got, size)
	}
	return err
}

// noMoreBody refuses a body longer than its declared size.
func noMoreBody(body io.Reader, size int64) error {
	var one [1]byte
	k, err := io.ReadFull(body, one[:])
	if k > 0 {
		return fmt.Errorf("%w: body longer than %d bytes", understore.ErrBadRequest, size)
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	return nil
}

func infoOf(path string, v transport.ObjectVersion) understore.ObjectInfo {
	return understore.ObjectInfo{Path: path, Size: v.Size, ETag: v.ETag, ModTime: v.ModTime, MetaFP: v.MetaFP}
}

func versionOf(info understore.ObjectInfo) transport.ObjectVersion {
	return transport.ObjectVersion{Size: info.Size, ETag: info.ETag, ModTime: info.ModTime, MetaFP: info.MetaFP}
}

// onOwner runs a unary write on the path's owner, or here when this node
// owns it or the owner cannot be reached.
func onOwner[T any](n *Node, ctx context.Context, p string, remote func(context.Context, transport.WriteClient) (T, error), here func() (T, error)) (T, error) {
	owner := n.writeOwner(p)
	if owner == "" {
		return here()
	}
	wc, err := n.peerWrite(owner)
	if err == nil {
		var v T
		// Writes may take long (a large Complete or Copy): the caller's
		// deadline, not ForwardTimeout, bounds them.
		if v, err = remote(ctx, wc); err == nil {
			return v, nil
		}
		err = writeErrorFromRPC(err)
		if permanentWrite(err) || ctx.Err() != nil {
			return v, err
		}
	}
	n.log.Warn("write owner unreachable; writing through here", "owner", owner, "path", p, "err", err)
	return here()
}

// DeleteObject deletes path at the under-store and every cached copy;
// deleting a missing object succeeds, as in S3.
func (n *Node) DeleteObject(ctx context.Context, path string) error {
	if err := checkWritePath(path); err != nil {
		return err
	}
	_, err := onOwner(n, ctx, path, func(ctx context.Context, wc transport.WriteClient) (*transport.WriteResponse, error) {
		return wc.Delete(ctx, &transport.DeleteRequest{Path: path, NoForward: true})
	}, func() (*transport.WriteResponse, error) { return nil, n.deleteHere(ctx, path) })
	return err
}

// CopyObject makes dst a copy of src (of the version want.ETag names, when
// set), through dst's owner.
func (n *Node) CopyObject(ctx context.Context, src, dst string, want understore.ObjectInfo) (understore.ObjectInfo, error) {
	if err := checkWritePath(src); err != nil {
		return understore.ObjectInfo{}, err
	}
	if err := checkWritePath(dst); err != nil {
		return understore.ObjectInfo{}, err
	}
	return onOwner(n, ctx, dst, func(ctx context.Context, wc transport.WriteClient) (understore.ObjectInfo, error) {
		r, err := wc.Copy(ctx, &transport.CopyRequest{Src: src, Dst: dst, IfMatch: want.ETag, NoForward: true})
		if err != nil {
			return understore.ObjectInfo{}, err
		}
		return infoOf(dst, r.Version), nil
	}, func() (understore.ObjectInfo, error) { return n.copyHere(ctx, src, dst, want.ETag) })
}

// CreateUpload starts a multipart upload of path. The upload's state is
// the under-store's (S3's own upload, or the local store's staging
// directory), so any node may take its parts.
func (n *Node) CreateUpload(ctx context.Context, path string) (string, error) {
	if err := checkWritePath(path); err != nil {
		return "", err
	}
	mp, err := n.multiparter()
	if err != nil {
		return "", err
	}
	id, err := mp.CreateUpload(ctx, path)
	n.metrics.understoreReq.WithLabelValues("create_upload", understoreResult(err)).Inc()
	n.countWrite("create_upload", 0, err)
	return id, err
}

// CompleteUpload completes an upload through the path's owner, which
// fills its cache from the parts it took.
func (n *Node) CompleteUpload(ctx context.Context, path, uploadID string, parts []understore.CompletedPart) (understore.ObjectInfo, error) {
	if err := checkWritePath(path); err != nil {
		return understore.ObjectInfo{}, err
	}
	wire := make([]transport.CompletedPart, len(parts))
	for i, p := range parts {
		wire[i] = transport.CompletedPart{Number: p.Number, ETag: p.ETag}
	}
	return onOwner(n, ctx, path, func(ctx context.Context, wc transport.WriteClient) (understore.ObjectInfo, error) {
		r, err := wc.CompleteUpload(ctx, &transport.CompleteRequest{Path: path, UploadID: uploadID, Parts: wire, NoForward: true})
		if err != nil {
			return understore.ObjectInfo{}, err
		}
		return infoOf(path, r.Version), nil
	}, func() (understore.ObjectInfo, error) { return n.completeHere(ctx, path, uploadID, parts) })
}

// AbortUpload aborts an upload through the path's owner (which drops the
// parts it spooled).
func (n *Node) AbortUpload(ctx context.Context, path, uploadID string) error {
	if err := checkWritePath(path); err != nil {
		return err
	}
	_, err := onOwner(n, ctx, path, func(ctx context.Context, wc transport.WriteClient) (*transport.WriteResponse, error) {
		return wc.AbortUpload(ctx, &transport.UploadRequest{Path: path, UploadID: uploadID, NoForward: true})
	}, func() (*transport.WriteResponse, error) { return nil, n.abortHere(ctx, path, uploadID) })
	return err
}

// ListParts lists an upload's parts (from the under-store: any node).
func (n *Node) ListParts(ctx context.Context, path, uploadID string, marker, limit int) (understore.PartsPage, error) {
	if err := checkWritePath(path); err != nil {
		return understore.PartsPage{}, err
	}
	mp, err := n.multiparter()
	if err != nil {
		return understore.PartsPage{}, err
	}
	pg, err := mp.ListParts(ctx, path, uploadID, marker, limit)
	n.metrics.understoreReq.WithLabelValues("list_parts", understoreResult(err)).Inc()
	return pg, err
}

// ListUploads lists the uploads in progress under prefix.
func (n *Node) ListUploads(ctx context.Context, prefix, delimiter, keyMarker, uploadIDMarker string, limit int) (understore.UploadsPage, error) {
	mp, err := n.multiparter()
	if err != nil {
		return understore.UploadsPage{}, err
	}
	pg, err := mp.ListUploads(ctx, prefix, delimiter, keyMarker, uploadIDMarker, limit)
	n.metrics.understoreReq.WithLabelValues("list_uploads", understoreResult(err)).Inc()
	return pg, err
}
