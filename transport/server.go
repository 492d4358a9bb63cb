package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/validator"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ServerConfig configures a Server. Zero fields take the defaults.
type ServerConfig struct {
	// NodeID goes into every stream trailer as the serving node.
	NodeID string
	// MaxRequestLength bounds a stream read's length. Default 256 MiB.
	MaxRequestLength int64
	// WriteTimeout bounds a stream response when the request carries no
	// timeout, and is the most any response may take. Default 60s.
	WriteTimeout time.Duration
	// SniffTimeout is how long a new connection may take to send its first
	// bytes before it is closed. Default 10s.
	SniffTimeout time.Duration
	// IdleTimeout closes a page-stream connection that sends no request
	// for this long, or takes this long to send one. Default
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Metrics receives the gRPC server metrics; the node registers it in its
	// own prometheus.Registry. nil: a fresh one (see Server.Metrics).
	Metrics *grpcprom.ServerMetrics
	// Logger; nil discards.
	Logger *slog.Logger
	// GRPCOptions are extra grpc.ServerOptions (interceptors, say). TLS is
	// not one of them: set TLS.
	GRPCOptions []grpc.ServerOption
	// TLS, when set, makes the port TLS only: every connection is
	// handshaken with it before its protocol is sniffed (tlsconf's mTLS
	// config requires a client certificate). The page stream is then
	// written through TLS instead of with sendfile. nil: plaintext.
	TLS *tls.Config
	// Write, when set, is registered as the write service (write.go)
	// beside the control service. nil: writes answer Unimplemented.
	Write WriteServer
}

// Defaults of ServerConfig.
const (
	DefaultMaxRequestLength = 256 << 20
	DefaultWriteTimeout     = 60 * time.Second
	DefaultSniffTimeout     = 10 * time.Second
)

func (c ServerConfig) withDefaults() ServerConfig {
	if c.MaxRequestLength == 0 {
		c.MaxRequestLength = DefaultMaxRequestLength
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.SniffTimeout == 0 {
		c.SniffTimeout = DefaultSniffTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	return c
}

// Validate reports a config that cannot work (after defaults).
func (c ServerConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.MaxRequestLength < 0:
		return fmt.Errorf("%w: negative MaxRequestLength", ErrBadConfig)
	case c.WriteTimeout < 0 || c.SniffTimeout < 0 || c.IdleTimeout < 0:
		return fmt.Errorf("%w: negative timeout", ErrBadConfig)
	}
	return nil
}

// Server serves the control RPCs and the page stream on one listener.
type Server struct {
	cfg         ServerConfig
	log         *slog.Logger
	grpc        *grpc.Server
	metrics     *grpcprom.ServerMetrics
	readHandler ReadHandler
	smallBufs   sync.Pool     // *[]byte buffers small stream responses are assembled in
	watchSlots  chan struct{} // one per running hang-up watcher (streamConn.watchHangup)
	baseCtx     context.Context
	stop        context.CancelFunc
	// stopping ends when Shutdown starts: ring watches, which never end on
	// their own, end then so that GracefulStop does not wait for them.
	stopping     context.Context
	stopWatching context.CancelFunc

	mu       sync.Mutex
	lis      []net.Listener
	grpcLis  []*chanListener
	streams  map[*streamConn]struct{}
	closing  bool
	streamWG sync.WaitGroup
}

// NewServer builds a server for impl (control RPCs, may be nil: the service
// is then not registered) and readHandler (page stream, may be nil: stream
// connections are refused).
func NewServer(cfg ServerConfig, impl ControlServer, readHandler ReadHandler) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: logger(cfg.Logger), readHandler: readHandler, streams: map[*streamConn]struct{}{},
		watchSlots: make(chan struct{}, maxHangupWatchers)}
	s.baseCtx, s.stop = context.WithCancel(context.Background())
	s.stopping, s.stopWatching = context.WithCancel(context.Background())
	s.metrics = cfg.Metrics
	if s.metrics == nil {
		s.metrics = grpcprom.NewServerMetrics()
	}
	// One line per finished call; successful calls at debug level, since
	// clients poll Members and Stat often.
	logOpts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(func(c codes.Code) logging.Level {
			if c == codes.OK {
				return logging.LevelDebug
			}
			return logging.DefaultServerCodeToLevel(c)
		}),
	}
	recoveryOpt := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		// The stack stays here; the caller gets a short message (STYLE 8).
		s.log.ErrorContext(ctx, "panic in gRPC handler", "panic", p, "stack", string(stack()))
		return status.Error(codes.Internal, "internal error")
	})
	opts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(Codec{}),
		grpc.ChainUnaryInterceptor(
			s.metrics.UnaryServerInterceptor(),
			logging.UnaryServerInterceptor(slogAdapter(s.log), logOpts...),
			recovery.UnaryServerInterceptor(recoveryOpt),
			validator.UnaryServerInterceptor(),
		),
		grpc.ChainStreamInterceptor(
			s.metrics.StreamServerInterceptor(),
			logging.StreamServerInterceptor(slogAdapter(s.log), logOpts...),
			recovery.StreamServerInterceptor(recoveryOpt),
			validator.StreamServerInterceptor(),
			s.endWatchesOnShutdown,
		),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(tlsInfoCreds{}))
	}
	opts = append(opts, serverLimits()...) // limits.go
	s.grpc = grpc.NewServer(append(opts, cfg.GRPCOptions...)...)
	if impl != nil {
		s.grpc.RegisterService(&ControlServiceDesc, impl)
		if cfg.Write != nil {
			s.grpc.RegisterService(&WriteServiceDesc, cfg.Write)
		}
		s.metrics.InitializeMetrics(s.grpc)
	}
	return s, nil
}

