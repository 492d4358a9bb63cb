package client

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/tlsconf"
	"github.com/ringcache/ringcache/transport"
)

// tlsError returns err as a *tlsconf.HandshakeError naming addr when a TLS
// handshake with addr failed (a read's transport.ErrTLS, a control call's
// codes.Unauthenticated), and nil otherwise. Such a failure is permanent:
// the next node has the same CA and wants the same certificate.
func tlsError(addr string, err error) error {
	if !errors.Is(err, transport.ErrTLS) && status.Code(err) != codes.Unauthenticated {
		return nil
	}
	if he := tlsconf.AsHandshake(addr, err); he != nil {
		return he
	}
	return &tlsconf.HandshakeError{Addr: addr, Reason: err.Error(), Err: err}
}

// probeTLS tells a plaintext client whose seeds all failed whether they
// failed because they require TLS (gRPC sees only a closed connection).
func (c *Client) probeTLS(ctx context.Context, seeds []string) error {
	for _, seed := range seeds {
		if c.pool.ProbeRequiresTLS(ctx, seed) {
			return &tlsconf.HandshakeError{Addr: seed, Reason: "the node requires TLS: give --tls-ca (and --tls-cert, --tls-key)", Err: transport.ErrTLS}
		}
	}
	return nil
}
