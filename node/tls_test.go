package node_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/gateway"
	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/tlsconf"
	"github.com/ringcache/ringcache/tlsconf/certgen"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// testPKI is a development CA with the certificates the TLS tests use,
// made with the code of `ringcache certs`.
type testPKI struct {
	dir                  string
	node                 tlsconf.Files
	reader, admin, other tlsconf.Files // other: signed by another CA
	expired              tlsconf.Files
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir()}
	if err := certgen.InitCA(p.dir); err != nil {
		t.Fatal(err)
	}
	p.node = issueCert(t, p.dir, certgen.Request{Kind: certgen.Node, Name: "node", Hosts: []string{"127.0.0.1", "localhost"}})
	p.reader = issueCert(t, p.dir, certgen.Request{Kind: certgen.Client, Name: "reader"})
	p.admin = issueCert(t, p.dir, certgen.Request{Kind: certgen.Admin, Name: "ops"})
	p.expired = issueCert(t, p.dir, certgen.Request{Kind: certgen.Client, Name: "old",
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	otherDir := t.TempDir()
	if err := certgen.InitCA(otherDir); err != nil {
		t.Fatal(err)
	}
	p.other = issueCert(t, otherDir, certgen.Request{Kind: certgen.Admin, Name: "stranger"})
	p.other.CA = p.node.CA // it trusts our CA, but its certificate is not ours
	return p
}

func issueCert(t testing.TB, dir string, req certgen.Request) tlsconf.Files {
	t.Helper()
	crt, key, err := certgen.Issue(dir, req)
	if err != nil {
		t.Fatal(err)
	}
	return tlsconf.Files{Cert: crt, Key: key, CA: filepath.Join(dir, certgen.CACert)}
}

// rawClientConfig is a client config without tlsconf.LoadClient's checks
// (it refuses an expired or foreign certificate before the node sees it).
func rawClientConfig(t testing.TB, f tlsconf.Files) *tls.Config {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: caPool(t, f.CA), MinVersion: tls.VersionTLS12}
}

func caPool(t testing.TB, path string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no CA certificate")
	}
	return pool
}

// startTLSCluster starts nodes sharing one node certificate, with S3
// gateways (SigV4, key AK:SK).
func startTLSCluster(t testing.TB, p *testPKI, nodes int) (*node.LocalCluster, *tlsconf.Reloader, understore.Store) {
	t.Helper()
	r, err := tlsconf.NewReloader(p.node, nil)
	if err != nil {
		t.Fatal(err)
	}
	under := localStore(t)
	c := startCluster(t, nodes, under, node.Config{TLS: r, S3Addr: "127.0.0.1:0",
		S3: gateway.Config{Auth: gateway.AuthSigV4, Keys: map[string]string{"AK": "SK"}}})
	return c, r, under
}

func newTLSClient(t testing.TB, c *node.LocalCluster, cfg client.Config) (*client.Client, error) {
	t.Helper()
	cfg.Seeds = c.GRPCAddrs()
	cl, err := client.New(context.Background(), cfg)
	if err == nil {
		t.Cleanup(func() { cl.Close() })
	}
	return cl, err
}

