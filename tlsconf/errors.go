package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Sentinel errors.
var (
	// ErrConfig marks TLS settings that cannot work (a missing file, a
	// certificate without its key, a key that does not match).
	ErrConfig = errors.New("tlsconf: invalid TLS configuration")
	// ErrReload marks a reload that was refused; the previous certificate
	// stays in use.
	ErrReload = errors.New("tlsconf: reload refused")
	// ErrHandshake marks a failed TLS handshake: retrying it cannot help.
	ErrHandshake = errors.New("TLS handshake failed")
	// ErrPermission marks a call that needs a node or admin certificate.
	ErrPermission = errors.New("permission denied")
)

// HandshakeError is a failed TLS handshake, with the reason in words a user
// can act on (Reason) and the error of crypto/tls (Err).
type HandshakeError struct {
	Addr   string
	Reason string
	Err    error
}

func (e *HandshakeError) Error() string {
	if e.Addr == "" {
		return fmt.Sprintf("%s: %s", ErrHandshake, e.Reason)
	}
	return fmt.Sprintf("%s with %s: %s", ErrHandshake, e.Addr, e.Reason)
}

// Unwrap returns ErrHandshake and the underlying error.
func (e *HandshakeError) Unwrap() []error { return []error{ErrHandshake, e.Err} }

// AsHandshake returns err as a *HandshakeError when it is a TLS failure
// (certificate verification, a record that is not TLS, an alert from the
// peer), and nil otherwise. addr names the peer in the message.
func AsHandshake(addr string, err error) *HandshakeError {
	if err == nil {
		return nil
	}
	var he *HandshakeError
	if errors.As(err, &he) {
		return he
	}
	if r := reason(err); r != "" {
		return &HandshakeError{Addr: addr, Reason: r, Err: err}
	}
	return nil
}

// reason says what went wrong in a TLS failure, or "" when err is not one.
func reason(err error) string {
	var cve *tls.CertificateVerificationError
	var rhe tls.RecordHeaderError
	var op *net.OpError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	switch {
	case errors.As(err, &unknown):
		return "the node's certificate is not signed by the CA given with --tls-ca"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "the node's certificate has expired or is not valid yet"
	case errors.As(err, &host):
		return "the node's certificate is not valid for its address (" + host.Host + ")"
	case errors.As(err, &cve):
		return "the node's certificate could not be verified: " + cve.Err.Error()
	case errors.As(err, &rhe):
		return "the node does not speak TLS (is it started without --tls-cert?)"
	case errors.As(err, &op) && op.Op == "remote error":
		return remoteAlert(op.Err.Error())
	}
	// Errors that crossed gRPC are flattened to strings (a status message):
	// the only way left to recognise them is their crypto/tls wording.
	msg := err.Error()
	if i := strings.Index(msg, "remote error: tls: "); i >= 0 {
		return remoteAlert(msg[i+len("remote error: "):])
	}
	for _, w := range []struct{ text, reason string }{
		{"certificate signed by unknown authority", "the node's certificate is not signed by the CA given with --tls-ca"},
		{"first record does not look like a TLS handshake", "the node does not speak TLS (is it started without --tls-cert?)"},
		{"certificate has expired", "the node's certificate has expired or is not valid yet"},
		{"x509: certificate is valid for", "the node's certificate is not valid for its address"},
	} {
		if strings.Contains(msg, w.text) {
			return w.reason
		}
	}
	return ""
}

// remoteAlert turns the peer's TLS alert (as crypto/tls words it) into a
// reason.
func remoteAlert(alert string) string {
	switch {
	case strings.Contains(alert, "certificate required"), strings.Contains(alert, "handshake failure"):
		return "the node requires a client certificate (--tls-cert, --tls-key)"
	case strings.Contains(alert, "unknown certificate authority"):
		return "the node does not accept the client certificate: not signed by its CA"
	case strings.Contains(alert, "expired certificate"):
		return "the node refused the client certificate: it has expired"
	case strings.Contains(alert, "bad certificate"):
		return "the node refused the client certificate"
	case strings.Contains(alert, "protocol version"):
		return "no TLS version in common with the node"
	}
	return "the node refused the handshake (" + alert + ")"
}
