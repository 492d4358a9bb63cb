package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/retry"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// ClientConfig configures a Client. Zero fields take the defaults.
type ClientConfig struct {
	// DialTimeout bounds a stream connection's dial. Default 5s.
	DialTimeout time.Duration
	// CallTimeout is the deadline of an RPC or stream read whose context
	// has none. Default 30s. Streaming RPCs (WatchRing, Load) get none.
	CallTimeout time.Duration
	// MaxIdlePerAddr is how many idle stream connections are kept per
	// address. Default 16.
	MaxIdlePerAddr int
	// RetryMax is how many times a unary RPC is retried on
	// codes.Unavailable. Default 3; negative disables retries.
	RetryMax int
	// RetryBackoff is the base of the exponential backoff between retries.
	// Default 50ms.
	RetryBackoff time.Duration
	// MaxRequestLength refuses larger stream reads before sending them.
	// Default 256 MiB (the server's default limit).
	MaxRequestLength int64
	// Metrics, if set, instruments the RPCs (register it yourself).
	Metrics *grpcprom.ClientMetrics
	// Logger; nil discards.
	Logger *slog.Logger
	// DialOptions are extra grpc.DialOptions.
	DialOptions []grpc.DialOption
	// TLS, when set, is the client config of every connection, gRPC and
	// stream alike (tlsconf builds it); the server name defaults to the
	// host of the address dialled. nil: plaintext.
	TLS *tls.Config
}

// Defaults of ClientConfig.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultCallTimeout    = 30 * time.Second
	DefaultMaxIdlePerAddr = 16
	DefaultRetryMax       = 3
	DefaultRetryBackoff   = 50 * time.Millisecond
)

func (c ClientConfig) withDefaults() ClientConfig {
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.MaxIdlePerAddr == 0 {
		c.MaxIdlePerAddr = DefaultMaxIdlePerAddr
	}
	if c.RetryMax == 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.MaxRequestLength == 0 {
		c.MaxRequestLength = DefaultMaxRequestLength
	}
	return c
}

// Validate reports a config that cannot work (after defaults).
func (c ClientConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.DialTimeout < 0 || c.CallTimeout < 0 || c.RetryBackoff < 0:
		return fmt.Errorf("%w: negative duration", ErrBadConfig)
	case c.MaxIdlePerAddr < 0:
		return fmt.Errorf("%w: negative MaxIdlePerAddr", ErrBadConfig)
	case c.MaxRequestLength < 0:
		return fmt.Errorf("%w: negative MaxRequestLength", ErrBadConfig)
	}
	return nil
}

// Client talks to any number of nodes: one gRPC connection per address for
// the control RPCs and a pool of stream connections per address for reads.
// It is safe for concurrent use.
type Client struct {
	cfg ClientConfig
	log *slog.Logger

	mu      sync.Mutex
	closed  bool
	rpc     map[string]*grpc.ClientConn
	idle    map[string][]*clientConn
	scratch sync.Pool // *[]byte, chunk-sized buffers for segment edges
}

// NewClient returns a client; it dials lazily.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Client{cfg: cfg, log: logger(cfg.Logger), rpc: map[string]*grpc.ClientConn{}, idle: map[string][]*clientConn{}}, nil
}

// Control returns the control stub for the node at addr. The gRPC
// connection is made once per address and shared.
func (c *Client) Control(addr string) (ControlClient, error) {
	cc, err := c.conn(addr)
	if err != nil {
		return nil, err
	}
	return NewControlClient(cc), nil
}

// Write returns the write stub for the node at addr, on the connection
// Control uses.
func (c *Client) Write(addr string) (WriteClient, error) {
	cc, err := c.conn(addr)
	if err != nil {
		return nil, err
	}
	return NewWriteClient(cc), nil
}

// conn is the shared gRPC connection to addr, made on first use.
func (c *Client) conn(addr string) (*grpc.ClientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if cc, ok := c.rpc[addr]; ok {
		return cc, nil
	}
	cc, err := grpc.NewClient(addr, c.dialOptions()...)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	c.rpc[addr] = cc
	return cc, nil
}

func (c *Client) dialOptions() []grpc.DialOption {
	unary := []grpc.UnaryClientInterceptor{defaultDeadline(c.cfg.CallTimeout)}
	var stream []grpc.StreamClientInterceptor
	if c.cfg.Metrics != nil {
		unary = append(unary, c.cfg.Metrics.UnaryClientInterceptor())
		stream = append(stream, c.cfg.Metrics.StreamClientInterceptor())
	}
	if c.cfg.RetryMax > 0 {
		unary = append(unary, retry.UnaryClientInterceptor(
			retry.WithMax(uint(c.cfg.RetryMax)+1), // WithMax counts attempts
			retry.WithCodes(codes.Unavailable),
			retry.WithBackoff(retry.BackoffExponentialWithJitter(c.cfg.RetryBackoff, 0.2)),
		))
	}
	if c.cfg.TLS != nil {
		unary = append(unary, tlsUnauthenticated) // innermost: the retry sees its code
	}
	opts := append([]grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(Codec{})),
		grpc.WithChainUnaryInterceptor(unary...),
		grpc.WithChainStreamInterceptor(stream...),
	}, clientLimits()...)
	if c.cfg.TLS != nil {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(c.cfg.TLS)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	return append(opts, c.cfg.DialOptions...)
}

// defaultDeadline gives a unary call without a deadline the default one.
func defaultDeadline(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// Forget closes the connections to addr (a member that left or died);
// later calls dial again. Reads in flight to addr go on until they end.
func (c *Client) Forget(addr string) {
	c.mu.Lock()
	cc := c.rpc[addr]
	idle := c.idle[addr]
	delete(c.rpc, addr)
	delete(c.idle, addr)
	c.mu.Unlock()
	if cc != nil {
		cc.Close()
	}
	for _, cn := range idle {
		cn.conn.Close()
	}
}

// Close closes every connection. Reads in flight fail.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	rpc, idle := c.rpc, c.idle
	c.rpc, c.idle = map[string]*grpc.ClientConn{}, map[string][]*clientConn{}
	c.mu.Unlock()
	var errs []error
	for _, cc := range rpc {
		errs = append(errs, cc.Close())
	}
	for _, l := range idle {
		for _, cn := range l {
			cn.conn.Close()
		}
	}
	return errors.Join(errs...)
}

// Conn is a Client bound to one address, as returned by Dial.
type Conn struct {
	ControlClient
	client *Client
	addr   string
}

// Dial returns a connection to the node at addr. ctx bounds nothing yet:
// connections are made lazily (gRPC) or per read (stream pool).
func Dial(ctx context.Context, addr string, cfg ClientConfig) (*Conn, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	cc, err := c.Control(addr)
	if err != nil {
		return nil, err
	}
	return &Conn{ControlClient: cc, client: c, addr: addr}, nil
}

// Addr is the node's address.
func (c *Conn) Addr() string { return c.addr }

// Read is Client.Read on this connection's address.
func (c *Conn) Read(ctx context.Context, req *ReadRequest, dst []byte) (ReadResult, error) {
	return c.client.Read(ctx, c.addr, req, dst)
}

// Close closes the connection's gRPC and stream connections.
func (c *Conn) Close() error { return c.client.Close() }
