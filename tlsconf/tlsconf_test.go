package tlsconf_test

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringcache/ringcache/tlsconf"
	"github.com/ringcache/ringcache/tlsconf/certgen"
)

// pki is a CA with a node and a client certificate in a temporary dir.
type pki struct {
	dir          string
	node, client tlsconf.Files
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	if err := certgen.InitCA(dir); err != nil {
		t.Fatal(err)
	}
	p := pki{dir: dir}
	p.node = issue(t, dir, certgen.Request{Kind: certgen.Node, Name: "n1", Hosts: []string{"127.0.0.1", "localhost"}})
	p.client = issue(t, dir, certgen.Request{Kind: certgen.Client, Name: "reader"})
	return p
}

func issue(t *testing.T, dir string, req certgen.Request) tlsconf.Files {
	t.Helper()
	crt, key, err := certgen.Issue(dir, req)
	if err != nil {
		t.Fatal(err)
	}
	return tlsconf.Files{Cert: crt, Key: key, CA: filepath.Join(dir, certgen.CACert)}
}

// handshake runs a TLS handshake between server and client configs over
// a real loopback connection and returns both sides' errors; the server
// side reads one byte so that a TLS 1.3 client certificate refusal reaches
// the client.
func handshake(t *testing.T, srv, cli *tls.Config) (serr, cerr error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		tc := tls.Server(c, srv)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			done <- err
			return
		}
		var b [1]byte
		_, err = tc.Read(b[:])
		if err == nil {
			_, err = tc.Write(b[:])
		}
		done <- err
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cli = cli.Clone()
	cli.ServerName = "127.0.0.1"
	tc := tls.Client(c, cli)
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	cerr = tc.Handshake()
	if cerr == nil {
		var b [1]byte
		if _, cerr = tc.Write([]byte{1}); cerr == nil {
			_, cerr = tc.Read(b[:])
		}
	}
	tc.Close()
	return <-done, cerr
}

