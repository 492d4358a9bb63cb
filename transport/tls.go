package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// TLS on the port: the server wraps every accepted connection with
// tls.Server itself and tells the page stream from gRPC by the first bytes
// inside the TLS stream, so both protocols keep sharing one port. gRPC then
// gets a connection that is already TLS: tlsInfoCreds hands it over as is
// and reports its handshake state as credentials.TLSInfo, so interceptors
// see the peer's verified certificate through the usual peer.FromContext.
// (Letting gRPC do the handshake itself, with credentials.NewTLS, would
// mean sniffing before TLS, which cannot tell the two protocols apart.)

// tlsRecordHandshake is the first byte of every TLS connection (a
// handshake record holding the ClientHello).
const tlsRecordHandshake = 0x16

// requireTLSMessage answers a plaintext page-stream client of a TLS port.
const requireTLSMessage = "this node requires TLS: give the client --tls-ca (and --tls-cert, --tls-key)"

// plaintextMessage answers a TLS client of a plaintext port.
const plaintextMessage = "ringcache: this port is plaintext (the node runs without --tls-cert)\n"

// handshake runs the server side of TLS on conn within the sniff deadline.
// A connection that starts with something other than a TLS record is
// returned with ok false and what it sent first in head (a plaintext
// client: see sniff).
func (s *Server) handshake(conn net.Conn) (tc *serverTLSConn, head []byte, ok bool) {
	deadline := time.Now().Add(s.cfg.SniffTimeout)
	_ = conn.SetDeadline(deadline)
	var b [len(StreamMagic)]byte
	n, err := io.ReadAtLeast(conn, b[:], 1)
	if err != nil {
		return nil, nil, false
	}
	if b[0] != tlsRecordHandshake {
		m, _ := io.ReadFull(conn, b[n:])
		return nil, b[:n+m], false
	}
	batch := &batchConn{Conn: &prefixConn{Conn: conn, head: b[:n]}}
	tc = &serverTLSConn{Conn: tls.Server(batch, s.cfg.TLS), batch: batch}
	ctx, cancel := context.WithDeadline(s.baseCtx, deadline)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		s.log.Debug("TLS handshake refused", "remote", conn.RemoteAddr(), "err", err)
		lingerClose(conn)
		return nil, nil, false
	}
	_ = conn.SetWriteDeadline(time.Time{}) // the read deadline stays for the sniff
	return tc, nil, true
}

// lingerClose closes a connection whose handshake failed so that the
// client reads the alert crypto/tls sent: it stops writing, then reads
// what the client still sends (a TLS 1.3 client writes its first request
// before it learns that its certificate was refused) for up to a second.
// Closing with those bytes unread would reset the connection, and the
// client would see a broken pipe instead of the alert.
func lingerClose(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
	}
	conn.Close()
}

// serverTLSConn is an accepted TLS connection and the batching writer
// under it.
type serverTLSConn struct {
	*tls.Conn
	batch *batchConn
}

// batchConn is the connection under a server's tls.Conn. crypto/tls writes
// every record (16 KiB at most) with its own write system call; while
// batching, batchConn gathers them and end sends them with one, which on
// the page stream costs one copy of the ciphertext but saves 15 system
// calls in 16 (measured: see BenchmarkTLSVsPlain). Outside a batch it
// writes through. Only the stream connection's one writer goroutine
// batches; a concurrent writer (Close's close_notify) takes tls.Conn's
// lock first, so at worst its record joins the batch and is sent with it.
type batchConn struct {
	net.Conn
	mu       sync.Mutex
	batching bool
	buf      []byte
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.batching {
		c.buf = append(c.buf, p...)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// begin starts gathering records.
func (c *batchConn) begin() {
	c.mu.Lock()
	c.batching = true
	c.mu.Unlock()
}

// end sends what was gathered since begin and writes through again.
func (c *batchConn) end() error {
	c.mu.Lock()
	c.batching = false
	buf := c.buf
	c.buf = c.buf[:0]
	c.mu.Unlock()
	if len(buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(buf)
	return err
}

// prefixConn replays head before reading the connection: the bytes the
// server read to see whether a client speaks TLS at all.
type prefixConn struct {
	net.Conn
	head []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// tlsInfoCreds are the gRPC server credentials of a TLS port whose
// connections the Server has already wrapped: ServerHandshake does no
// handshake, it reports the one done.
type tlsInfoCreds struct{}

func (tlsInfoCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	inner := conn
	if sc, ok := conn.(*sniffedConn); ok {
		inner = sc.Conn
	}
	tc, ok := inner.(*serverTLSConn)
	if !ok {
		return nil, nil, fmt.Errorf("%w: a connection without TLS reached gRPC", ErrTLS)
	}
	return conn, credentials.TLSInfo{State: tc.ConnectionState(), CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}, nil
}

func (tlsInfoCreds) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("transport: tlsInfoCreds are server credentials")
}

func (tlsInfoCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls"}
}

func (c tlsInfoCreds) Clone() credentials.TransportCredentials { return c }

func (tlsInfoCreds) OverrideServerName(string) error { return nil }

// dialTLS runs the client side of TLS on a fresh stream connection to
// addr. The server name is addr's host unless cfg names one.
func dialTLS(ctx context.Context, conn net.Conn, addr string, cfg *tls.Config) (*tls.Conn, error) {
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		if tlsFailure(err) {
			return nil, fmt.Errorf("%w with %s: %w", ErrTLS, addr, err)
		}
		return nil, fmt.Errorf("%w: TLS with %s: %w", ErrUnavailable, addr, err)
	}
	return tc, nil
}

// tlsFailure says err is TLS refusing the other side (a certificate, a
// protocol mismatch), as opposed to the network failing under it.
func tlsFailure(err error) bool {
	var cve *tls.CertificateVerificationError
	var rhe tls.RecordHeaderError
	var alert tls.AlertError
	var op *net.OpError
	return errors.As(err, &cve) || errors.As(err, &rhe) || errors.As(err, &alert) ||
		(errors.As(err, &op) && op.Op == "remote error")
}

// tlsUnauthenticated makes a unary call that failed because TLS refused
// the connection codes.Unauthenticated instead of Unavailable: the retry
// interceptor around it then gives up at once (a handshake refused once is
// refused again) and callers can tell it from a node that is down. gRPC
// reports connection errors as text, so the text is what is looked at.
func tlsUnauthenticated(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if st, ok := status.FromError(err); ok && st.Code() == codes.Unavailable && IsTLSMessage(st.Message()) {
		return status.Error(codes.Unauthenticated, st.Message())
	}
	return err
}

// IsTLSMessage says an error text is crypto/tls refusing a connection.
func IsTLSMessage(msg string) bool {
	return strings.Contains(msg, "tls: ") || strings.Contains(msg, "x509: ")
}

// ProbeRequiresTLS asks the node at addr, over plaintext, whether it
// requires TLS: a TLS port answers a plaintext page-stream request with
// StatusAccessDenied and a message saying so (Server.refusePlaintext). A
// plaintext client whose gRPC calls fail uses it to tell "this node wants
// TLS" from "this node is down"; gRPC alone sees only a closed connection.
func (c *Client) ProbeRequiresTLS(ctx context.Context, addr string) bool {
	if c.cfg.TLS != nil {
		return false
	}
	var b [1]byte
	_, err := c.ReadWithin(ctx, addr, &ReadRequest{Path: "ringcache/tls-probe", Length: 1, Flags: FlagCachedOnly | FlagNoForward}, b[:], 2*time.Second)
	return errors.Is(err, ErrAccessDenied) && strings.Contains(err.Error(), requireTLSMessage)
}
