package membership

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// refusedJoin starts a member that joins ms[0] with mut applied and checks
// that Start fails with ErrJoinRefused (and the wanted text), fast (no
// retries), and that the cluster never lists it.
func refusedJoin(t *testing.T, ms []*Membership, name string, mut func(*Config), want string) {
	t.Helper()
	cfg := testConfig(t, name)
	cfg.Join = []string{ms[0].LocalAddr()}
	cfg.JoinAttempts = 3
	cfg.JoinRetryInterval = 2 * time.Second // a retry would show in the elapsed time
	mut(&cfg)
	begin := time.Now()
	m, err := Start(cfg)
	if m != nil {
		_ = m.Shutdown()
	}
	if !errors.Is(err, ErrJoinRefused) || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: Start = %v, want ErrJoinRefused saying %q", name, err, want)
	}
	if d := time.Since(begin); d > cfg.JoinRetryInterval {
		t.Errorf("%s: refused after %v: a refusal must not be retried", name, d)
	}
	t.Logf("%s: %v", name, err)
	for _, c := range ms {
		if _, ok := c.Member(name); ok {
			t.Errorf("%s: %s lists the refused node", name, c.name)
		}
	}
	if !sameRing(ms, ids(ms)) {
		t.Fatalf("%s: rings changed:%s", name, describe(ms))
	}
}

// TestJoinRefused runs each kind of refusal against real memberlist on
// loopback and pins the memberlist behaviour join.go relies on.
func TestJoinRefused(t *testing.T) {
	secure := func(c *Config) { c.Keys = [][]byte{key(1)}; c.Label = "prod" }
	ms := cluster(t, "s", 2, secure)
	waitRing(t, ms, ids(ms), "pair to converge")

	refusedJoin(t, ms, "wrong-key", func(c *Config) { secure(c); c.Keys = [][]byte{key(2)} }, "another gossip key")
	refusedJoin(t, ms, "no-key", func(c *Config) { secure(c); c.Keys = nil }, "this node has no gossip key")
	refusedJoin(t, ms, "wrong-label", func(c *Config) { secure(c); c.Label = "staging" }, "another --cluster-name")
	refusedJoin(t, ms, "no-label", func(c *Config) { secure(c); c.Label = "" }, "another --cluster-name")
	refusedJoin(t, ms, "tls", func(c *Config) { secure(c); c.Meta.TLS = true }, "TLS on the data port")
	refusedJoin(t, ms, "page", func(c *Config) { secure(c); c.Meta.PageSize = 1 << 21 }, "page size")

	plain := cluster(t, "p", 1, nil)
	refusedJoin(t, plain, "keyed", func(c *Config) { c.Keys = [][]byte{key(1)} }, "does not encrypt gossip")
	refusedJoin(t, plain, "keyed-lenient", func(c *Config) { c.Keys = [][]byte{key(1)}; c.AcceptPlaintext = true }, "sends encrypted gossip")
	refusedJoin(t, plain, "labelled", func(c *Config) { c.Label = "prod" }, "another --cluster-name")
}

// A refusal wins over an address that does not answer: the node must not
// start alone just because another join address is down.
func TestJoinRefusedAndUnreachable(t *testing.T) {
	ms := cluster(t, "u", 1, func(c *Config) { c.Label = "a" })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	cfg := testConfig(t, "other")
	cfg.Label = "b"
	cfg.Join = []string{dead, ms[0].LocalAddr()}
	if m, err := Start(cfg); !errors.Is(err, ErrJoinRefused) {
		if m != nil {
			_ = m.Shutdown()
		}
		t.Fatalf("Start = %v, want ErrJoinRefused", err)
	}
}

// The unreachable case: a node whose join address is down starts alone and
// joins once a member comes up there.
func TestJoinLaterWhenAddressComesUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	cfg := testConfig(t, "early")
	cfg.Label = "c"
	cfg.Keys = [][]byte{key(3)}
	cfg.Join = []string{addr.String()}
	cfg.ReconnectInterval = 200 * time.Millisecond
	early := start(t, cfg)

	late := testConfig(t, "late")
	late.Label, late.Keys = "c", [][]byte{key(3)}
	late.BindPort = addr.Port
	m := start(t, late)
	all := []*Membership{early, m}
	waitRing(t, all, ids(all), "the early node to join the late one")
}
