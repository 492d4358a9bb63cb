package app

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringcache/ringcache/gateway"
	"github.com/ringcache/ringcache/internal/samplelake"
	"github.com/ringcache/ringcache/tlsconf"
)

// dev seeds a missing or empty directory with the sample lake, and leaves
// a directory that holds anything alone.
func TestSeedLakeOnlyWhenEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing", "lake")
	seeded, err := seedLake(dir)
	if err != nil || !seeded {
		t.Fatalf("missing dir: seeded %v, %v", seeded, err)
	}
	for _, p := range samplelake.Paths() {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			t.Error(err)
		}
	}
	if seeded, err := seedLake(dir); err != nil || seeded {
		t.Fatalf("seeded dir: seeded %v, %v", seeded, err)
	}

	own := t.TempDir()
	if err := os.WriteFile(filepath.Join(own, "mine"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if seeded, err := seedLake(own); err != nil || seeded {
		t.Fatalf("user's dir: seeded %v, %v", seeded, err)
	}
	if entries, _ := os.ReadDir(own); len(entries) != 1 {
		t.Errorf("user's dir now holds %v", entries)
	}
}

// dev --tls makes the development certificates once (a second start reuses
// them), serves a node certificate for the nodes' hosts, and prints the
// client flags on every command of the banner.
func TestDevTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	d := &devCmd{TLS: true, CertsDir: dir}
	addrs := map[string][]string{"grpc-addr": {"127.0.0.1:7100"}, "http-addr": {"127.0.0.2:7180"}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, pki, err := d.template(gateway.Config{}, addrs, log)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLS == nil || pki == nil {
		t.Fatal("dev --tls: no TLS in the node config")
	}
	leaf := cfg.TLS.Certificate()
	for _, h := range []string{"127.0.0.1", "127.0.0.2", "localhost"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("node certificate: %v", err)
		}
	}
	if role := tlsconf.RoleOf(leaf, nil); role != tlsconf.RoleNode {
		t.Errorf("node certificate has role %v", role)
	}
	for _, name := range []string{devClientCert, devAdminCert} {
		if _, err := tlsconf.LoadClient(pki.files(name)); err != nil {
			t.Errorf("%s certificate: %v", name, err)
		}
	}
	again, _, err := d.template(gateway.Config{}, addrs, log)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if !again.TLS.Certificate().Equal(leaf) {
		t.Error("second start made a new node certificate")
	}
	if plain, p, err := (&devCmd{CertsDir: dir}).template(gateway.Config{}, addrs, log); err != nil || plain.TLS != nil || p != nil {
		t.Errorf("dev without --tls: TLS %v, %v", plain.TLS, err)
	}

	var out bytes.Buffer
	b := devBanner{nodes: []devNodeAddrs{{id: "node-0", grpc: "127.0.0.1:7100", http: "127.0.0.1:7180", s3: "127.0.0.1:7200", gossip: "127.0.0.1:7946"}},
		lakeDir: "/lake", s3Auth: "sigv4", access: "a", secret: "s", tls: pki}
	b.print(&out)
	banner := out.String()
	read, admin := pki.clientFlags(devClientCert), pki.clientFlags(devAdminCert)
	for _, line := range strings.Split(banner, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "go run ./cmd/ringcache load"):
			if !strings.HasSuffix(line, admin) {
				t.Errorf("load without the admin flags: %q", line)
			}
		case strings.HasPrefix(line, "go run ./cmd/ringcache"):
			if !strings.HasSuffix(line, read) {
				t.Errorf("CLI example without the TLS flags: %q", line)
			}
		case strings.HasPrefix(line, "curl"):
			if !strings.HasPrefix(line, "curl -s --cacert "+pki.ca()+" ") || !strings.Contains(line, "https://127.0.0.1:7180/") {
				t.Errorf("curl example: %q", line)
			}
		case strings.HasPrefix(line, "aws"):
			if !strings.HasPrefix(line, "aws --ca-bundle "+pki.ca()+" --endpoint-url https://127.0.0.1:7200 ") {
				t.Errorf("aws example: %q", line)
			}
		}
	}
	if !strings.Contains(banner, "TLSFiles: tlsconf.Files{") || strings.Contains(banner, "http://") {
		t.Errorf("banner:\n%s", banner)
	}
}
