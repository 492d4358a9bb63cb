// Package transport moves control messages and page bytes between ringcache
// nodes and clients. It owns the wire formats and the connection handling; it
// knows nothing about rings, pages or under-stores beyond the message types.
//
// One TCP port carries two protocols, told apart by the first bytes a client
// sends: gRPC (HTTP/2 preface "PRI * HTTP/2.0...") for the control RPCs of
// service ringcache.v1.Control, and the page stream (magic "RCPS") for bytes.
// A connection that starts with anything else is closed at once.
//
// # Control RPCs
//
// gRPC with a msgpack codec (name "msgpack") passed per call and per server
// (grpc.ForceCodecV2 / grpc.ForceServerCodecV2), so nothing is registered in
// grpc's process-wide codec registry. The service descriptor is written by
// hand (ControlServiceDesc); the messages are the Go structs in messages.go.
// Server interceptors, outermost first: prometheus metrics, slog logging,
// panic recovery (codes.Internal, stack logged locally, never sent), request
// validation (codes.InvalidArgument). Client: a default deadline per call and
// retries of unary calls on codes.Unavailable.
//
// # Page stream wire format
//
// All integers are big-endian. A connection starts with an 8-byte preface
// from the client; the server does not answer it:
//
//	+---+---+---+---+---------+----------+
//	| R | C | P | S | version | 0  0  0  |   version = StreamVersion (1)
//	+---+---+---+---+---------+----------+
//
// Then frames. Every frame has an 8-byte frame header:
//
//	 0      1       2       4                8
//	+------+-------+-------+----------------+----------------------+
//	| type | flags | rsvd  | body length    | body (length bytes)  |
//	+------+-------+-------+----------------+----------------------+
//	  u8     u8      u16     u32
//
// flags and rsvd are zero in version 1. Frame types and bodies:
//
//	request (1, client -> server), 50 bytes + path + scope + etag:
//	  id u64 | offset i64 | length i64 | ring version u64 |
//	  timeout µs u64 (0 = none) | flags u32 | path len u16 | scope len u16 |
//	  etag len u16 | path | scope | etag
//	  flags: 1 no-forward, 2 no-cache, 4 verify, 8 cached-only; etag, when
//	  not empty, is the only object version the reader accepts.
//
//	header (2), 38 bytes + etag + error:
//	  id u64 | status u16 | ring version u64 | size i64 | version u64 |
//	  etag len u16 | error len u16 | etag | error
//
//	segment (3), 16 + 4*n bytes, followed by data len raw bytes that the
//	body length does NOT count (so they can be sent with sendfile):
//	  logical offset i64 | data len u32 | chunk size u32 | crc32c[n] u32 |
//	  <data len bytes>
//	  n = ceil(data len / chunk size); crc32c[i] is the CRC-32C (Castagnoli)
//	  of data[i*chunk size : min((i+1)*chunk size, data len)].
//
//	trailer (4), 46 bytes + node + error:
//	  status u16 | bytes local i64 | bytes peer i64 | bytes understore i64 |
//	  pages hit u64 | pages missed u64 | node len u16 | error len u16 |
//	  node | error
//
// A response is exactly: header, zero or more segments, trailer. A status
// other than StatusOK in the header means no segments follow; a non-OK status
// in the trailer means the response failed after the header (the bytes sent
// so far are not to be trusted as complete). Segments come in increasing
// logical offset, leave no gap inside the requested range, and may extend
// beyond it on either side (chunk-aligned); the client copies only the
// requested bytes but verifies every chunk it receives.
//
// Pipelining: a client may send any number of requests without waiting; the
// server answers them strictly in request order on that connection (it
// serves one request at a time per connection; parallelism comes from using
// several connections). The id is echoed in the header so a client can check
// that it reads the response it expects.
//
// Limits: a frame body other than a segment's is at most MaxFrameBody; a
// request's length at most the server's MaxRequestLength; a path at most
// MaxPathLength; a segment at most MaxSegmentLength bytes with a chunk size
// in [MinChunkSize, MaxSegmentLength]. A frame that breaks these rules closes
// the connection; a well-formed request with bad fields (negative offset,
// length over the limit, empty path) gets a StatusBadRequest response and
// the connection stays usable.
//
// Deadlines: the client sends the time left on its context as the timeout;
// the server serves the request under that timeout (clocks of the two hosts
// need not agree). Cancelling the context on the client closes the
// connection mid-response.
//
// The constants in this comment (magic, version, frame types, field order
// and sizes, status codes) are part of the format: never change them; add a
// new version instead.
package transport
