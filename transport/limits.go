package transport

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Limits on what a peer may send over the control RPCs, so that nobody who
// can reach the port makes a node buffer or build without bound. The package
// doc lists every limit of both protocols in one table ("Limits").

const (
	// MaxMessageSize bounds one gRPC message in either direction, on the
	// server and in the client (grpc.MaxRecvMsgSize / MaxSendMsgSize and the
	// call options of the same names). grpc-go's default receive limit,
	// 4 MiB, is too small for the batches below (100 000 affinity answers of
	// three members each are about 45 MB of msgpack); its default send limit
	// is 2 GiB. A larger message fails with codes.ResourceExhausted and the
	// connection stays usable.
	MaxMessageSize = 64 << 20
	// MaxConcurrentStreams bounds the RPCs in flight on one gRPC connection
	// (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS; grpc-go's default is no
	// limit). A grpc-go client that reaches it waits for a stream to end
	// before it starts the next one; a client that ignores the setting has
	// its extra streams reset (REFUSED_STREAM). WatchRing and Load hold a
	// stream for long, so the limit leaves room for them.
	MaxConcurrentStreams = 256
	// MaxAffinityNodes bounds AffinityRequest.N, the preferred nodes asked
	// for per path.
	MaxAffinityNodes = 1024
	// DefaultAffinityNodes is what an AffinityRequest.N of 0 means.
	DefaultAffinityNodes = 3
	// MaxAffinityResults bounds len(Paths) * N of one AffinityRequest (N = 0
	// counting as DefaultAffinityNodes): the member entries the node may
	// have to build for one answer, which keeps the answer under
	// MaxMessageSize for ordinary member metadata.
	MaxAffinityResults = MaxAffinityPaths * DefaultAffinityNodes
)

// The keepalive rules of the gRPC server. A client may ping at most every
// KeepaliveMinPing, with or without RPCs in flight (pooled connections sit
// idle); one that pings more often is sent GOAWAY (ENHANCE_YOUR_CALM) and
// its connection is closed, so a ping flood costs the node one connection.
// The server itself pings a connection idle for KeepaliveIdle and closes it
// when no answer comes within KeepaliveTimeout, which frees the streams
// (WatchRing) of a peer that vanished without closing its socket.
const (
	KeepaliveMinPing = 10 * time.Second
	KeepaliveIdle    = 2 * time.Minute
	KeepaliveTimeout = 20 * time.Second
)

// DefaultIdleTimeout is how long a page-stream connection may wait between
// requests, or take to send one request frame, before the server closes it
// (ServerConfig.IdleTimeout). A pooled client connection the server closed
// while idle is redialled on its next read (Client.Read retries once).
const DefaultIdleTimeout = 5 * time.Minute

// Buffers and flow-control windows of the gRPC connections, sized for the
// write RPCs, which stream object bodies in 1 MiB messages: grpc-go's
// 32 KiB write buffer costs a write(2) per two 16 KiB frames (4,096 calls
// for a 64 MiB body), and its 64 KiB initial window makes a stream wait
// for window updates until BDP estimation grows it. Fixed windows turn BDP
// estimation off; on the LAN links between nodes these are above what it
// settles on.
const (
	connBufferSize   = 1 << 20
	streamWindowSize = 8 << 20
	connWindowSize   = 32 << 20
)

// serverLimits are the grpc.ServerOptions of the limits above.
func serverLimits() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.WriteBufferSize(connBufferSize),
		grpc.ReadBufferSize(connBufferSize),
		grpc.InitialWindowSize(streamWindowSize),
		grpc.InitialConnWindowSize(connWindowSize),
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.MaxConcurrentStreams(MaxConcurrentStreams),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             KeepaliveMinPing,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    KeepaliveIdle,
			Timeout: KeepaliveTimeout,
		}),
	}
}

// clientLimits are the client's side of MaxMessageSize: an answer up to it
// is accepted (grpc-go's default is 4 MiB), and a request over it fails on
// the client with codes.ResourceExhausted before it is sent.
func clientLimits() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageSize),
			grpc.MaxCallSendMsgSize(MaxMessageSize),
		),
		grpc.WithWriteBufferSize(connBufferSize),
		grpc.WithReadBufferSize(connBufferSize),
		grpc.WithInitialWindowSize(streamWindowSize),
		grpc.WithInitialConnWindowSize(connWindowSize),
	}
}
