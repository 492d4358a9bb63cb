package node

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// The write service (transport.WriteServer): the receiving side of the
// forwards in write.go and of the SDK's Put. A request without NoForward
// is routed as a gateway write is; with it, this node writes itself.

// writeService is the node's transport.WriteServer (a type of its own:
// its methods share names with the node's gateway.Writer methods).
type writeService struct{ n *Node }

var _ transport.WriteServer = writeService{}

// streamBody reads a Put stream's body: the first message's data, then
// each following message's, until End. A stream that ends without End
// fails the read, so the under-store write it feeds is aborted.
type streamBody struct {
	stream  grpc.ClientStreamingServer[transport.PutMessage, transport.WriteResponse]
	pending []byte
	ended   bool
}

func (b *streamBody) Read(p []byte) (int, error) {
	for len(b.pending) == 0 {
		if b.ended {
			return 0, io.EOF
		}
		m, err := b.stream.Recv()
		if errors.Is(err, io.EOF) {
			return 0, errWriteAborted
		}
		if err != nil {
			return 0, err
		}
		if m.Path != "" || m.Size != 0 || m.UploadID != "" {
			return 0, fmt.Errorf("%w: header repeated inside a write stream", understore.ErrBadRequest)
		}
		b.pending, b.ended = m.Data, m.End
	}
	k := copy(p, b.pending)
	b.pending = b.pending[k:]
	return k, nil
}

// recvHeader reads a write stream's first message.
func recvHeader(stream grpc.ClientStreamingServer[transport.PutMessage, transport.WriteResponse]) (*transport.PutMessage, *streamBody, error) {
	first, err := stream.Recv()
	if err != nil {
		return nil, nil, err
	}
	if first.Path == "" {
		return nil, nil, fmt.Errorf("%w: write stream without a path", understore.ErrBadRequest)
	}
	return first, &streamBody{stream: stream, pending: first.Data, ended: first.End}, nil
}

// Put implements transport.WriteServer.
func (w writeService) Put(stream grpc.ClientStreamingServer[transport.PutMessage, transport.WriteResponse]) error {
	n := w.n
	hdr, body, err := recvHeader(stream)
	if err != nil {
		return writeRPCError(err)
	}
	if hdr.UploadID != "" || hdr.Part != 0 {
		return writeRPCError(fmt.Errorf("%w: a part sent to Put", understore.ErrBadRequest))
	}
	ctx := stream.Context()
	var info understore.ObjectInfo
	if hdr.NoForward {
		if err = checkWritePath(hdr.Path); err == nil {
			info, err = n.putHere(ctx, hdr.Path, body, hdr.Size, n.writeOwner(hdr.Path) == "")
		}
	} else {
		info, err = n.PutObject(ctx, hdr.Path, body, hdr.Size)
	}
	if err != nil {
		return writeRPCError(err)
	}
	return stream.SendAndClose(&transport.WriteResponse{Version: versionOf(info), RingVersion: n.ring().Version()})
}

// UploadPart implements transport.WriteServer.
func (w writeService) UploadPart(stream grpc.ClientStreamingServer[transport.PutMessage, transport.WriteResponse]) error {
	n := w.n
	hdr, body, err := recvHeader(stream)
	if err != nil {
		return writeRPCError(err)
	}
	if hdr.UploadID == "" || hdr.Part < 1 {
		return writeRPCError(fmt.Errorf("%w: UploadPart needs an upload ID and a part number", understore.ErrBadRequest))
	}
	ctx := stream.Context()
	var part understore.PartInfo
	if hdr.NoForward {
		if err = checkWritePath(hdr.Path); err == nil {
			part, err = n.uploadPartHere(ctx, hdr.Path, hdr.UploadID, hdr.Part, body, hdr.Size, n.writeOwner(hdr.Path) == "")
		}
	} else {
		part, err = n.UploadPart(ctx, hdr.Path, hdr.UploadID, hdr.Part, body, hdr.Size)
	}
	if err != nil {
		return writeRPCError(err)
	}
	return stream.SendAndClose(&transport.WriteResponse{PartETag: part.ETag, Version: transport.ObjectVersion{Size: part.Size, ModTime: part.ModTime},
		RingVersion: n.ring().Version()})
}

