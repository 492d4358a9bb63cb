package transport

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ControlServiceName is the gRPC service of the control RPCs.
const ControlServiceName = "ringcache.v1.Control"

// Full method names.
const (
	MethodMembers    = "/" + ControlServiceName + "/Members"
	MethodWatchRing  = "/" + ControlServiceName + "/WatchRing"
	MethodStat       = "/" + ControlServiceName + "/Stat"
	MethodInvalidate = "/" + ControlServiceName + "/Invalidate"
	MethodLoad       = "/" + ControlServiceName + "/Load"
	MethodPin        = "/" + ControlServiceName + "/Pin"
	MethodAffinity   = "/" + ControlServiceName + "/Affinity"
	MethodAssign     = "/" + ControlServiceName + "/Assign"
)

// ControlServer is the control service; the node implements it. Embed
// UnimplementedControlServer so that methods added later (Put, the
// peer-to-peer page read for warm handoff) do not break the build.
type ControlServer interface {
	Members(context.Context, *MembersRequest) (*MembersResponse, error)
	// WatchRing sends the current members, then every change, until the
	// stream's context ends.
	WatchRing(*WatchRequest, grpc.ServerStreamingServer[MembersResponse]) error
	Stat(context.Context, *StatRequest) (*StatResponse, error)
	Invalidate(context.Context, *InvalidateRequest) (*InvalidateResponse, error)
	Load(*LoadRequest, grpc.ServerStreamingServer[LoadProgress]) error
	Pin(context.Context, *PinRequest) (*PinResponse, error)
	Affinity(context.Context, *AffinityRequest) (*AffinityResponse, error)
	Assign(context.Context, *AssignRequest) (*AssignResponse, error)
	// The gossip keyring of every live member (keyring.go).
	KeyringList(context.Context, *KeyringListRequest) (*KeyringResponse, error)
	KeyringInstall(context.Context, *KeyringChangeRequest) (*KeyringResponse, error)
	KeyringUse(context.Context, *KeyringChangeRequest) (*KeyringResponse, error)
	KeyringRemove(context.Context, *KeyringChangeRequest) (*KeyringResponse, error)
}

// UnimplementedControlServer answers every method with codes.Unimplemented.
type UnimplementedControlServer struct{}

func unimplemented(m string) error { return status.Error(codes.Unimplemented, m+" is not implemented") }

// Members is not implemented.
func (UnimplementedControlServer) Members(context.Context, *MembersRequest) (*MembersResponse, error) {
	return nil, unimplemented("Members")
}

// WatchRing is not implemented.
func (UnimplementedControlServer) WatchRing(*WatchRequest, grpc.ServerStreamingServer[MembersResponse]) error {
	return unimplemented("WatchRing")
}

// Stat is not implemented.
func (UnimplementedControlServer) Stat(context.Context, *StatRequest) (*StatResponse, error) {
	return nil, unimplemented("Stat")
}

// Invalidate is not implemented.
func (UnimplementedControlServer) Invalidate(context.Context, *InvalidateRequest) (*InvalidateResponse, error) {
	return nil, unimplemented("Invalidate")
}

// Load is not implemented.
func (UnimplementedControlServer) Load(*LoadRequest, grpc.ServerStreamingServer[LoadProgress]) error {
	return unimplemented("Load")
}

// Pin is not implemented.
func (UnimplementedControlServer) Pin(context.Context, *PinRequest) (*PinResponse, error) {
	return nil, unimplemented("Pin")
}

// Affinity is not implemented.
func (UnimplementedControlServer) Affinity(context.Context, *AffinityRequest) (*AffinityResponse, error) {
	return nil, unimplemented("Affinity")
}

// Assign is not implemented.
func (UnimplementedControlServer) Assign(context.Context, *AssignRequest) (*AssignResponse, error) {
	return nil, unimplemented("Assign")
}

func unaryHandler[Req any, Res any](name string, call func(ControlServer, context.Context, *Req) (*Res, error)) grpc.MethodDesc {
	return unaryMethod(ControlServiceName, name, call)
}

// unaryMethod is the descriptor of a unary method of service, served by an
// implementation of S (ControlServer, WriteServer).
func unaryMethod[S any, Req any, Res any](service, name string, call func(S, context.Context, *Req) (*Res, error)) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(Req)
			if err := dec(in); err != nil {
				return nil, err
			}
			if interceptor == nil {
				return call(srv.(S), ctx, in)
			}
			info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + service + "/" + name}
			return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
				return call(srv.(S), ctx, req.(*Req))
			})
		},
	}
}

func serverStream[Req any, Res any](name string, call func(ControlServer, *Req, grpc.ServerStreamingServer[Res]) error) grpc.StreamDesc {
	return grpc.StreamDesc{
		StreamName:    name,
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			in := new(Req)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			return call(srv.(ControlServer), in, &grpc.GenericServerStream[Req, Res]{ServerStream: stream})
		},
	}
}