// TestTLSCluster: a 3-node cluster with mTLS serves byte-exact reads to a
// client certificate; clients without one, with another CA's, with an
// expired one or in plaintext are refused at once with a clear error
// while the cluster keeps serving; a plain client certificate may not
// invalidate, load or pin, an admin one may.
func TestTLSCluster(t *testing.T) {
	p := newTestPKI(t)
	c, _, under := startTLSCluster(t, p, 3)
	rng := rand.New(rand.NewPCG(testseed.New(t), 1))
	files := putFiles(t, rng, under, "lake/tls", 6)
	reader, err := newTLSClient(t, c, client.Config{TLSFiles: p.reader})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range files {
		checkRange(t, reader, path, want, 0, int64(len(want))+1)
		if len(want) > 2<<20 {
			checkRange(t, reader, path, want, 12345, 64<<10)
			checkRange(t, reader, path, want, 1<<20-3, 1<<20)
		}
	}

	refused := []struct {
		name string
		cfg  client.Config
		want string
	}{
		{"no client certificate", client.Config{TLSFiles: tlsconf.Files{CA: p.node.CA}}, "requires a client certificate"},
		{"another CA", client.Config{TLS: rawClientConfig(t, p.other)}, "not signed by its CA"},
		{"expired", client.Config{TLS: rawClientConfig(t, p.expired)}, "expired"},
		{"plaintext", client.Config{}, "requires TLS"},
		{"node not trusted", client.Config{TLS: &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12}}, "not signed by the CA"},
	}
	for _, r := range refused {
		start := time.Now()
		_, err := newTLSClient(t, c, r.cfg)
		took := time.Since(start)
		if !errors.Is(err, tlsconf.ErrHandshake) || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%s: %v, want a handshake error saying %q", r.name, err, r.want)
			continue
		}
		if took > 3*time.Second {
			t.Errorf("%s: refused after %s: retried?", r.name, took)
		}
		t.Logf("%s (%s): %v", r.name, took.Round(time.Millisecond), err)
	}
	// The cluster still serves the good client.
	for path, want := range files {
		checkRange(t, reader, path, want, 0, int64(len(want)))
	}

	ctx := context.Background()
	var some string
	for path := range files {
		some = path
		break
	}
	_, err = reader.Invalidate(ctx, some)
	if status.Code(err) != codes.PermissionDenied || !errors.Is(err, transport.ErrAccessDenied) || !strings.Contains(err.Error(), "admin certificate") {
		t.Fatalf("invalidate with a plain client certificate: %v, want PermissionDenied", err)
	}
	if err := reader.Load(ctx, some, false, nil); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("load with a plain client certificate: %v, want PermissionDenied", err)
	}
	if _, err := reader.SetPinned(ctx, some, true); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("pin with a plain client certificate: %v, want PermissionDenied", err)
	}
	if _, err := reader.Stat(ctx, some); err != nil {
		t.Fatalf("stat with a plain client certificate: %v", err)
	}
	admin, err := newTLSClient(t, c, client.Config{TLSFiles: p.admin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Invalidate(ctx, some); err != nil {
		t.Fatalf("invalidate with an admin certificate: %v", err)
	}
	if err := admin.Load(ctx, some, false, nil); err != nil {
		t.Fatalf("load with an admin certificate: %v", err)
	}
	checkRange(t, reader, some, files[some], 0, int64(len(files[some])))

	// A read sent to a node that does not own the file is forwarded to
	// the owner over mTLS with the node's own certificate.
	var big string
	for path, data := range files {
		if len(data) > 1<<20 {
			big = path
		}
	}
	if big == "" {
		t.Fatal("no file over 1 MiB")
	}
	pref := reader.Preferred(big, 3)
	tc, err := transport.NewClient(transport.ClientConfig{TLS: rawClientConfig(t, p.reader)})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	buf := make([]byte, 1<<20)
	res, err := tc.Read(ctx, pref[len(pref)-1].GRPCAddr, &transport.ReadRequest{Path: big, Length: 1 << 20}, buf)
	if err != nil || !bytes.Equal(buf[:res.N], files[big][:1<<20]) {
		t.Fatalf("read through a non-owner: n=%d err=%v", res.N, err)
	}
	if res.Stats.BytesPeer != 1<<20 {
		t.Fatalf("read through %s (owner %s): stats %+v, want 1 MiB from the owner (forwarded over TLS)", pref[len(pref)-1].ID, pref[0].ID, res.Stats)
	}
}

// httpsClient trusts the test CA; cert, if set, is its client certificate.
func httpsClient(t testing.TB, p *testPKI, cert *tlsconf.Files) *http.Client {
	t.Helper()
	cfg := &tls.Config{RootCAs: caPool(t, p.node.CA), MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg = rawClientConfig(t, *cert)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 30 * time.Second}
}

func getStatus(t testing.TB, hc *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestTLSHTTPAndS3: the HTTP and S3 listeners serve HTTPS; /debug/pprof/
// needs an admin or node certificate, the rest none; the S3 gateway
// serves byte-exact objects to aws-sdk-go-v2 over HTTPS.
func TestTLSHTTPAndS3(t *testing.T) {
	p := newTestPKI(t)
	c, r, under := startTLSCluster(t, p, 2)
	n := c.Nodes[0]
	anon := httpsClient(t, p, nil)
	for _, path := range []string{"/healthz", "/readyz", "/v1/members", "/v1/affinity?path=lake/x"} {
		if code, body := getStatus(t, anon, "https://"+n.HTTPAddr()+path); code != http.StatusOK {
			t.Errorf("GET %s without a client certificate: %d %s", path, code, body)
		}
	}
	// The status page over HTTPS: the page, and the JSON it polls (a
	// relative URL, so it follows the page's scheme), with every member.
	if code, body := getStatus(t, anon, "https://"+n.HTTPAddr()+"/"); code != http.StatusOK || !strings.Contains(body, "v1/status") {
		t.Errorf("GET / over HTTPS: %d, want the status page polling v1/status", code)
	}
	if code, body := getStatus(t, anon, "https://"+n.HTTPAddr()+"/v1/status"); code != http.StatusOK || !strings.Contains(body, c.Nodes[1].ID()) {
		t.Errorf("GET /v1/status over HTTPS: %d %.200s", code, body)
	}
	if code, body := getStatus(t, anon, "https://"+n.HTTPAddr()+"/metrics"); code != http.StatusOK || !strings.Contains(body, fmt.Sprintf("%s %g", tlsconf.ExpiryMetricName, float64(r.Certificate().NotAfter.Unix()))) {
		t.Errorf("/metrics: %d, the expiry gauge missing or wrong", code)
	}
	for _, tc := range []struct {
		name string
		hc   *http.Client
		want int
	}{{"no certificate", anon, http.StatusForbidden}, {"reader", httpsClient(t, p, &p.reader), http.StatusForbidden},
		{"admin", httpsClient(t, p, &p.admin), http.StatusOK}, {"node", httpsClient(t, p, &p.node), http.StatusOK}} {
		if code, body := getStatus(t, tc.hc, "https://"+n.HTTPAddr()+"/debug/pprof/"); code != tc.want {
			t.Errorf("pprof, %s: %d %q, want %d", tc.name, code, body, tc.want)
		}
	}
	if resp, err := http.Get("http://" + n.HTTPAddr() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the HTTPS listener")
		}
	}

	data := randomData(testseed.New(t), 3<<20+777)
	if _, err := under.Put(context.Background(), "lake/s3/obj.bin", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	for i, nd := range c.Nodes {
		s3c := s3.New(s3.Options{
			Region: "us-east-1", BaseEndpoint: aws.String("https://" + nd.S3Addr()), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", ""),
			HTTPClient:  anon,
		})
		out, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("s3/obj.bin")})
		if err != nil {
			t.Fatalf("node %d: GetObject over HTTPS: %v", i, err)
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("node %d: GetObject over HTTPS: %d bytes, err %v, not the object", i, len(got), err)
		}
	}
}