func TestMutualTLS(t *testing.T) {
	p := newPKI(t)
	r, err := tlsconf.NewReloader(p.node, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A peer node dials with the node's own config.
	if serr, cerr := handshake(t, r.ServerConfig(), r.ClientConfig()); serr != nil || cerr != nil {
		t.Fatalf("node to node: server %v, client %v", serr, cerr)
	}
	cli, err := tlsconf.LoadClient(p.client)
	if err != nil {
		t.Fatal(err)
	}
	if serr, cerr := handshake(t, r.ServerConfig(), cli); serr != nil || cerr != nil {
		t.Fatalf("client: server %v, client %v", serr, cerr)
	}
	// No client certificate: refused by the gRPC port, fine on HTTPS.
	anon, err := tlsconf.LoadClient(tlsconf.Files{CA: p.node.CA})
	if err != nil {
		t.Fatal(err)
	}
	_, cerr := handshake(t, r.ServerConfig(), anon)
	if he := tlsconf.AsHandshake("n1", cerr); he == nil {
		t.Fatalf("no client certificate: client error %v, want a handshake error", cerr)
	} else {
		t.Logf("no certificate: %v", he)
	}
	if serr, cerr := handshake(t, r.HTTPSConfig(), anon); serr != nil || cerr != nil {
		t.Fatalf("https without a client certificate: server %v, client %v", serr, cerr)
	}
	// Another CA's client certificate, and a client trusting another CA.
	other := newPKI(t)
	stranger, err := tlsconf.LoadClient(other.client)
	if err != nil {
		t.Fatal(err)
	}
	for name, cli := range map[string]*tls.Config{"client of another CA": stranger} {
		_, cerr := handshake(t, r.ServerConfig(), cli)
		he := tlsconf.AsHandshake("n1", cerr)
		if he == nil || !errors.Is(he, tlsconf.ErrHandshake) {
			t.Fatalf("%s: %v, want a handshake error", name, cerr)
		}
		t.Logf("%s: %v", name, he)
	}
}

func TestLoadClientRefusesExpired(t *testing.T) {
	p := newPKI(t)
	old := issue(t, p.dir, certgen.Request{Kind: certgen.Client, Name: "old",
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if _, err := tlsconf.LoadClient(old); !errors.Is(err, tlsconf.ErrConfig) {
		t.Fatalf("expired client certificate: %v, want ErrConfig", err)
	}
	if err := (tlsconf.Files{Cert: "a"}).ValidateClient(); err == nil {
		t.Fatal("a client certificate without CA and key was accepted")
	}
}

func TestReload(t *testing.T) {
	p := newPKI(t)
	r, err := tlsconf.NewReloader(p.node, nil)
	if err != nil {
		t.Fatal(err)
	}
	serial := r.Certificate().SerialNumber.String()
	replace := func(from tlsconf.Files) {
		t.Helper()
		for _, pair := range [][2]string{{from.Cert, p.node.Cert}, {from.Key, p.node.Key}} {
			data, err := os.ReadFile(pair[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pair[1], data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	orig := map[string][]byte{}
	for _, f := range []string{p.node.Cert, p.node.Key} {
		orig[f], _ = os.ReadFile(f)
	}
	restore := func() {
		for f, d := range orig {
			os.WriteFile(f, d, 0o600)
		}
	}
	other := newPKI(t)
	expired := issue(t, p.dir, certgen.Request{Kind: certgen.Node, Name: "old", Hosts: []string{"127.0.0.1"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	bad := map[string]func(){
		"garbage":      func() { os.WriteFile(p.node.Cert, []byte("not PEM"), 0o600) },
		"key mismatch": func() { d, _ := os.ReadFile(p.client.Key); os.WriteFile(p.node.Key, d, 0o600) },
		"expired":      func() { replace(expired) },
		"another CA":   func() { replace(other.node) },
		"missing CA file": func() {
			os.Rename(p.node.CA, p.node.CA+".gone")
			t.Cleanup(func() { os.Rename(p.node.CA+".gone", p.node.CA) })
		},
	}
	for name, breakIt := range bad {
		breakIt()
		if err := r.Reload(); !errors.Is(err, tlsconf.ErrReload) {
			t.Errorf("%s: Reload %v, want ErrReload", name, err)
		}
		if got := r.Certificate().SerialNumber.String(); got != serial {
			t.Errorf("%s: serial %s after a refused reload, want %s", name, got, serial)
		}
		restore()
		if name == "missing CA file" {
			os.Rename(p.node.CA+".gone", p.node.CA)
		}
	}
	// The old certificate still serves.
	if serr, cerr := handshake(t, r.ServerConfig(), r.ClientConfig()); serr != nil || cerr != nil {
		t.Fatalf("after refused reloads: server %v, client %v", serr, cerr)
	}
	fresh := issue(t, p.dir, certgen.Request{Kind: certgen.Node, Name: "n1b", Hosts: []string{"127.0.0.1"}})
	replace(fresh)
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if r.Certificate().SerialNumber.String() == serial {
		t.Fatal("serial unchanged after a good reload")
	}
	if serr, cerr := handshake(t, r.ServerConfig(), r.ClientConfig()); serr != nil || cerr != nil {
		t.Fatalf("after reload: server %v, client %v", serr, cerr)
	}
}

func TestRoleOf(t *testing.T) {
	p := newPKI(t)
	admin := issue(t, p.dir, certgen.Request{Kind: certgen.Admin, Name: "ops"})
	named := issue(t, p.dir, certgen.Request{Kind: certgen.Client, Name: "alice"})
	for _, c := range []struct {
		f    tlsconf.Files
		want tlsconf.Role
	}{{p.node, tlsconf.RoleNode}, {p.client, tlsconf.RoleClient}, {admin, tlsconf.RoleAdmin}, {named, tlsconf.RoleAdmin}} {
		cfg, err := tlsconf.LoadClient(c.f)
		if err != nil {
			t.Fatal(err)
		}
		if got := tlsconf.RoleOf(cfg.Certificates[0].Leaf, []string{"alice"}); got != c.want {
			t.Errorf("%s: role %s, want %s", c.f.Cert, got, c.want)
		}
	}
	if tlsconf.RoleOf(nil, nil) != tlsconf.RoleNone {
		t.Error("nil certificate is not RoleNone")
	}
}

func TestCertsNeverOverwrite(t *testing.T) {
	p := newPKI(t)
	if err := certgen.InitCA(p.dir); !errors.Is(err, certgen.ErrExist) {
		t.Fatalf("second init: %v, want ErrExist", err)
	}
	if _, _, err := certgen.Issue(p.dir, certgen.Request{Kind: certgen.Node, Name: "n1"}); !errors.Is(err, certgen.ErrExist) {
		t.Fatalf("second node n1: %v, want ErrExist", err)
	}
	if _, _, err := certgen.Issue(t.TempDir(), certgen.Request{Kind: certgen.Client, Name: "x"}); !errors.Is(err, certgen.ErrNoCA) {
		t.Fatalf("no CA: %v, want ErrNoCA", err)
	}
}

func TestPlaintextAgainstTLS(t *testing.T) {
	p := newPKI(t)
	r, err := tlsconf.NewReloader(p.node, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A TLS client against a server that answers in plaintext.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("RCPS\x01\x00\x00\x00 plaintext"))
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := r.ClientConfig()
	cfg.ServerName = "127.0.0.1"
	herr := tls.Client(c, cfg).Handshake()
	if he := tlsconf.AsHandshake("x", herr); he == nil {
		t.Fatalf("plaintext server: %v, want a handshake error", herr)
	} else {
		t.Logf("plaintext server: %v", he)
	}
}