// ControlServiceDesc is the hand-written service descriptor (no protobuf).
var ControlServiceDesc = grpc.ServiceDesc{
	ServiceName: ControlServiceName,
	HandlerType: (*ControlServer)(nil),
	Methods: []grpc.MethodDesc{
		unaryHandler("Members", ControlServer.Members),
		unaryHandler("Stat", ControlServer.Stat),
		unaryHandler("Invalidate", ControlServer.Invalidate),
		unaryHandler("Pin", ControlServer.Pin),
		unaryHandler("Affinity", ControlServer.Affinity),
		unaryHandler("Assign", ControlServer.Assign),
		unaryHandler("KeyringList", ControlServer.KeyringList),
		unaryHandler("KeyringInstall", ControlServer.KeyringInstall),
		unaryHandler("KeyringUse", ControlServer.KeyringUse),
		unaryHandler("KeyringRemove", ControlServer.KeyringRemove),
	},
	Streams: []grpc.StreamDesc{
		serverStream("WatchRing", ControlServer.WatchRing),
		serverStream("Load", ControlServer.Load),
	},
	Metadata: "ringcache/v1/control (hand-written, msgpack)",
}

// ControlClient is the client stub of the control service.
type ControlClient interface {
	Members(ctx context.Context, in *MembersRequest, opts ...grpc.CallOption) (*MembersResponse, error)
	WatchRing(ctx context.Context, in *WatchRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[MembersResponse], error)
	Stat(ctx context.Context, in *StatRequest, opts ...grpc.CallOption) (*StatResponse, error)
	Invalidate(ctx context.Context, in *InvalidateRequest, opts ...grpc.CallOption) (*InvalidateResponse, error)
	Load(ctx context.Context, in *LoadRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[LoadProgress], error)
	Pin(ctx context.Context, in *PinRequest, opts ...grpc.CallOption) (*PinResponse, error)
	Affinity(ctx context.Context, in *AffinityRequest, opts ...grpc.CallOption) (*AffinityResponse, error)
	Assign(ctx context.Context, in *AssignRequest, opts ...grpc.CallOption) (*AssignResponse, error)
	KeyringList(ctx context.Context, in *KeyringListRequest, opts ...grpc.CallOption) (*KeyringResponse, error)
	KeyringInstall(ctx context.Context, in *KeyringChangeRequest, opts ...grpc.CallOption) (*KeyringResponse, error)
	KeyringUse(ctx context.Context, in *KeyringChangeRequest, opts ...grpc.CallOption) (*KeyringResponse, error)
	KeyringRemove(ctx context.Context, in *KeyringChangeRequest, opts ...grpc.CallOption) (*KeyringResponse, error)
}

// NewControlClient returns the stub over cc. cc must force the msgpack codec
// (Dial does; otherwise pass grpc.ForceCodecV2(Codec{}) per call).
func NewControlClient(cc grpc.ClientConnInterface) ControlClient { return controlClient{cc} }

type controlClient struct{ cc grpc.ClientConnInterface }

func invoke[Res any](ctx context.Context, cc grpc.ClientConnInterface, method string, in any, opts []grpc.CallOption) (*Res, error) {
	out := new(Res)
	if err := cc.Invoke(ctx, method, in, out, opts...); err != nil {
		return nil, err
	}
	return out, nil
}

func openStream[Req any, Res any](ctx context.Context, cc grpc.ClientConnInterface, desc *grpc.StreamDesc, method string, in *Req, opts []grpc.CallOption) (grpc.ServerStreamingClient[Res], error) {
	stream, err := cc.NewStream(ctx, desc, method, opts...)
	if err != nil {
		return nil, err
	}
	x := &grpc.GenericClientStream[Req, Res]{ClientStream: stream}
	if err := x.SendMsg(in); err != nil {
		return nil, err
	}
	if err := x.CloseSend(); err != nil {
		return nil, err
	}
	return x, nil
}

func (c controlClient) Members(ctx context.Context, in *MembersRequest, opts ...grpc.CallOption) (*MembersResponse, error) {
	return invoke[MembersResponse](ctx, c.cc, MethodMembers, in, opts)
}

func (c controlClient) WatchRing(ctx context.Context, in *WatchRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[MembersResponse], error) {
	return openStream[WatchRequest, MembersResponse](ctx, c.cc, &ControlServiceDesc.Streams[0], MethodWatchRing, in, opts)
}

func (c controlClient) Stat(ctx context.Context, in *StatRequest, opts ...grpc.CallOption) (*StatResponse, error) {
	return invoke[StatResponse](ctx, c.cc, MethodStat, in, opts)
}

func (c controlClient) Invalidate(ctx context.Context, in *InvalidateRequest, opts ...grpc.CallOption) (*InvalidateResponse, error) {
	return invoke[InvalidateResponse](ctx, c.cc, MethodInvalidate, in, opts)
}

func (c controlClient) Load(ctx context.Context, in *LoadRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[LoadProgress], error) {
	return openStream[LoadRequest, LoadProgress](ctx, c.cc, &ControlServiceDesc.Streams[1], MethodLoad, in, opts)
}

func (c controlClient) Pin(ctx context.Context, in *PinRequest, opts ...grpc.CallOption) (*PinResponse, error) {
	return invoke[PinResponse](ctx, c.cc, MethodPin, in, opts)
}

func (c controlClient) Affinity(ctx context.Context, in *AffinityRequest, opts ...grpc.CallOption) (*AffinityResponse, error) {
	return invoke[AffinityResponse](ctx, c.cc, MethodAffinity, in, opts)
}

func (c controlClient) Assign(ctx context.Context, in *AssignRequest, opts ...grpc.CallOption) (*AssignResponse, error) {
	return invoke[AssignResponse](ctx, c.cc, MethodAssign, in, opts)
}
