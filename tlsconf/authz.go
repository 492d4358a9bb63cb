package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Policy decides who may call what when TLS is on. Reads and questions
// need any certificate of the CA (the mTLS handshake already made sure of
// it on the gRPC port); the methods in AdminMethods need a node or admin
// certificate.
type Policy struct {
	// AdminNames are common names whose certificates count as admin ones
	// (--admin-names), besides those made with --admin.
	AdminNames []string
	// AdminMethods are full gRPC method names that change state.
	AdminMethods map[string]bool
}

// Identity is the caller of an RPC as the interceptor saw it.
type Identity struct {
	Role Role
	// Name is the certificate's common name ("" without one).
	Name string
}

type identityKey struct{}

// IdentityFrom returns the caller's identity put in ctx by Policy's
// interceptors.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// PeerCertificate is the verified client certificate of a gRPC call's
// peer, or nil (no TLS, or no certificate).
func PeerCertificate(ctx context.Context) *x509.Certificate {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil
	}
	return verifiedLeaf(&info.State)
}

func verifiedLeaf(cs *tls.ConnectionState) *x509.Certificate {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil
	}
	return cs.VerifiedChains[0][0]
}

// isTLS says the call came over TLS.
func isTLS(ctx context.Context) bool {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return false
	}
	_, ok = p.AuthInfo.(credentials.TLSInfo)
	return ok
}

// RequireAdmin returns a PermissionDenied status unless the caller of the
// gRPC call in ctx may change state. Without TLS everyone may (there is no
// identity to check); over TLS without Policy's interceptors it fails
// closed. Handlers that change state outside AdminMethods (the keyring
// RPCs, say) call it first.
func RequireAdmin(ctx context.Context) error {
	id, ok := IdentityFrom(ctx)
	if !ok {
		if !isTLS(ctx) {
			return nil
		}
		return status.Error(codes.PermissionDenied, "permission denied: no identity for this call")
	}
	if id.Role.CanChange() {
		return nil
	}
	return status.Errorf(codes.PermissionDenied, "%s: certificate %q is a %s certificate; changing the cache needs a node or admin certificate (ringcache certs client --admin, or --admin-names)",
		ErrPermission, id.Name, id.Role)
}

func (p Policy) identity(ctx context.Context) Identity {
	c := PeerCertificate(ctx)
	id := Identity{Role: RoleOf(c, p.AdminNames)}
	if c != nil {
		id.Name = c.Subject.CommonName
	}
	return id
}

func (p Policy) check(ctx context.Context, method string) (context.Context, error) {
	if !isTLS(ctx) {
		return ctx, nil
	}
	ctx = context.WithValue(ctx, identityKey{}, p.identity(ctx))
	if p.AdminMethods[method] {
		if err := RequireAdmin(ctx); err != nil {
			return ctx, err
		}
	}
	return ctx, nil
}

// UnaryServerInterceptor puts the caller's identity in the context and
// refuses AdminMethods to callers that may not change state.
func (p Policy) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := p.check(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streaming RPCs.
func (p Policy) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := p.check(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, identityStream{ServerStream: ss, ctx: ctx})
	}
}

type identityStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s identityStream) Context() context.Context { return s.ctx }

// RequireAdminHTTP serves h only to callers over HTTPS whose client
// certificate is a node or admin one; others get 403. Over plain HTTP
// (TLS off) h is served as is.
func (p Policy) RequireAdminHTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			c := verifiedLeaf(r.TLS)
			if role := RoleOf(c, p.AdminNames); !role.CanChange() {
				http.Error(w, fmt.Sprintf("%s: %s needs a node or admin client certificate (this one: %s)", ErrPermission, r.URL.Path, role), http.StatusForbidden)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
