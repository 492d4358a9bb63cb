package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"

	"github.com/ringcache/ringcache/tlsconf"
	"github.com/ringcache/ringcache/tlsconf/certgen"
)

// Names of the certificates `ringcache dev --tls` keeps in its certs
// directory: one node certificate every node of the process serves, a
// client certificate for reads and an admin one for load and invalidate.
const (
	devNodeCert   = "node"
	devClientCert = "client"
	devAdminCert  = "admin"
)

// devTLS is the development PKI of `ringcache dev --tls`.
type devTLS struct {
	dir string // absolute, for the banner's copy-paste commands
}

// ca is the CA bundle clients verify the nodes with.
func (d devTLS) ca() string { return filepath.Join(d.dir, certgen.CACert) }

// files are the TLS files of one of the certificates of dir.
func (d devTLS) files(name string) tlsconf.Files {
	return tlsconf.Files{CA: d.ca(), Cert: filepath.Join(d.dir, name+".crt"), Key: filepath.Join(d.dir, name+".key")}
}

// clientFlags are the flags of a CLI command talking to the dev nodes as
// certificate name.
func (d devTLS) clientFlags(name string) string {
	f := d.files(name)
	return fmt.Sprintf("--tls-ca %s --tls-cert %s --tls-key %s", f.CA, f.Cert, f.Key)
}

// ensureDevCerts writes the CA and the three certificates into dir unless
// they are there already (`ringcache certs` never overwrites, so a second
// `dev --tls` keeps the files clients were pointed at). The node
// certificate is made for loopback and every host of addrs; one made
// earlier for other hosts is kept, and the handshake names the mismatch.
func ensureDevCerts(dir string, addrs []string) (devTLS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return devTLS{}, err
	}
	d := devTLS{dir: abs}
	if err := keepExisting(certgen.InitCA(abs), abs, certgen.CACert, certgen.CAKey); err != nil {
		return d, err
	}
	hosts := []string{"127.0.0.1", "::1", "localhost"}
	for _, a := range addrs {
		if h, _, err := net.SplitHostPort(a); err == nil && h != "" && !slices.Contains(hosts, h) && !net.ParseIP(h).IsUnspecified() {
			hosts = append(hosts, h)
		}
	}
	for _, req := range []certgen.Request{
		{Kind: certgen.Node, Name: devNodeCert, Hosts: hosts},
		{Kind: certgen.Client, Name: devClientCert},
		{Kind: certgen.Admin, Name: devAdminCert},
	} {
		_, _, err := certgen.Issue(abs, req)
		if err := keepExisting(err, abs, req.Name+".crt", req.Name+".key"); err != nil {
			return d, err
		}
	}
	return d, nil
}

// keepExisting turns certgen.ErrExist into success when both files of the
// pair exist (a half-written pair is an error worth seeing).
func keepExisting(err error, dir, crt, key string) error {
	if !errors.Is(err, certgen.ErrExist) {
		return certError(err)
	}
	for _, name := range []string{crt, key} {
		if _, serr := os.Stat(filepath.Join(dir, name)); serr != nil {
			return certError(err)
		}
	}
	return nil
}

// reloader is the TLS material every dev node serves.
func (d devTLS) reloader(log *slog.Logger) (*tlsconf.Reloader, error) {
	return tlsconf.NewReloader(d.files(devNodeCert), log.With("component", "tls"))
}
