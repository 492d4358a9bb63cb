// Package certgen writes a development CA and the node and client
// certificates of `ringcache certs` (crypto/x509, ECDSA P-256). It marks
// node and admin certificates the way tlsconf.RoleOf reads them. It never
// overwrites a file.
package certgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ringcache/ringcache/tlsconf"
)

// Sentinel errors.
var (
	// ErrExist: a file to be written exists already.
	ErrExist = errors.New("certgen: file exists, not overwritten")
	// ErrNoCA: the directory holds no CA (run `ringcache certs init`).
	ErrNoCA = errors.New("certgen: no CA")
	// ErrBadName: a name that cannot be a file name.
	ErrBadName = errors.New("certgen: bad name")
)

// Kind is the kind of certificate to issue.
type Kind int

// Kinds.
const (
	// Node: server and client use, SANs from Hosts, the node markers.
	Node Kind = iota
	// Client: client use.
	Client
	// Admin: a client certificate allowed to change state.
	Admin
)

// Validity defaults.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	CertValidity = 2 * 365 * 24 * time.Hour
)

// File names in the directory.
const (
	CACert = "ca.crt"
	CAKey  = "ca.key"
)

// Request describes a certificate to issue. Zero times mean now and now +
// CertValidity.
type Request struct {
	Kind  Kind
	Name  string   // common name; also the file name (Name.crt, Name.key)
	Hosts []string // Node: IP addresses and DNS names
	// NotBefore and NotAfter bound the validity (tests make expired ones).
	NotBefore, NotAfter time.Time
}

// InitCA writes dir/ca.crt and dir/ca.key, a self-signed CA.
func InitCA(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	crt, key := filepath.Join(dir, CACert), filepath.Join(dir, CAKey)
	if err := noneExist(crt, key); err != nil {
		return err
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "ringcache development CA", Organization: []string{"ringcache"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return err
	}
	return writePair(crt, key, der, k)
}

// Issue writes dir/<Name>.crt and dir/<Name>.key, signed by dir's CA, and
// returns their paths.
func Issue(dir string, req Request) (crt, key string, err error) {
	if req.Name == "" || strings.ContainsAny(req.Name, `/\`) || req.Name == "ca" || strings.HasPrefix(req.Name, ".") {
		return "", "", fmt.Errorf("%w: %q", ErrBadName, req.Name)
	}
	crt, key = filepath.Join(dir, req.Name+".crt"), filepath.Join(dir, req.Name+".key")
	return crt, key, IssueTo(dir, crt, key, req)
}

// IssueTo is Issue with the output paths chosen by the caller.
func IssueTo(caDir, crt, key string, req Request) error {
	if err := noneExist(crt, key); err != nil {
		return err
	}
	ca, caKey, err := loadCA(caDir)
	if err != nil {
		return err
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl, err := template(req)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
	if err != nil {
		return err
	}
	return writePair(crt, key, der, k)
}

func template(req Request) (*x509.Certificate, error) {
	now := time.Now()
	t := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: req.Name, Organization: []string{"ringcache"}},
		NotBefore:    req.NotBefore,
		NotAfter:     req.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if t.NotBefore.IsZero() {
		t.NotBefore = now.Add(-time.Hour) // tolerate clocks a little behind
	}
	if t.NotAfter.IsZero() {
		t.NotAfter = now.Add(CertValidity)
	}
	switch req.Kind {
	case Node:
		t.ExtKeyUsage = append(t.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		t.Subject.OrganizationalUnit = []string{tlsconf.NodeOU}
		u, err := url.Parse(tlsconf.NodeURI)
		if err != nil {
			return nil, err
		}
		t.URIs = []*url.URL{u}
		for _, h := range req.Hosts {
			h = strings.TrimSpace(h)
			switch ip := net.ParseIP(h); {
			case h == "":
			case ip != nil:
				t.IPAddresses = append(t.IPAddresses, ip)
			default:
				t.DNSNames = append(t.DNSNames, h)
			}
		}
	case Admin:
		t.Subject.OrganizationalUnit = []string{tlsconf.AdminOU}
	}
	return t, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	crtPEM, err := os.ReadFile(filepath.Join(dir, CACert))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w in %s (run `ringcache certs init --dir %s` first)", ErrNoCA, dir, dir)
	}
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKey))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrNoCA, err)
	}
	cb, _ := pem.Decode(crtPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, fmt.Errorf("%w: %s holds no PEM CA certificate and key", ErrNoCA, dir)
	}
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}

// noneExist refuses to go on when a file to be written exists.
func noneExist(paths ...string) error {
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%w: %s", ErrExist, p)
		}
	}
	return nil
}

// writePair writes the certificate (0644) and the key (0600), each created
// exclusively so that a race cannot overwrite either.
func writePair(crt, key string, der []byte, k *ecdsa.PrivateKey) error {
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return err
	}
	if err := writeNew(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	if err := writeNew(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		os.Remove(key)
		return err
	}
	return nil
}

func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrExist, path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
