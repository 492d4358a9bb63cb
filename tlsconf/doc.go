// Package tlsconf builds every tls.Config of ringcache from one set of PEM
// files (--tls-cert, --tls-key, --tls-ca): the mTLS server config of the
// gRPC + page-stream port, the HTTPS config of the HTTP and S3 listeners,
// the client config a node dials its peers with, and the client config of
// the SDK and CLI. It reloads the files on demand (SIGHUP in the binary)
// without dropping connections, tells node, admin and client identities
// apart, and names TLS failures so that callers can refuse to retry them.
//
// It owns no listener and no socket: transport, node and client hand it
// their connections' states. It must not import the rest of ringcache.
//
// Versions and suites: TLS 1.3 is preferred and 1.2 the minimum; for 1.2
// only ECDHE with AES-GCM or ChaCha20-Poly1305 is offered (TLS 1.3's suites
// are not configurable in Go and are all AEAD).
package tlsconf
