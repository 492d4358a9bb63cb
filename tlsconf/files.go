package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"time"
)

// Files are the three PEM files of --tls-cert, --tls-key and --tls-ca.
type Files struct {
	// Cert is the certificate (chain), leaf first.
	Cert string
	// Key is Cert's private key.
	Key string
	// CA holds the certificates of the CA(s) peers must be signed by.
	CA string
}

// Enabled says any file is set: TLS is wanted.
func (f Files) Enabled() bool { return f != Files{} }

// ValidateNode reports settings a node cannot run with: a node needs all
// three files.
func (f Files) ValidateNode() error {
	if f.Enabled() && (f.Cert == "" || f.Key == "" || f.CA == "") {
		return fmt.Errorf("%w: --tls-cert, --tls-key and --tls-ca go together", ErrConfig)
	}
	return nil
}

// ValidateClient reports settings a client cannot run with: a client needs
// the CA; a certificate and its key go together.
func (f Files) ValidateClient() error {
	switch {
	case !f.Enabled():
		return nil
	case f.CA == "":
		return fmt.Errorf("%w: --tls-ca is needed to verify the node's certificate", ErrConfig)
	case (f.Cert == "") != (f.Key == ""):
		return fmt.Errorf("%w: --tls-cert and --tls-key go together", ErrConfig)
	}
	return nil
}

// material is one loaded, checked set of files.
type material struct {
	cert *tls.Certificate // nil for a client without a certificate
	leaf *x509.Certificate
	pool *x509.CertPool
	// server and https are the configs handed out by GetConfigForClient,
	// built once per load so that a handshake allocates no config.
	server, https *tls.Config
}

// load reads and checks f at time now. A certificate must parse, match its
// key, be valid at now and verify against the CA file read with it.
func load(f Files, now time.Time) (*material, error) {
	pool, err := loadPool(f.CA)
	if err != nil {
		return nil, err
	}
	m := &material{pool: pool}
	if f.Cert == "" {
		return m, nil
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %s, %s: %w", ErrConfig, f.Cert, f.Key, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrConfig, f.Cert, err)
		}
		cert.Leaf = leaf
	}
	if now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("%w: %s is valid from %s to %s, not now", ErrConfig, f.Cert,
			leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	inter := x509.NewCertPool()
	for _, der := range cert.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	opts := x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := leaf.Verify(opts); err != nil {
		return nil, fmt.Errorf("%w: %s is not signed by the CA in %s: %w", ErrConfig, f.Cert, f.CA, err)
	}
	m.cert, m.leaf = &cert, leaf
	return m, nil
}

// loadPool reads a PEM bundle of CA certificates.
func loadPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: CA bundle: %w", ErrConfig, err)
	}
	pool := x509.NewCertPool()
	n := 0
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: CA bundle %s: %w", ErrConfig, path, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: CA bundle %s holds no PEM certificate", ErrConfig, path)
	}
	return pool, nil
}
