package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/tlsconf"
	"github.com/ringcache/ringcache/tlsconf/certgen"
)

// testPKI is a CA in a temporary directory with a node certificate and
// the configs of a node and of a client.
type testPKI struct {
	dir    string
	node   *tlsconf.Reloader
	client *tls.Config // a plain client certificate
	anon   *tls.Config // the CA only
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	dir := t.TempDir()
	if err := certgen.InitCA(dir); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, certgen.CACert)
	crt, key, err := certgen.Issue(dir, certgen.Request{Kind: certgen.Node, Name: "node-a", Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{dir: dir}
	if p.node, err = tlsconf.NewReloader(tlsconf.Files{Cert: crt, Key: key, CA: ca}, nil); err != nil {
		t.Fatal(err)
	}
	ccrt, ckey, err := certgen.Issue(dir, certgen.Request{Kind: certgen.Client, Name: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	if p.client, err = tlsconf.LoadClient(tlsconf.Files{Cert: ccrt, Key: ckey, CA: ca}); err != nil {
		t.Fatal(err)
	}
	if p.anon, err = tlsconf.LoadClient(tlsconf.Files{CA: ca}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTLSStream reads byte-exact through TLS with every way a handler
// sends bytes (sendfile's fallback, mappings, memory), small and large, and
// calls gRPC on the same TLS port with the peer's certificate visible.
func TestTLSStream(t *testing.T) {
	p := newTestPKI(t)
	data := pattern(3, 3<<20+12345)
	var seen sync.Map
	record := grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if c := tlsconf.PeerCertificate(ctx); c != nil {
			seen.Store(c.Subject.CommonName, true)
		}
		return h(ctx, req)
	})
	for _, mode := range []string{"file", "mapped", "memory"} {
		t.Run(mode, func(t *testing.T) {
			h := &testHandler{objects: map[string]*testObject{"lake/a": newTestObject(t, t.TempDir(), "a", data, 1<<20)}, memory: mode == "memory", mapped: mode == "mapped"}
			ts := startServer(t, ServerConfig{TLS: p.node.ServerConfig(), GRPCOptions: []grpc.ServerOption{record}}, &fakeControl{}, h)
			c := newTestClient(t, ClientConfig{TLS: p.client})
			for _, r := range [][2]int64{{0, 1}, {100, 64 << 10}, {5, 200 << 10}, {(1 << 20) - 7, 1 << 20}, {0, int64(len(data))}} {
				req := &ReadRequest{Path: "lake/a", Offset: r[0], Length: r[1]}
				dst := make([]byte, r[1])
				res, err := c.Read(context.Background(), ts.addr, req, dst)
				if err != nil {
					t.Fatalf("%s: %v", describe(req), err)
				}
				if res.N != int(r[1]) || !bytes.Equal(dst, data[r[0]:r[0]+r[1]]) {
					t.Fatalf("%s: %d bytes, not the object's", describe(req), res.N)
				}
			}
			if mode == "mapped" && h.handed.Load() != h.released.Load() {
				t.Fatalf("%d mappings handed over, %d released", h.handed.Load(), h.released.Load())
			}
			cc, err := c.Control(ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cc.Members(context.Background(), &MembersRequest{}); err != nil {
				t.Fatalf("Members over TLS: %v", err)
			}
			if _, ok := seen.Load("reader"); !ok {
				t.Fatal("the interceptor did not see the client certificate")
			}
		})
	}
}

// TestTLSRefusals: a TLS port refuses plaintext and unknown clients with
// ErrTLS (no retry) or a clear access-denied read, and a TLS client of a
// plaintext port fails with ErrTLS.
func TestTLSRefusals(t *testing.T) {
	p := newTestPKI(t)
	h := &testHandler{objects: map[string]*testObject{"lake/a": newTestObject(t, t.TempDir(), "a", pattern(1, 4096), 1<<20)}}
	tlsSrv := startServer(t, ServerConfig{TLS: p.node.ServerConfig()}, &fakeControl{}, h)
	plainSrv := startServer(t, ServerConfig{}, &fakeControl{}, h)
	other := newTestPKI(t)
	read := func(cfg *tls.Config, addr string) error {
		c := newTestClient(t, ClientConfig{TLS: cfg, RetryMax: -1})
		_, err := c.Read(context.Background(), addr, &ReadRequest{Path: "lake/a", Length: 10}, make([]byte, 10))
		return err
	}
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
		addr string
		want error
	}{
		{"no client certificate", p.anon, tlsSrv.addr, ErrTLS},
		{"client of another CA", other.client, tlsSrv.addr, ErrTLS},
		{"TLS against plaintext", p.client, plainSrv.addr, ErrTLS},
		{"plaintext against TLS", nil, tlsSrv.addr, ErrAccessDenied},
	} {
		start := time.Now()
		err := read(tc.cfg, tc.addr)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		if tc.want == ErrTLS && tlsconf.AsHandshake(tc.addr, err) == nil {
			t.Errorf("%s: %v is not recognised as a handshake error", tc.name, err)
		}
		if tc.want == ErrAccessDenied && !strings.Contains(err.Error(), "requires TLS") {
			t.Errorf("%s: %v does not say TLS is required", tc.name, err)
		}
		t.Logf("%s (%s): %v", tc.name, time.Since(start).Round(time.Millisecond), err)
	}
	// gRPC without a client certificate.
	c := newTestClient(t, ClientConfig{TLS: p.anon})
	cc, err := c.Control(tlsSrv.addr)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cc.Members(context.Background(), &MembersRequest{})
	if status.Code(err) != codes.Unauthenticated || tlsconf.AsHandshake(tlsSrv.addr, err) == nil {
		t.Errorf("gRPC without a client certificate: %v, want Unauthenticated naming the TLS problem", err)
	}
	// A plaintext client can tell a TLS node from a plaintext one.
	plain := newTestClient(t, ClientConfig{})
	if !plain.ProbeRequiresTLS(context.Background(), tlsSrv.addr) || plain.ProbeRequiresTLS(context.Background(), plainSrv.addr) {
		t.Error("ProbeRequiresTLS does not tell the TLS port from the plaintext one")
	}
	t.Logf("gRPC without a client certificate: %v", err)
	// The server still serves a good client.
	if err := read(p.client, tlsSrv.addr); err != nil {
		t.Fatalf("good client after refusals: %v", err)
	}
}
