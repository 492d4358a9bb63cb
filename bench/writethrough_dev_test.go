package bench_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringcache/ringcache/bench"
	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/gateway"
	"github.com/ringcache/ringcache/internal/app"
	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/understore"
)

func readWriteJSON(t *testing.T, path string) *bench.WriteReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.WriteReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// TestDevWriteThroughSDK runs `ringcache bench --dev --mode write-through`
// with the SDK target: every read right after a write is a hit, every cold
// read a miss, and every byte verifies.
func TestDevWriteThroughSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	seed := strconv.FormatInt(int64(testseed.New(t)), 10)
	jsonPath := filepath.Join(t.TempDir(), "w.json")
	code, out, errOut := runCLI(t, "bench", "--dev", "--nodes", "2", "--mode", "write-through", "--write-target", "sdk",
		"--objects", "3", "--object-size", "300KiB", "--page-size", "64KiB", "--capacity", "64MiB",
		"--understore-latency", "1ms", "--seed", seed, "--json", jsonPath)
	t.Log(out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep := readWriteJSON(t, jsonPath)
	if rep.Mode != "write-through" || rep.Target.Target != "sdk" || rep.Direct.Target != "understore" {
		t.Fatalf("report %+v", rep)
	}
	for _, w := range []bench.WriteRun{rep.Target, rep.Direct} {
		if w.Objects != 3 || w.Errors != 0 || w.Bytes != 3*300<<10 || w.BytesPerSec <= 0 {
			t.Errorf("%s: %+v", w.Target, w)
		}
	}
	a, c := rep.ReadAfterWrite, rep.Cold
	const pages = 3 * 5 // 300 KiB on 64 KiB pages
	if h, ok := a.HitRatio(); !ok || h != 1 || a.PagesHit != pages || a.UnderstoreBytes != 0 {
		t.Errorf("read after write: hit ratio %g (%v), %+v", h, ok, a)
	}
	if c.PagesMissed == 0 || c.UnderstoreBytes == 0 {
		t.Errorf("cold read was not cold: %+v", c)
	}
	if a.WrongBytes+c.WrongBytes != 0 || a.Errors+c.Errors != 0 || a.Reads != 3 || c.Reads != 3 {
		t.Errorf("reads: %+v / %+v", a, c)
	}
	for _, want := range []string{"sdk write", "under-store write", "read after write", "100.0% (15/15 pages)", "sdk vs under-store:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestWriteThroughGateway writes through a real gateway with the AWS SDK's
// default settings. Until the gateway's write handlers are merged it
// answers PutObject with 501 NotImplemented, and the test skips.
func TestWriteThroughGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lake := t.TempDir()
	if err := os.Mkdir(filepath.Join(lake, "lake"), 0o755); err != nil {
		t.Fatal(err)
	}
	store, err := understore.Open(ctx, understore.Config{URL: "file://" + lake})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	keys, err := gateway.ParseKeys(app.DevS3Key)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: 2, BaseDir: t.TempDir(), UnderStore: store,
		Template: node.Config{PageSize: 64 << 10, Capacity: 64 << 20, SyncInterval: time.Hour,
			S3Addr: "127.0.0.1:0", S3: gateway.Config{Keys: keys}}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(context.Background())
	c, err := client.New(ctx, client.Config{Seeds: cl.GRPCAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	access, secret, _ := strings.Cut(app.DevS3Key, ":")
	gt, err := bench.NewGatewayTarget(bench.GatewayConfig{Endpoint: "http://" + cl.Nodes[0].S3Addr(), AccessKey: access, SecretKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	if err := gt.Put(ctx, "lake/bench/probe", bench.ContentReadSeeker(1, 1000), 1000); errors.Is(err, bench.ErrNotImplemented) {
		t.Skipf("the gateway answers PutObject with 501 NotImplemented (its write handlers are not merged yet); this test runs once they are: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	var httpAddrs []string
	for _, n := range cl.Nodes {
		httpAddrs = append(httpAddrs, n.HTTPAddr())
	}
	cfg := bench.WriteConfig{Objects: 3, ObjectSize: 300 << 10, Seed: testseed.New(t)}
	rep, err := bench.RunWriteThrough(ctx, cfg, bench.WriteThrough{
		Target: gt, Reader: gt, Direct: bench.StoreWriteTarget(store), Meter: bench.MetricsMeter(httpAddrs, nil),
		Invalidate: func(ctx context.Context, p string) error { _, err := c.Invalidate(ctx, p); return err },
	})
	if err != nil {
		t.Fatal(err)
	}
	a, co := rep.ReadAfterWrite, rep.Cold
	if rep.Target.Objects != 3 || rep.Target.Errors != 0 || rep.Direct.Objects != 3 {
		t.Errorf("writes %+v / %+v", rep.Target, rep.Direct)
	}
	if h, ok := a.HitRatio(); !ok || h != 1 || a.UnderstoreFrom != bench.FromMetrics || a.UnderstoreBytes != 0 {
		t.Errorf("read after write through the gateway: hit ratio %g (%v), %+v", h, ok, a)
	}
	if co.UnderstoreFrom != bench.FromMetrics || co.UnderstoreBytes < int64(cfg.Objects)*cfg.ObjectSize {
		t.Errorf("cold reads: %+v", co)
	}
	if a.WrongBytes+co.WrongBytes != 0 || a.Errors+co.Errors != 0 {
		t.Errorf("reads %+v / %+v", a, co)
	}
}

// TestMetricsMeterCountsColdRead: the meter sees a cold SDK read's bytes
// come from the under-store, and nothing for the warm read after it.
func TestMetricsMeterCountsColdRead(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lake := t.TempDir()
	if err := os.Mkdir(filepath.Join(lake, "lake"), 0o755); err != nil {
		t.Fatal(err)
	}
	store, err := understore.Open(ctx, understore.Config{URL: "file://" + lake})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const size = 200 << 10
	if _, err := store.Put(ctx, "lake/m/obj", bench.ContentReader(7, size), size); err != nil {
		t.Fatal(err)
	}
	cl, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: 2, BaseDir: t.TempDir(), UnderStore: store,
		Template: node.Config{PageSize: 64 << 10, Capacity: 64 << 20, SyncInterval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(context.Background())
	c, err := client.New(ctx, client.Config{Seeds: cl.GRPCAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var addrs []string
	for _, n := range cl.Nodes {
		addrs = append(addrs, n.HTTPAddr())
	}
	m := bench.MetricsMeter(addrs, nil)
	buf := make([]byte, size)
	var deltas []int64
	for range 2 {
		before, err := m.UnderstoreBytes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ReadAt(ctx, "lake/m/obj", buf, 0); err != nil {
			t.Fatal(err)
		}
		after, err := m.UnderstoreBytes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		deltas = append(deltas, after-before)
	}
	if deltas[0] != size || deltas[1] != 0 {
		t.Errorf("under-store bytes of a cold then a warm read: %v, want [%d 0]", deltas, size)
	}
}

func TestWriteThroughUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--dev", "--objects", "3"},                                      // write flag in read mode
		{"bench", "--dev", "--mode", "write-through", "--threads", "2"},           // read flag in write mode
		{"bench", "--dev", "--mode", "write-through", "--compare"},                // the baseline is built in
		{"bench", "--dev", "--mode", "write-through", "--object-size", "2GiB"},    // held whole to verify
		{"bench", "--dev", "--mode", "write-through", "--gateway-key", "nocolon"}, // ACCESS:SECRET
		{"bench", "--dev", "--mode", "write-through", "--write-target", "s3"},
		{"bench", "--dev", "--mode", "writes"},
	} {
		if code, _, errOut := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}
