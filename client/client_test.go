package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

func setup(t *testing.T, nodes int) (understore.Store, *node.LocalCluster, *client.Client) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(dir+"/lake", 0o755); err != nil {
		t.Fatal(err)
	}
	under, err := understore.Open(context.Background(), understore.Config{URL: "file://" + dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { under.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: nodes, BaseDir: t.TempDir(), UnderStore: under,
		Template: node.Config{PageSize: 64 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	cl, err := client.New(ctx, client.Config{Seeds: c.GRPCAddrs(), Fallback: under, AttemptTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return under, c, cl
}

func put(t *testing.T, under understore.Store, p string, data []byte) {
	t.Helper()
	if _, err := under.Put(context.Background(), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := client.New(context.Background(), client.Config{}); !errors.Is(err, client.ErrConfig) {
		t.Fatalf("no seeds: %v", err)
	}
	_, err := client.New(context.Background(), client.Config{Seeds: []string{"127.0.0.1:1"}, CallTimeout: time.Second})
	if !errors.Is(err, client.ErrNoMembers) {
		t.Fatalf("unreachable seed: %v", err)
	}
}

func TestFileIsAReadSeekerBoundToOneVersion(t *testing.T) {
	under, _, cl := setup(t, 2)
	data := bytes.Repeat([]byte("abcdefghij"), 30_000)
	put(t, under, "lake/f/a.bin", data)
	ctx := context.Background()
	f, err := cl.Open(ctx, "lake/f/a.bin")
	if err != nil {
		t.Fatal(err)
	}
	if f.Size() != int64(len(data)) {
		t.Fatalf("size %d", f.Size())
	}
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll: %v, equal=%v", err, bytes.Equal(got, data))
	}
	if _, err := f.Seek(-5, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(f)
	if string(tail) != "fghij" {
		t.Fatalf("tail %q", tail)
	}
	buf := make([]byte, 10)
	if n, err := f.ReadAt(buf, int64(len(data))-4); n != 4 || !errors.Is(err, io.EOF) {
		t.Fatalf("ReadAt across the end: n=%d err=%v", n, err)
	}
	if _, err := f.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("seek before the start accepted")
	}
	// The object changes: the open File refuses to mix versions.
	put(t, under, "lake/f/a.bin", bytes.Repeat([]byte("Z"), len(data)))
	if _, err := cl.Invalidate(ctx, "lake/f/a.bin"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(buf, 0); !errors.Is(err, transport.ErrChanged) {
		t.Fatalf("read of a changed file: %v, want ErrChanged", err)
	}
	g, err := cl.Open(ctx, "lake/f/a.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.ReadAt(buf, 0); err != nil || string(buf) != "ZZZZZZZZZZ" {
		t.Fatalf("reopened: %q %v", buf, err)
	}
}

func TestStatsAndFallbackToUnderStore(t *testing.T) {
	under, c, cl := setup(t, 1)
	data := bytes.Repeat([]byte{7}, 200_000)
	put(t, under, "lake/s/x.bin", data)
	ctx := context.Background()
	buf := make([]byte, len(data))
	var cold, warm client.ReadStats
	if _, err := cl.ReadAt(ctx, "lake/s/x.bin", buf, 0, client.WithStats(&cold)); err != nil {
		t.Fatal(err)
	}
	// The cold read returns before its pages are on disk; Load waits for
	// them (a read meanwhile would share the in-flight fetch).
	if err := cl.Load(ctx, "lake/s/x.bin", false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ReadAt(ctx, "lake/s/x.bin", buf, 0, client.WithStats(&warm)); err != nil {
		t.Fatal(err)
	}
	if cold.BytesUnderstore != int64(len(data)) || cold.PagesMissed != 4 || warm.BytesLocal != int64(len(data)) || warm.PagesHit != 4 {
		t.Fatalf("stats: cold %+v warm %+v", cold, warm)
	}
	if _, err := cl.Stat(ctx, "lake/s/x.bin"); err != nil {
		t.Fatal(err)
	}
	// Every node down: the configured fallback reads the under-store.
	c.Nodes[0].Crash()
	var st client.ReadStats
	clear(buf)
	if _, err := cl.ReadAt(ctx, "lake/s/x.bin", buf, 0, client.WithStats(&st)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, data) || st.BytesDirect != int64(len(data)) {
		t.Fatalf("fallback: equal=%v stats %+v", bytes.Equal(buf, data), st)
	}
}
