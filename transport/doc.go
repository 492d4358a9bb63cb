// Package transport moves control messages and page bytes between ringcache
// nodes and clients. It owns the wire formats and the connection handling; it
// knows nothing about rings, pages or under-stores beyond the message types.
//
// One TCP port carries two protocols, told apart by the first bytes a client
// sends: gRPC (HTTP/2 preface "PRI * HTTP/2.0...") for the control RPCs of
// service ringcache.v1.Control and the write RPCs of ringcache.v1.Write
// (write.go, writeservice.go: Put and UploadPart stream a body in
// PutMessages to the path's owner, SendPut sends one; registered when
// ServerConfig.Write is set), and the page stream (magic "RCPS") for bytes.
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
// All integers are big-endian; offsets below are from the start of a frame
// body. A connection starts with an 8-byte preface from the client; the
// server does not answer it:
//
//	 0   1   2   3   4         5          8
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
// flags and rsvd are zero in version 1 (a nonzero one closes the
// connection). Frame types and bodies:
//
//	request (1, client -> server): 50 bytes + path + scope + etag
//	[+ 8 bytes read ID when flags bit 31 is set]
//	   0  id              u64   echoed in the response's header
//	   8  offset          i64   first byte wanted
//	  16  length          i64   bytes wanted
//	  24  ring version    u64   the client's; 0 = unknown
//	  32  timeout µs      u64   time left on the client; 0 = none
//	  40  flags           u32   see below
//	  44  path len        u16
//	  46  scope len       u16
//	  48  etag len        u16
//	  50  path | scope | etag   (the lengths above)
//	      read ID         u64   only when flags bit 31 is set; never 0
//
//	  flags (ReadRequest.Flags, except bit 31):
//	    bit 0  (1)   no-forward   already forwarded once: serve it here
//	    bit 1  (2)   no-cache     serve without caching
//	    bit 2  (4)   verify       check cached chunks before sending them
//	    bit 3  (8)   cached-only  only pages cached here, of exactly etag
//	    bit 4  (16)  piece        a later piece of a split read: pages it
//	                              starts inside of are counted by the piece
//	                              before it
//	    bit 5  (32)  mod time     the header ends with the object's
//	                              modification time (below)
//	    bit 31       read ID      the body ends with the 8-byte read ID
//	                              (ReadRequest.ReadID) tying the pieces of
//	                              one split read together
//	    other bits are zero; a server ignores bits it does not know.
//	  etag, when not empty, is the only object version the reader accepts.
//
//	header (2, server -> client): 38 bytes + etag + error
//	   0  id              u64   the request's
//	   8  status          u16   Status (0 = OK)
//	  10  ring version    u64   the serving node's
//	  18  size            i64   object size
//	  26  version         u64   cached version of the object
//	  34  etag len        u16
//	  36  error len       u16
//	  38  etag | error
//	  then, only when the request set the mod-time flag: the object's
//	  modification time, i64 Unix nanoseconds (0 = unknown). A server that
//	  predates the flag ignores it and omits the field.
//
//	segment (3): 16 + 4*n bytes, followed by data len raw bytes that the
//	body length does NOT count (so they can be sent with sendfile)
//	   0  logical offset  i64   the object offset of the first data byte
//	   8  data len        u32   in (0, MaxSegmentLength]
//	  12  chunk size      u32   in [MinChunkSize, MaxSegmentLength]
//	  16  crc32c[n]       u32 each
//	      <data len bytes>
//	  n = ceil(data len / chunk size); crc32c[i] is the CRC-32C (Castagnoli)
//	  of data[i*chunk size : min((i+1)*chunk size, data len)].
//
//	trailer (4): 46 bytes + node + error
//	   0  status          u16   final status of the response
//	   2  bytes local     i64
//	  10  bytes peer      i64
//	  18  bytes understore i64
//	  26  pages hit       u64
//	  34  pages missed    u64
//	  42  node len        u16
//	  44  error len       u16
//	  46  node | error
//
// Statuses: 0 OK, 1 not found, 2 bad request, 3 out of range, 4
// unavailable, 5 deadline exceeded, 6 canceled, 7 internal, 8 changed, 9
// throttled, 10 access denied, 11 too large, 12 corrupt.
//
// Compatibility within version 1: FlagPiece (bit 4) and the read ID (bit 31
// and its suffix) were added after the first release of version 1, without
// a new version, because a request without them is byte for byte the
// original one and means what it meant: a current server answers a client
// that predates them exactly as before (TestOldClientFrame sends such
// frames over a socket). The other way round, a server that predates them
// ignores FlagPiece (only its page counts differ) but refuses a read ID
// suffix as a protocol error and closes the connection: a client that
// splits reads (the SDK's split reads send a read ID) needs servers from
// the same release or later. A server never answers the preface, so a
// change a current server could not read from an old client, or that an
// old server must not be sent, needs version 2.
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
// # Limits
//
// Every input a peer sends has a bound, a named constant and a refusal it
// can tell apart; limits_test.go tests each just inside and just outside.
//
//	gRPC control RPCs (limits.go, messages.go)
//	  message, either direction       MaxMessageSize (64 MiB)      ResourceExhausted
//	  streams per connection          MaxConcurrentStreams (256)   the client waits for a slot
//	  client pings                    at most every KeepaliveMinPing (10s), with or
//	                                  without streams; more: GOAWAY ENHANCE_YOUR_CALM
//	  idle connection                 pinged after KeepaliveIdle (2m), closed without
//	                                  an answer in KeepaliveTimeout (20s)
//	  msgpack shape (codec.go)        nesting 32, one array or map <= MaxAssignSplits
//	                                  entries and <= the bytes left, 2*MaxAssignSplits
//	                                  array elements in all; strings <= the bytes left
//	                                  (internal/msgpackcheck)       Internal ("error
//	                                  unmarshalling request: ... malformed")
//	  fields, checked by each request's Validate, called by the validation
//	  interceptor before the handler:                              InvalidArgument
//	    Members, WatchRing            no fields
//	    Stat                          path: objpath.Validate (<= objpath.MaxLen bytes)
//	    Invalidate, Pin               path or prefix (objpath.ValidatePrefix), not both
//	    Load                          the same, and scope <= objpath.MaxLen
//	    Affinity                      1 to MaxAffinityPaths paths, n in [0,
//	                                  MaxAffinityNodes], paths * n <= MaxAffinityResults
//	                                  (n = 0 counts as DefaultAffinityNodes)
//	    Assign                        <= MaxAssignSplits splits, offsets and lengths
//	                                  >= 0, max load >= 0 and not NaN, every path
//	    Put, UploadPart messages      data <= MaxWriteChunk (1 MiB), size >= 0 and
//	                                  <= MaxPutSize (5 GiB) for a Put, part in
//	                                  [1, MaxPartNumber], upload ID <= MaxUploadIDLen,
//	                                  path ValidateWritePath (a "dir/" marker allowed)
//	    Delete, Copy, uploads         paths ValidateWritePath, <= MaxPartNumber parts,
//	                                  list limits <= MaxListLimit (1000)
//	  connection buffers, windows     1 MiB read/write buffers, 8 MiB stream and
//	                                  32 MiB connection windows (limits.go)
//
//	page stream (frame.go, streamserver.go)
//	  frame body (not a segment's)    MaxFrameBody (64 KiB)        connection closed
//	  path, scope, etag               MaxPathLength each           StatusBadRequest
//	  read length                     ServerConfig.MaxRequestLength
//	                                  (DefaultMaxRequestLength, 256 MiB) StatusTooLarge
//	  negative offset/length, no path                              StatusBadRequest
//	  segment                         MaxSegmentLength, chunk size in
//	                                  [MinChunkSize, MaxSegmentLength]  protocol error
//	  pipelined requests              one served at a time; the rest wait in the
//	                                  socket buffer (TCP flow control), never read
//	                                  ahead into memory
//	  first bytes of a connection     ServerConfig.SniffTimeout (10s)  closed
//	  idle, or a request frame sent   ServerConfig.IdleTimeout (DefaultIdleTimeout,
//	  slowly                          5m; closed after IdleTimeout/2 to IdleTimeout)
//	  a response                      ServerConfig.WriteTimeout (60s), or the
//	                                  request's timeout                deadline
//	  error strings the server sends  8 KiB each (clip)
//
//	elsewhere
//	  POST /v1/affinity/assign        body <= 128 MiB (http.MaxBytesReader),
//	  (node/http.go)                  <= MaxAssignSplits splits      413; bad JSON 400
//	  GET /v1/affinity                n in [1, MaxAffinityNodes], path  400
//	  node meta from gossip           membership.MetaMaxSize (512 bytes, memberlist's),
//	  (node/membership/meta.go)       shape as above (nesting 8)    ErrBadMeta: the
//	                                  peer is refused
//
// Each decoder that reads bytes from the network has a fuzz target with a
// seed corpus in testdata/fuzz: FuzzControlMessages (every message type
// through the codec), FuzzRequest, FuzzHeader, FuzzSegment, FuzzTrailer,
// FuzzResponse (a whole response on the client), FuzzDecodeMeta
// (node/membership) and FuzzCheck (internal/msgpackcheck).
//
// The constants in this comment (magic, version, frame types, field order
// and sizes, status codes) are part of the format: never change them; add a
// new version instead.
package transport