// Delete implements transport.WriteServer.
func (w writeService) Delete(ctx context.Context, req *transport.DeleteRequest) (*transport.WriteResponse, error) {
	n := w.n
	var err error
	if req.NoForward {
		err = n.deleteHere(ctx, req.Path)
	} else {
		err = n.DeleteObject(ctx, req.Path)
	}
	if err != nil {
		return nil, writeRPCError(err)
	}
	return &transport.WriteResponse{RingVersion: n.ring().Version()}, nil
}

// Copy implements transport.WriteServer.
func (w writeService) Copy(ctx context.Context, req *transport.CopyRequest) (*transport.WriteResponse, error) {
	n := w.n
	var info understore.ObjectInfo
	var err error
	if req.NoForward {
		info, err = n.copyHere(ctx, req.Src, req.Dst, req.IfMatch)
	} else {
		info, err = n.CopyObject(ctx, req.Src, req.Dst, understore.ObjectInfo{ETag: req.IfMatch})
	}
	if err != nil {
		return nil, writeRPCError(err)
	}
	return &transport.WriteResponse{Version: versionOf(info), RingVersion: n.ring().Version()}, nil
}

// CreateUpload implements transport.WriteServer.
func (w writeService) CreateUpload(ctx context.Context, req *transport.UploadRequest) (*transport.UploadResponse, error) {
	n := w.n
	id, err := n.CreateUpload(ctx, req.Path)
	if err != nil {
		return nil, writeRPCError(err)
	}
	return &transport.UploadResponse{UploadID: id}, nil
}

// CompleteUpload implements transport.WriteServer.
func (w writeService) CompleteUpload(ctx context.Context, req *transport.CompleteRequest) (*transport.WriteResponse, error) {
	n := w.n
	parts := make([]understore.CompletedPart, len(req.Parts))
	for i, p := range req.Parts {
		parts[i] = understore.CompletedPart{Number: p.Number, ETag: p.ETag}
	}
	var info understore.ObjectInfo
	var err error
	if req.NoForward {
		info, err = n.completeHere(ctx, req.Path, req.UploadID, parts)
	} else {
		info, err = n.CompleteUpload(ctx, req.Path, req.UploadID, parts)
	}
	if err != nil {
		return nil, writeRPCError(err)
	}
	return &transport.WriteResponse{Version: versionOf(info), RingVersion: n.ring().Version()}, nil
}

// AbortUpload implements transport.WriteServer.
func (w writeService) AbortUpload(ctx context.Context, req *transport.UploadRequest) (*transport.WriteResponse, error) {
	n := w.n
	var err error
	if req.UploadID == "" {
		err = fmt.Errorf("%w: no upload ID", understore.ErrBadRequest)
	} else if req.NoForward {
		err = n.abortHere(ctx, req.Path, req.UploadID)
	} else {
		err = n.AbortUpload(ctx, req.Path, req.UploadID)
	}
	if err != nil {
		return nil, writeRPCError(err)
	}
	return &transport.WriteResponse{RingVersion: n.ring().Version()}, nil
}

// ListParts implements transport.WriteServer.
func (w writeService) ListParts(ctx context.Context, req *transport.ListPartsRequest) (*transport.ListPartsResponse, error) {
	pg, err := w.n.ListParts(ctx, req.Path, req.UploadID, req.Marker, req.Limit)
	if err != nil {
		return nil, writeRPCError(err)
	}
	resp := &transport.ListPartsResponse{NextMarker: pg.NextMarker, Truncated: pg.Truncated}
	for _, p := range pg.Parts {
		resp.Parts = append(resp.Parts, transport.PartInfo{Number: p.Number, Size: p.Size, ETag: p.ETag, ModTime: p.ModTime})
	}
	return resp, nil
}

// ListUploads implements transport.WriteServer.
func (w writeService) ListUploads(ctx context.Context, req *transport.ListUploadsRequest) (*transport.ListUploadsResponse, error) {
	pg, err := w.n.ListUploads(ctx, req.Prefix, req.Delimiter, req.KeyMarker, req.UploadIDMarker, req.Limit)
	if err != nil {
		return nil, writeRPCError(err)
	}
	resp := &transport.ListUploadsResponse{Prefixes: pg.Prefixes, NextKeyMarker: pg.NextKeyMarker,
		NextUploadIDMarker: pg.NextUploadIDMarker, Truncated: pg.Truncated}
	for _, u := range pg.Uploads {
		resp.Uploads = append(resp.Uploads, transport.UploadInfo{Path: u.Path, UploadID: u.UploadID, Initiated: u.Initiated})
	}
	return resp, nil
}
