package node_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/node/membership"
	"github.com/ringcache/ringcache/transport"
)

func gossipKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// allOK fails unless every one of want members answered without error
// with the keyring fingerprints keys (primary first).
func allOK(t *testing.T, what string, r *transport.KeyringResponse, err error, want int, keys ...[]byte) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var fps []string
	for _, k := range keys {
		fps = append(fps, transport.KeyFingerprint(k))
	}
	if len(r.Members) != want {
		t.Fatalf("%s: %d members answered, want %d: %+v", what, len(r.Members), want, r.Members)
	}
	for _, m := range r.Members {
		if m.Error != "" || !slices.Equal(m.Keys, fps) || !m.Persisted {
			t.Fatalf("%s: member %s answered %+v, want keys %v persisted", what, m.ID, m, fps)
		}
	}
}

// TestKeyringRotationAcrossCluster rotates the gossip key of a running
// 3-node cluster through the SDK (install, use, remove), checks that each
// node persisted it, that the primary cannot be removed, and that a node
// restarted on its data dir rejoins with the persisted keyring although
// its --gossip-key is the old one.
func TestKeyringRotationAcrossCluster(t *testing.T) {
	old, next := gossipKey(1), gossipKey(2)
	base := t.TempDir()
	under := localStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmpl := node.Config{PageSize: testPageSize, GossipKey: old, GossipKeyring: "keyring.json", ClusterName: "test"}
	c, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: 3, BaseDir: base, UnderStore: under, Template: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	cl := newClient(t, c, client.Config{})
	ring := c.Nodes[0].RingVersion()

	// A read load runs through the whole rotation: not one read may fail.
	data := bytes.Repeat([]byte("keyring"), 3*testPageSize/7)
	if _, err := under.Put(ctx, "lake/keys/f.bin", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var reads, failed atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, len(data))
			for {
				select {
				case <-stop:
					return
				default:
				}
				n, err := cl.ReadAt(ctx, "lake/keys/f.bin", buf, 0)
				reads.Add(1)
				if err != nil || !bytes.Equal(buf[:n], data) {
					failed.Add(1)
				}
			}
		}()
	}
	stopReads := func() {
		close(stop)
		wg.Wait()
		if reads.Load() == 0 || failed.Load() != 0 {
			t.Fatalf("reads during the rotation: %d, failed %d; want some and none failed", reads.Load(), failed.Load())
		}
		t.Logf("%d reads during the rotation, 0 failed", reads.Load())
	}

	r, err := cl.KeyringList(ctx)
	allOK(t, "list", r, err, 3, old)
	r, err = cl.KeyringInstall(ctx, next)
	allOK(t, "install", r, err, 3, old, next)
	r, err = cl.KeyringUse(ctx, next)
	allOK(t, "use", r, err, 3, next, old)
	r, err = cl.KeyringRemove(ctx, old)
	allOK(t, "remove", r, err, 3, next)
	r, err = cl.KeyringRemove(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range r.Members {
		if !strings.Contains(m.Error, "primary") {
			t.Fatalf("removing the primary key: member %s answered %+v", m.ID, m)
		}
	}
	for _, n := range c.Nodes {
		if v := n.RingVersion(); v != ring {
			t.Fatalf("%s: ring changed during the rotation", n.ID())
		}
	}
	stopReads()

	// Restart node-2 on its data dir with the old --gossip-key: the keyring
	// file wins and it rejoins.
	if err := c.Nodes[2].Close(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := tmpl
	cfg.ID, cfg.DataDir, cfg.UnderStore = "node-2", filepath.Join(base, "node-2"), under
	cfg.GossipKeyring = filepath.Join(cfg.DataDir, "keyring.json")
	cfg.GRPCAddr, cfg.GossipAddr, cfg.HTTPAddr, cfg.GossipProfile = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "local"
	cfg.Join = []string{c.Nodes[0].GossipAddr()}
	again, err := node.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("restart with the persisted keyring: %v", err)
	}
	c.Nodes[2] = again
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRefusedJoinFailsStart: a node whose join is refused fails Start
// with a clear error and never enters the cluster's ring; one whose join
// address does not answer starts alone (the existing rule).
func TestRefusedJoinFailsStart(t *testing.T) {
	under := localStore(t)
	c := startCluster(t, 2, under, node.Config{GossipKey: gossipKey(1), ClusterName: "prod"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name string
		mut  func(*node.Config)
		want string
	}{
		{"key", func(c *node.Config) { c.GossipKey = gossipKey(2) }, "another gossip key"},
		{"cluster-name", func(c *node.Config) { c.ClusterName = "staging" }, "--cluster-name"},
		{"page-size", func(c *node.Config) { c.PageSize = 2 * testPageSize }, "page size"},
		{"tls", func(c *node.Config) { c.TLSDataPort = true }, "TLS on the data port"},
	} {
		cfg := node.Config{ID: "odd-" + tc.name, DataDir: t.TempDir(), UnderStore: under, PageSize: testPageSize,
			GossipKey: gossipKey(1), ClusterName: "prod", GossipProfile: "local",
			GRPCAddr: "127.0.0.1:0", GossipAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			Join: []string{c.Nodes[0].GossipAddr()}}
		tc.mut(&cfg)
		n, err := node.Start(ctx, cfg)
		if n != nil {
			n.Close(ctx)
		}
		if !errors.Is(err, membership.ErrJoinRefused) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s: Start = %v, want one line saying ErrJoinRefused %q", tc.name, err, tc.want)
		}
		t.Logf("%s: %v", tc.name, err)
		for _, m := range c.Nodes {
			if slices.Contains(m.RingMembers(), cfg.ID) {
				t.Fatalf("%s: %s's ring holds the refused node", tc.name, m.ID())
			}
		}
	}
}
