package bench_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringcache/ringcache/bench"
	"github.com/ringcache/ringcache/internal/app"
	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/understore"
	"github.com/ringcache/ringcache/understore/s3test"
)

// runCLI runs `ringcache ARGS...` in-process and returns the exit code,
// stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := app.Main(app.Env{Args: args, Stdout: &out, Stderr: &errOut, Context: ctx})
	return code, out.String(), errOut.String()
}

func readJSON(t *testing.T, path string) *bench.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := bench.ReadReport(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestDevMixedWorkload runs `ringcache bench --dev` end to end: a small
// cluster, reads racing overwrites, the no-cache baseline in the same run.
// No wall-clock assertions: only counts and verification.
func TestDevMixedWorkload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	dir := t.TempDir()
	// bench's --seed is an int64 flag that it reads back as a uint64.
	seed := strconv.FormatInt(int64(testseed.New(t)), 10)
	jsonPath := filepath.Join(dir, "out.json")
	code, out, errOut := runCLI(t, "bench", "--dev", "--nodes", "2", "--files", "6", "--file-size", "300KiB",
		"--read-size", "64KiB", "--page-size", "64KiB", "--capacity", "64MiB", "--duration", "2s", "--threads", "4",
		"--read-ratio", "80", "--sync-interval", "200ms", "--compare", "--seed", seed,
		"--json", jsonPath, "--plot", filepath.Join(dir, "plots"))
	t.Log(out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"seed " + seed, "cache vs no-cache", "wrong bytes", "page hit ratio", "operations per second"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	rep := readJSON(t, jsonPath)
	if len(rep.Runs) != 2 || rep.Runs[0].Summary.Target != "cache" || rep.Runs[1].Summary.Target != "understore" {
		t.Fatalf("runs: %+v", rep.Runs)
	}
	for _, r := range rep.Runs {
		s := r.Summary
		if s.WrongBytes != 0 || s.Errors != 0 {
			t.Errorf("%s: %d wrong bytes, %d errors (first: %s)", s.Name, s.WrongBytes, s.Errors, s.FirstError)
		}
		if s.Reads == 0 || s.Writes == 0 || s.Ops != s.Reads+s.Writes || s.OpsPerSec <= 0 || len(r.Series) == 0 {
			t.Errorf("%s: implausible summary %+v", s.Name, s)
		}
		if s.Read.P50Us <= 0 || s.Read.P50Us > s.Read.P99Us || s.Read.P99Us > s.Read.MaxUs {
			t.Errorf("%s: latency %+v", s.Name, s.Read)
		}
		var ops int64
		for _, p := range r.Series {
			ops += p.Ops
		}
		if ops != s.Ops {
			t.Errorf("%s: series adds up to %d ops, summary %d", s.Name, ops, s.Ops)
		}
	}
	c := rep.Runs[0].Summary
	if !c.HasHitRatio || c.PagesHit == 0 || c.BytesLocal+c.BytesPeer+c.BytesUnderstore != c.Bytes {
		t.Errorf("cache run accounting: %+v", c)
	}
	if rep.Runs[1].Summary.HasHitRatio || len(rep.Ratios) != 1 {
		t.Errorf("baseline: %+v, ratios %+v", rep.Runs[1].Summary, rep.Ratios)
	}
	for _, p := range []string{"latency.png", "throughput.png", "hitratio.png"} {
		if _, err := os.Stat(filepath.Join(dir, "plots", p)); err != nil {
			t.Error(err)
		}
	}
}

// TestDevColdWarmScan: the second pass of a scan is served from the cache
// only, the first from the under-store.
func TestDevColdWarmScan(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	jsonPath := filepath.Join(t.TempDir(), "scan.json")
	code, out, errOut := runCLI(t, "bench", "--dev", "--nodes", "2", "--access", "scan", "--files", "4", "--file-size", "256KiB",
		"--read-size", "64KiB", "--page-size", "64KiB", "--threads", "2", "--runs", "2", "--understore-latency", "2ms",
		"--charts=false", "--json", jsonPath)
	t.Log(out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep := readJSON(t, jsonPath)
	if len(rep.Runs) != 2 {
		t.Fatalf("%d runs", len(rep.Runs))
	}
	cold, warm := rep.Runs[0].Summary, rep.Runs[1].Summary
	if cold.Name != "cold" || warm.Name != "warm" || cold.Ops != 16 || warm.Ops != 16 {
		t.Fatalf("runs %s/%d, %s/%d", cold.Name, cold.Ops, warm.Name, warm.Ops)
	}
	if cold.PagesMissed != 16 || cold.BytesUnderstore != 1<<20 {
		t.Errorf("cold pass: %d pages missed, %d bytes from the under-store", cold.PagesMissed, cold.BytesUnderstore)
	}
	// The last pages of the cold pass may still be on their way to disk
	// when the warm pass starts (a node stores a fetched page after
	// answering), and a read that joins such a fetch counts as a miss: at
	// most one per thread.
	if warm.PagesMissed > 2 || warm.PagesHit+warm.PagesMissed != 16 || warm.WrongBytes+cold.WrongBytes != 0 {
		t.Errorf("warm pass: %+v", warm)
	}
	if len(rep.Ratios) != 1 || rep.Ratios[0].Run != "warm" || rep.Ratios[0].Versus != "cold" {
		t.Errorf("ratios %+v", rep.Ratios)
	}
}

// TestDevS3Understore runs the bench with an S3 under-store (gofakes3 on
// loopback), writes included, and against the cluster with --seeds.
func TestDevS3Understore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ep, _ := s3test.StartGofakes3(t)
	s3test.CreateBucket(t, ep, s3test.AccessKey, s3test.SecretKey, "lake")
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	jsonPath := filepath.Join(t.TempDir(), "s3.json")
	code, out, errOut := runCLI(t, "bench", "--dev", "--nodes", "2", "--understore", "s3://lake", "--s3-endpoint", ep, "--s3-path-style",
		"--files", "4", "--file-size", "200KiB", "--read-size", "64KiB", "--page-size", "64KiB", "--access", "pool", "--pool", "2",
		"--ops", "300", "--read-ratio", "0.9", "--threads", "3", "--sync-interval", "100ms", "--write-invalidate",
		"--charts=false", "--json", jsonPath)
	t.Log(out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	s := readJSON(t, jsonPath).Runs[0].Summary
	if s.Ops != 300 || s.Writes == 0 || s.WrongBytes != 0 || s.Errors != 0 || s.PagesHit == 0 {
		t.Errorf("%+v", s)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--seeds", "127.0.0.1:1"},                            // no --understore to write the files to
		{"bench", "--understore-latency", "20ms", "--understore", "x"}, // --dev only
		{"bench", "--dev", "--read-ratio", "0"},
		{"bench", "--dev", "--read-ratio", "150"},
		{"bench", "--dev", "--access", "random"},
		{"bench", "--dev", "--baseline", "--compare"},
		{"bench", "--dev", "--ops", "5", "--duration", "1s"},
		{"bench", "--dev", "--file-size", "1KiB", "--read-size", "2KiB"},
	} {
		if code, _, errOut := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}

// TestSeedsRunningCluster runs the bench against a cluster it did not start
// (--seeds), writing its files into the cluster's under-store directory.
func TestSeedsRunningCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	lake := t.TempDir()
	if err := os.Mkdir(filepath.Join(lake, "lake"), 0o755); err != nil {
		t.Fatal(err)
	}
	store, err := understore.Open(context.Background(), understore.Config{URL: "file://" + lake})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: 2, BaseDir: t.TempDir(), UnderStore: store,
		Template: node.Config{PageSize: 64 << 10, Capacity: 64 << 20, SyncInterval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	args := []string{"bench", "--seeds", strings.Join(c.GRPCAddrs(), ","), "--understore", "file://" + lake,
		"--files", "3", "--file-size", "128KiB", "--read-size", "32KiB", "--access", "uniform", "--ops", "100", "--threads", "2", "--charts=false"}
	// Twice with different seeds: the second run rewrites the files with
	// other bytes, which the cluster (trusting metadata for an hour) would
	// serve as wrong bytes had the bench not invalidated them first.
	for _, seed := range []string{"1", "2"} {
		jsonPath := filepath.Join(t.TempDir(), "seeds.json")
		code, out, errOut := runCLI(t, append(args, "--seed", seed, "--json", jsonPath)...)
		t.Log(out)
		if code != 0 {
			t.Fatalf("seed %s: exit %d: %s", seed, code, errOut)
		}
		s := readJSON(t, jsonPath).Runs[0].Summary
		if s.Ops != 100 || s.WrongBytes != 0 || s.Errors != 0 || !strings.Contains(out, "invalidated lake/bench/") {
			t.Errorf("seed %s: %+v", seed, s)
		}
	}
}
