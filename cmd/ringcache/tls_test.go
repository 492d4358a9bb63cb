package main_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLIWithTLS runs `ringcache certs`, a node with --tls-*, and client
// commands against it: reads with a client certificate are exact; no
// certificate, plaintext and a non-admin invalidate exit 1 at once with one
// line; SIGHUP rotates the served certificate, and a broken one is refused
// with the node still serving.
func TestCLIWithTLS(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"certs", "init", "--dir", dir},
		{"certs", "node", "--dir", dir, "--name", "n1", "--hosts", "127.0.0.1,localhost"},
		{"certs", "node", "--dir", dir, "--name", "n1-next", "--hosts", "127.0.0.1,localhost"},
		{"certs", "client", "--dir", dir, "--name", "reader"},
		{"certs", "client", "--dir", dir, "--name", "ops", "--admin"},
	} {
		if code, _, stderr := run(t, args...); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
	}
	f := func(name string) string { return filepath.Join(dir, name) }
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(f("ca.crt"))
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("ca.crt: %v", err)
	}
	lake := t.TempDir()
	data := bytes.Repeat([]byte("tls-bytes-"), 300_000)
	if err := os.MkdirAll(filepath.Join(lake, "lake/d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lake, "lake/d/f.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	n := newProc(t, "t0", lake, "")
	n.extra = []string{"--tls-cert", f("n1.crt"), "--tls-key", f("n1.key"), "--tls-ca", f("ca.crt")}
	n.https = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	n.start(t)

	seeds, ca := "--seeds="+n.grpc, "--tls-ca="+f("ca.crt")
	reader := []string{seeds, ca, "--tls-cert", f("reader.crt"), "--tls-key", f("reader.key")}
	admin := []string{seeds, ca, "--tls-cert", f("ops.crt"), "--tls-key", f("ops.key")}
	out := filepath.Join(t.TempDir(), "out.bin")
	if code, _, stderr := run(t, append([]string{"get", "lake/d/f.bin", "-o", out}, reader...)...); code != 0 {
		t.Fatalf("get with a client certificate: exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatal("get over TLS: wrong bytes")
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no certificate", []string{"get", "lake/d/f.bin", seeds, ca, "-o", out}, "requires a client certificate"},
		{"plaintext", []string{"stat", "lake/d/f.bin", seeds}, "requires TLS"},
		{"non-admin invalidate", append([]string{"invalidate", "lake/d/f.bin"}, reader...), "permission denied"},
		{"non-admin load", append([]string{"load", "lake/d/f.bin"}, reader...), "permission denied"},
	} {
		start := time.Now()
		code, _, stderr := run(t, tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want 1 and one line with %q", tc.name, code, stderr, tc.want)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: took %s: retried?", tc.name, took)
		}
	}
	for _, cmd := range [][]string{{"stat", "lake/d/f.bin"}, {"members"}, {"affinity", "lake/d/f.bin"}} {
		if code, _, stderr := run(t, append(cmd, reader...)...); code != 0 {
			t.Errorf("%q with a client certificate: exit %d: %s", cmd, code, stderr)
		}
	}
	if code, _, stderr := run(t, append([]string{"invalidate", "lake/d/f.bin"}, admin...)...); code != 0 {
		t.Fatalf("invalidate with an admin certificate: exit %d: %s", code, stderr)
	}

	// Rotate on SIGHUP.
	served := func() string {
		t.Helper()
		cert, err := tls.LoadX509KeyPair(f("reader.crt"), f("reader.key"))
		if err != nil {
			t.Fatal(err)
		}
		conn, err := tls.Dial("tcp", n.grpc, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := served()
	for _, pair := range [][2]string{{"n1-next.key", "n1.key"}, {"n1-next.crt", "n1.crt"}} {
		b, err := os.ReadFile(f(pair[0]))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f(pair[1]), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hup := func(logLine string) {
		t.Helper()
		if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(n.logged(), logLine) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the node's log after SIGHUP:\n%s", logLine, n.logged())
			}
			time.Sleep(20 * time.Millisecond) // polling an external process's log
		}
	}
	hup("TLS certificate reloaded")
	after := served()
	if after == before {
		t.Fatalf("served serial %s unchanged after SIGHUP", after)
	}
	if err := os.WriteFile(f("n1.crt"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	hup("TLS reload refused")
	if got := served(); got != after {
		t.Fatalf("served serial %s after a refused reload, want %s", got, after)
	}
	if code, _, stderr := run(t, append([]string{"get", "lake/d/f.bin", "-o", out}, reader...)...); code != 0 {
		t.Fatalf("get after a refused reload: exit %d: %s", code, stderr)
	}
}