func randomData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// servedSerial is the serial of the certificate a node's gRPC port serves
// to a new connection.
func servedSerial(t testing.TB, p *testPKI, addr string) string {
	t.Helper()
	cfg := rawClientConfig(t, p.reader)
	cfg.ServerName = "127.0.0.1"
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// replaceFile swaps path's content for src's atomically (write, rename),
// as a certificate manager does.
func replaceFile(t testing.TB, src, path string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestTLSReloadUnderLoad rotates the nodes' certificate while readers run:
// no read fails, new connections get the new certificate, and a reload of
// a broken certificate is refused with the new one kept.
func TestTLSReloadUnderLoad(t *testing.T) {
	p := newTestPKI(t)
	c, r, under := startTLSCluster(t, p, 3)
	rng := rand.New(rand.NewPCG(testseed.New(t), 3))
	files := putFiles(t, rng, under, "lake/reload", 8)
	paths := make([]string, 0, len(files))
	for path := range files {
		paths = append(paths, path)
	}
	oldSerial := servedSerial(t, p, c.Nodes[0].GRPCAddr())

	var reads, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 9))
			// Each round uses a new client: new connections, new
			// handshakes, across the rotation.
			for round := 0; ; round++ {
				cl, err := client.New(context.Background(), client.Config{Seeds: c.GRPCAddrs(), TLSFiles: p.reader})
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					return
				}
				for range 20 {
					select {
					case <-stop:
						cl.Close()
						return
					default:
					}
					path := paths[r.IntN(len(paths))]
					want := files[path]
					if len(want) == 0 {
						continue
					}
					off := r.Int64N(int64(len(want)))
					buf := make([]byte, min(int64(len(want))-off, 256<<10))
					n, err := cl.ReadAt(context.Background(), path, buf, off)
					if (err != nil && !errors.Is(err, io.EOF)) || !bytes.Equal(buf[:n], want[off:off+int64(n)]) || n != len(buf) {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Errorf("%s@%d: n=%d err=%v", path, off, n, err))
					}
					reads.Add(1)
				}
				cl.Close()
			}
		}()
	}
	waitReads := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for want := reads.Load() + n; reads.Load() < want; {
			if time.Now().After(deadline) || failed.Load() > 0 {
				t.Fatalf("%d reads, %d failed (%v)", reads.Load(), failed.Load(), firstErr.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitReads(100)

	// Rotate: a new certificate for the same names, then reload.
	fresh := issueCert(t, p.dir, certgen.Request{Kind: certgen.Node, Name: "node-next", Hosts: []string{"127.0.0.1", "localhost"}})
	replaceFile(t, fresh.Key, p.node.Key)
	replaceFile(t, fresh.Cert, p.node.Cert)
	if err := r.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	newSerial := servedSerial(t, p, c.Nodes[1].GRPCAddr())
	if newSerial == oldSerial {
		t.Fatalf("served serial %s unchanged after the reload", newSerial)
	}
	waitReads(200)

	// A broken certificate is refused; the rotated one stays.
	if err := os.WriteFile(p.node.Cert, []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); !errors.Is(err, tlsconf.ErrReload) {
		t.Fatalf("reload of a broken certificate: %v, want ErrReload", err)
	}
	if got := servedSerial(t, p, c.Nodes[2].GRPCAddr()); got != newSerial {
		t.Fatalf("served serial %s after a refused reload, want %s", got, newSerial)
	}
	waitReads(100)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d reads failed: %v", failed.Load(), reads.Load(), firstErr.Load())
	}
	t.Logf("%d reads across the rotation, 0 failed; serial %s -> %s", reads.Load(), oldSerial, newSerial)
}
