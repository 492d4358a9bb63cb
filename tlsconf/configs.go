package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// cipherSuites are the TLS 1.2 suites offered: ECDHE key exchange with an
// AEAD only. (TLS 1.3's suites are fixed by Go and all AEAD.) AES-GCM goes
// first; Go moves ChaCha20 ahead for peers without AES hardware.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// base is the config every other starts from.
func base() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: cipherSuites}
}

// Protocols negotiated with ALPN. gRPC's client insists on "h2"; the page
// stream is told apart by its first bytes, not by ALPN.
var (
	dataProtos  = []string{"h2"}
	httpsProtos = []string{"h2", "http/1.1"}
)

// buildServerConfigs fills m.server and m.https from m.
func buildServerConfigs(m *material) {
	m.server = base()
	m.server.Certificates = []tls.Certificate{*m.cert}
	m.server.ClientCAs = m.pool
	m.server.ClientAuth = tls.RequireAndVerifyClientCert
	m.server.NextProtos = dataProtos

	m.https = base()
	m.https.Certificates = []tls.Certificate{*m.cert}
	m.https.ClientCAs = m.pool
	m.https.ClientAuth = tls.VerifyClientCertIfGiven
	m.https.NextProtos = httpsProtos
}

// ServerConfig is the config of the gRPC + page-stream port: mTLS, a client
// certificate signed by the CA is required. Every handshake takes the
// certificate and CA pool loaded last (GetConfigForClient), so a reload
// reaches new connections at once and leaves open ones alone.
func (r *Reloader) ServerConfig() *tls.Config {
	c := base()
	c.NextProtos = dataProtos
	c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return r.cur.Load().server, nil }
	return c
}

// HTTPSConfig is the config of the HTTP and S3 listeners: a client
// certificate is optional, but verified against the CA when given (it is
// what /debug/pprof/ asks for).
func (r *Reloader) HTTPSConfig() *tls.Config {
	c := base()
	c.NextProtos = httpsProtos
	c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return r.cur.Load().https, nil }
	return c
}

// ClientConfig is the config a node dials its peers with: its own
// certificate as the client certificate, and the peer's certificate
// verified against the CA pool loaded last. crypto/tls has no per-handshake
// hook for a client's roots, so the verification is done in
// VerifyConnection with InsecureSkipVerify set (the pattern of crypto/tls'
// own VerifyConnection example): nothing is skipped, the check only reads
// the pool at handshake time. The server name is set by the dialer.
func (r *Reloader) ClientConfig() *tls.Config {
	c := base()
	c.InsecureSkipVerify = true
	c.VerifyConnection = func(cs tls.ConnectionState) error { return verifyServer(cs, r.cur.Load().pool, time.Now()) }
	c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return r.cur.Load().cert, nil }
	return c
}

// verifyServer is the verification crypto/tls would do for a client with
// roots pool: chain to the CA, server use, the name dialled.
func verifyServer(cs tls.ConnectionState, pool *x509.CertPool, now time.Time) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("%w: the server sent no certificate", ErrHandshake)
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: pool, Intermediates: inter, DNSName: cs.ServerName, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
	}
	return nil
}

// LoadClient builds the config of the SDK and the CLI from f: the node's
// certificate is verified against f.CA; f.Cert and f.Key, when set, are the
// client certificate. The files are read once. A client certificate that
// is not valid now is refused here, with its dates, rather than by the
// node with a bare alert.
func LoadClient(f Files) (*tls.Config, error) {
	if err := f.ValidateClient(); err != nil {
		return nil, err
	}
	m, err := load(f, time.Now())
	if err != nil {
		return nil, err
	}
	c := base()
	c.RootCAs = m.pool
	if m.cert != nil {
		c.Certificates = []tls.Certificate{*m.cert}
	}
	return c, nil
}