// endWatchesOnShutdown gives WatchRing a context that also ends when
// Shutdown starts.
func (s *Server) endWatchesOnShutdown(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if info.FullMethod != MethodWatchRing {
		return handler(srv, ss)
	}
	ctx, cancel := context.WithCancel(ss.Context())
	defer cancel()
	stop := context.AfterFunc(s.stopping, cancel)
	defer stop()
	return handler(srv, ctxStream{ServerStream: ss, ctx: ctx})
}

type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c ctxStream) Context() context.Context { return c.ctx }

func stack() []byte { return debug.Stack() }

// slogAdapter routes go-grpc-middleware logging to slog. Its levels use the
// same numbers as slog's.
func slogAdapter(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}

// Metrics returns the gRPC server metrics for the node to register.
func (s *Server) Metrics() *grpcprom.ServerMetrics { return s.metrics }

// GRPC returns the underlying gRPC server (to register more services).
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Serve accepts connections on l until Shutdown or Close; it returns nil
// after them and the accept error otherwise. l is closed on return.
func (s *Server) Serve(l net.Listener) error {
	gl := newChanListener(l.Addr())
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		l.Close()
		return ErrClosed
	}
	s.lis = append(s.lis, l)
	s.grpcLis = append(s.grpcLis, gl)
	s.mu.Unlock()

	grpcDone := make(chan struct{})
	go func() {
		defer close(grpcDone)
		_ = s.grpc.Serve(gl)
	}()
	defer func() { <-grpcDone }()
	defer gl.Close()
	defer l.Close()

	var tempDelay time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.isClosing() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = max(5*time.Millisecond, min(2*tempDelay, time.Second))
				time.Sleep(tempDelay) // accept backoff (EMFILE), as net/http does
				continue
			}
			return err
		}
		tempDelay = 0
		go s.sniff(conn, gl)
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// http2Preface starts every HTTP/2 (gRPC) connection.
const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// sniff tells a stream connection from a gRPC one by its first 4 bytes
// (inside TLS, on a TLS port).
func (s *Server) sniff(conn net.Conn, gl *chanListener) {
	tcp, _ := conn.(*net.TCPConn)
	c := conn
	if s.cfg.TLS != nil {
		tc, head, ok := s.handshake(conn)
		if !ok {
			s.refusePlaintext(conn, tcp, head)
			return
		}
		c = tc
	}
	_ = c.SetReadDeadline(time.Now().Add(s.cfg.SniffTimeout))
	br := bufio.NewReaderSize(c, 4096)
	head, err := br.Peek(4)
	if err != nil {
		c.Close()
		return
	}
	if string(head) == StreamMagic {
		if s.readHandler == nil {
			c.Close()
			return
		}
		s.serveStream(c, tcp, br, nil)
		return
	}
	if string(head) != http2Preface[:4] {
		// Neither protocol: close now rather than let gRPC wait for a
		// preface that will not come. A TLS client of a plaintext port is
		// answered with a line that is no TLS record, so that its
		// handshake fails at once saying so (crypto/tls: "first record
		// does not look like a TLS handshake") instead of with a bare EOF.
		if head[0] == tlsRecordHandshake && s.cfg.TLS == nil {
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte(plaintextMessage))
		}
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if !gl.deliver(&sniffedConn{Conn: c, r: br}) {
		c.Close()
	}
}

// refusePlaintext ends a connection to a TLS port that did not start TLS.
// A plaintext page-stream client gets its requests answered with
// StatusAccessDenied and a message saying TLS is needed, so that it fails
// at once with a clear error instead of retrying a closed connection.
func (s *Server) refusePlaintext(conn net.Conn, tcp *net.TCPConn, head []byte) {
	if string(head) != StreamMagic || s.readHandler == nil {
		conn.Close()
		return
	}
	br := bufio.NewReaderSize(&prefixConn{Conn: conn, head: head}, 4096)
	s.serveStream(conn, tcp, br, Errorf(StatusAccessDenied, "%s", requireTLSMessage))
}

func (s *Server) trackStream(c *streamConn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closing {
			return false
		}
		s.streams[c] = struct{}{}
		s.streamWG.Add(1)
		return true
	}
	delete(s.streams, c)
	s.streamWG.Done()
	return true
}

// Shutdown stops accepting, lets in-flight stream reads and RPCs finish
// (pipelined requests already read into the connection buffer included), then closes everything. WatchRing
// streams are ended at once (their context is cancelled); Load streams run
// to their end. If ctx ends
// first, the remaining connections are closed at once and ctx's error is
// returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for _, l := range s.lis {
		l.Close()
	}
	for c := range s.streams {
		c.drain()
	}
	s.mu.Unlock()
	s.stopWatching()

	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		s.streamWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.stop()
		return nil
	case <-ctx.Done():
		s.Close()
		<-done
		return ctx.Err()
	}
}

// Close closes every listener and connection at once; in-flight reads fail.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	for _, l := range s.lis {
		l.Close()
	}
	for c := range s.streams {
		c.cancel()
		c.raw.Close()
	}
	s.mu.Unlock()
	s.stopWatching()
	s.stop()
	s.grpc.Stop()
	s.streamWG.Wait()
	return nil
}

// sniffedConn replays the sniffed bytes before reading the connection.
type sniffedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *sniffedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// chanListener hands sniffed gRPC connections to grpc.Server.Serve.
type chanListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) deliver(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
