package transport

import (
	"context"

	"google.golang.org/grpc"
)

// WriteServer is the write service; the node implements it when its
// under-store takes writes.
type WriteServer interface {
	// Put and UploadPart read PutMessages until End and answer once the
	// under-store has acknowledged the write.
	Put(grpc.ClientStreamingServer[PutMessage, WriteResponse]) error
	UploadPart(grpc.ClientStreamingServer[PutMessage, WriteResponse]) error
	Delete(context.Context, *DeleteRequest) (*WriteResponse, error)
	Copy(context.Context, *CopyRequest) (*WriteResponse, error)
	CreateUpload(context.Context, *UploadRequest) (*UploadResponse, error)
	CompleteUpload(context.Context, *CompleteRequest) (*WriteResponse, error)
	AbortUpload(context.Context, *UploadRequest) (*WriteResponse, error)
	ListParts(context.Context, *ListPartsRequest) (*ListPartsResponse, error)
	ListUploads(context.Context, *ListUploadsRequest) (*ListUploadsResponse, error)
}

func writeUnary[Req any, Res any](name string, call func(WriteServer, context.Context, *Req) (*Res, error)) grpc.MethodDesc {
	return unaryMethod(WriteServiceName, name, call)
}

func writeStream(name string, call func(WriteServer, grpc.ClientStreamingServer[PutMessage, WriteResponse]) error) grpc.StreamDesc {
	return grpc.StreamDesc{
		StreamName:    name,
		ClientStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			return call(srv.(WriteServer), &grpc.GenericServerStream[PutMessage, WriteResponse]{ServerStream: stream})
		},
	}
}

// WriteServiceDesc is the hand-written descriptor of the write service.
var WriteServiceDesc = grpc.ServiceDesc{
	ServiceName: WriteServiceName,
	HandlerType: (*WriteServer)(nil),
	Methods: []grpc.MethodDesc{
		writeUnary("Delete", WriteServer.Delete),
		writeUnary("Copy", WriteServer.Copy),
		writeUnary("CreateUpload", WriteServer.CreateUpload),
		writeUnary("CompleteUpload", WriteServer.CompleteUpload),
		writeUnary("AbortUpload", WriteServer.AbortUpload),
		writeUnary("ListParts", WriteServer.ListParts),
		writeUnary("ListUploads", WriteServer.ListUploads),
	},
	Streams: []grpc.StreamDesc{
		writeStream("Put", WriteServer.Put),
		writeStream("UploadPart", WriteServer.UploadPart),
	},
	Metadata: "ringcache/v1/write (hand-written, msgpack)",
}

// WriteClient is the client stub of the write service.
type WriteClient interface {
	Put(ctx context.Context, opts ...grpc.CallOption) (grpc.ClientStreamingClient[PutMessage, WriteResponse], error)
	UploadPart(ctx context.Context, opts ...grpc.CallOption) (grpc.ClientStreamingClient[PutMessage, WriteResponse], error)
	Delete(ctx context.Context, in *DeleteRequest, opts ...grpc.CallOption) (*WriteResponse, error)
	Copy(ctx context.Context, in *CopyRequest, opts ...grpc.CallOption) (*WriteResponse, error)
	CreateUpload(ctx context.Context, in *UploadRequest, opts ...grpc.CallOption) (*UploadResponse, error)
	CompleteUpload(ctx context.Context, in *CompleteRequest, opts ...grpc.CallOption) (*WriteResponse, error)
	AbortUpload(ctx context.Context, in *UploadRequest, opts ...grpc.CallOption) (*WriteResponse, error)
	ListParts(ctx context.Context, in *ListPartsRequest, opts ...grpc.CallOption) (*ListPartsResponse, error)
	ListUploads(ctx context.Context, in *ListUploadsRequest, opts ...grpc.CallOption) (*ListUploadsResponse, error)
}

// NewWriteClient returns the stub over cc (which must force the msgpack
// codec, as Dial does).
func NewWriteClient(cc grpc.ClientConnInterface) WriteClient { return writeClient{cc} }

type writeClient struct{ cc grpc.ClientConnInterface }

func (c writeClient) openPut(ctx context.Context, desc *grpc.StreamDesc, method string, opts []grpc.CallOption) (grpc.ClientStreamingClient[PutMessage, WriteResponse], error) {
	stream, err := c.cc.NewStream(ctx, desc, method, opts...)
	if err != nil {
		return nil, err
	}
	return &grpc.GenericClientStream[PutMessage, WriteResponse]{ClientStream: stream}, nil
}

func (c writeClient) Put(ctx context.Context, opts ...grpc.CallOption) (grpc.ClientStreamingClient[PutMessage, WriteResponse], error) {
	return c.openPut(ctx, &WriteServiceDesc.Streams[0], MethodPut, opts)
}

func (c writeClient) UploadPart(ctx context.Context, opts ...grpc.CallOption) (grpc.ClientStreamingClient[PutMessage, WriteResponse], error) {
	return c.openPut(ctx, &WriteServiceDesc.Streams[1], MethodUploadPart, opts)
}

func (c writeClient) Delete(ctx context.Context, in *DeleteRequest, opts ...grpc.CallOption) (*WriteResponse, error) {
	return invoke[WriteResponse](ctx, c.cc, MethodDelete, in, opts)
}

func (c writeClient) Copy(ctx context.Context, in *CopyRequest, opts ...grpc.CallOption) (*WriteResponse, error) {
	return invoke[WriteResponse](ctx, c.cc, MethodCopy, in, opts)
}

func (c writeClient) CreateUpload(ctx context.Context, in *UploadRequest, opts ...grpc.CallOption) (*UploadResponse, error) {
	return invoke[UploadResponse](ctx, c.cc, MethodCreateUpload, in, opts)
}

func (c writeClient) CompleteUpload(ctx context.Context, in *CompleteRequest, opts ...grpc.CallOption) (*WriteResponse, error) {
	return invoke[WriteResponse](ctx, c.cc, MethodCompleteUpload, in, opts)
}

func (c writeClient) AbortUpload(ctx context.Context, in *UploadRequest, opts ...grpc.CallOption) (*WriteResponse, error) {
	return invoke[WriteResponse](ctx, c.cc, MethodAbortUpload, in, opts)
}

func (c writeClient) ListParts(ctx context.Context, in *ListPartsRequest, opts ...grpc.CallOption) (*ListPartsResponse, error) {
	return invoke[ListPartsResponse](ctx, c.cc, MethodListParts, in, opts)
}

func (c writeClient) ListUploads(ctx context.Context, in *ListUploadsRequest, opts ...grpc.CallOption) (*ListUploadsResponse, error) {
	return invoke[ListUploadsResponse](ctx, c.cc, MethodListUploads, in, opts)
}
