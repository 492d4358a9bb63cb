package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ringcache/ringcache/bench"
	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/gateway"
	"github.com/ringcache/ringcache/internal/cli"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/understore"
)

// benchSession is one bench's state, built up phase by phase.
type benchSession struct {
	f   *benchCmd
	cfg bench.Config
	env Env
	out io.Writer
	log *slog.Logger

	tmp      string           // --dev temp dir ("" if none)
	underURL string           // the under-store, as printed
	raw      understore.Store // the under-store without the added latency
	store    understore.Store // raw behind --understore-latency
	cluster  *node.LocalCluster
	desc     string // the cluster, as printed
	client   *client.Client
	b        *bench.Bench

	setupStart time.Time
	loadAvg    string
	closers    []func()
}

// close undoes the phases in reverse order.
func (s *benchSession) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// openUnderStore opens the under-store that holds the bench's files,
// receives its writes and serves the baseline: a temp dir with --dev
// unless --understore names one.
func (s *benchSession) openUnderStore(ctx context.Context) error {
	f := s.f
	if f.Dev && (f.Under == "" || f.DataDir == "") {
		dir, err := os.MkdirTemp("", "ringcache-bench-*")
		if err != nil {
			return err
		}
		s.tmp = dir
		s.closers = append(s.closers, func() { os.RemoveAll(dir) })
	}
	s.underURL = f.Under
	if s.underURL == "" {
		s.underURL = "file://" + filepath.Join(s.tmp, "lake")
	}
	if !strings.Contains(s.underURL, "://") {
		abs, err := filepath.Abs(s.underURL)
		if err != nil {
			return err
		}
		s.underURL = "file://" + abs
	}
	if dir, ok := strings.CutPrefix(s.underURL, "file://"); ok {
		bucket, _, _ := strings.Cut(s.cfg.Prefix, "/")
		if err := os.MkdirAll(filepath.Join(dir, bucket), 0o755); err != nil {
			return fmt.Errorf("under-store: %w", err)
		}
	}
	raw, err := understore.Open(ctx, understore.Config{URL: s.underURL, Endpoint: f.S3Endpoint, Region: f.S3Region, PathStyle: f.S3PathStyle, Logger: s.log})
	if err != nil {
		return fmt.Errorf("under-store: %w", err)
	}
	s.closers = append(s.closers, func() { raw.Close() })
	s.raw, s.store = raw, bench.DelayStore(raw, f.Latency)
	return nil
}

// startCluster starts the --dev cluster (or takes --seeds), connects the
// client and prints the header.
func (s *benchSession) startCluster(ctx context.Context) error {
	f := s.f
	seeds := f.Seeds
	s.desc = "seeds " + strings.Join(seeds, ",")
	if f.Dev {
		dataDir := f.DataDir
		if dataDir == "" {
			dataDir = filepath.Join(s.tmp, "data")
		}
		// Every node runs the S3 gateway, as under `ringcache dev`, with
		// --gateway-key: the write-through mode writes through it.
		keys, err := gateway.ParseKeys(f.GatewayKey)
		if err != nil {
			return cli.Usagef(benchName, "--gateway-key: %v", err)
		}
		startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
		cluster, err := node.StartLocalCluster(startCtx, node.LocalClusterConfig{
			Nodes: f.Nodes, BaseDir: dataDir, UnderStore: s.store, Logger: s.log,
			Template: node.Config{Capacity: f.Capacity.Bytes(), PageSize: f.PageSize.Bytes(), SyncInterval: f.SyncInterval,
				S3Addr: "127.0.0.1:0", S3: gateway.Config{Auth: gateway.AuthSigV4, Keys: keys}},
		})
		cancel()
		if err != nil {
			return err
		}
		s.closers = append(s.closers, func() {
			sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer scancel()
			cluster.Close(sctx)
		})
		s.cluster, seeds = cluster, cluster.GRPCAddrs()
		s.desc = fmt.Sprintf("dev: %d nodes in-process, page %s, capacity %s/node, sync interval %s",
			f.Nodes, f.PageSize, f.Capacity, f.SyncInterval)
	}
	ccfg := client.Config{Seeds: seeds, Logger: s.log}
	if !f.Dev {
		ccfg.TLSFiles = f.tlsFiles()
	}
	c, err := client.New(ctx, ccfg)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func() { c.Close() })
	s.client = c
	if s.b, err = bench.New(s.cfg, s.store); err != nil {
		return cli.Usagef(benchName, "%v", err)
	}
	s.printHeader()
	return nil
}

func (s *benchSession) printHeader() {
	out, cfg := s.out, s.cfg
	s.loadAvg = readLoadAvg()
	fmt.Fprintf(out, "ringcache bench: %s\n", s.desc)
	if s.f.Mode == modeWriteThrough {
		s.printUnderstore()
		fmt.Fprintf(out, "\nseed %d (rerun with --seed %d); load average %s; GOMAXPROCS %d\n", cfg.Seed, int64(cfg.Seed), s.loadAvg, runtime.GOMAXPROCS(0))
		return
	}
	s.printUnderstore()
	fmt.Fprintf(out, "\nworkload: threads %d, %s, read ratio %g, %d files x %s, reads of %s, access %s",
		cfg.Threads, runLength(cfg), cfg.ReadRatio, cfg.Files, cli.FormatSize(cfg.FileSize), cli.FormatSize(cfg.ReadSize), cfg.Access)
	switch cfg.Access {
	case bench.AccessZipf:
		fmt.Fprintf(out, " (s=%g)", cfg.ZipfS)
	case bench.AccessPool:
		fmt.Fprintf(out, " (%d hot files)", cfg.PoolFiles)
	}
	fmt.Fprintf(out, "\nseed %d (rerun with --seed %d); load average %s; GOMAXPROCS %d\n", cfg.Seed, int64(cfg.Seed), s.loadAvg, runtime.GOMAXPROCS(0))
}

// printUnderstore prints the under-store and its added latency (no
// newline).
func (s *benchSession) printUnderstore() {
	fmt.Fprintf(s.out, "under-store %s", s.underURL)
	if s.f.Latency > 0 {
		fmt.Fprintf(s.out, " + %s per request", s.f.Latency)
		if s.f.Dev {
			fmt.Fprint(s.out, " (like an object store; --understore-latency to change)")
		}
	}
}

// seedFiles writes the bench's files to the under-store and, against a
// running cluster (or with --flush), drops what it cached of them.
func (s *benchSession) seedFiles(ctx context.Context) error {
	s.setupStart = time.Now()
	if err := s.b.Setup(ctx, s.raw); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "set up %d files under %s in %.1fs\n", s.cfg.Files, s.cfg.Prefix, time.Since(s.setupStart).Seconds())
	if !s.f.Dev || s.f.Flush {
		// A running cluster may hold other contents of these paths from an
		// earlier run; --dev starts empty, so only --flush asks.
		files, err := s.client.Invalidate(ctx, s.cfg.Prefix)
		if err != nil {
			return fmt.Errorf("invalidate %s: %w", s.cfg.Prefix, err)
		}
		fmt.Fprintf(s.out, "invalidated %s: %d cached file version(s) dropped\n", s.cfg.Prefix, files)
	}
	return nil
}

// runAll runs the warm-up, the measured cache runs and the no-cache run.
func (s *benchSession) runAll(ctx context.Context) ([]bench.Run, error) {
	f, out, c := s.f, s.out, s.client
	cacheTarget, baseTarget := bench.ClusterTarget(c), bench.StoreTarget(s.store)
	if f.WriteInvalidate {
		s.b.SetAfterWrite(func(ctx context.Context, p string) error { _, err := c.Invalidate(ctx, p); return err })
	}
	runIdx := 0
	if f.Warmup > 0 && !f.Baseline {
		fmt.Fprintf(out, "warming up for %s\n", f.Warmup)
		if _, err := s.b.Run(ctx, cacheTarget, bench.RunOptions{Name: "warmup", Index: runIdx, Duration: f.Warmup}); err != nil {
			return nil, err
		}
		runIdx++
	}
	term := isTerminal(out)
	var runs []bench.Run
	for i := 0; i < f.Runs && !f.Baseline; i++ {
		name := f.runName(i)
		r, err := s.b.Run(ctx, cacheTarget, bench.RunOptions{Name: name, Index: runIdx, OnSecond: newBenchProgress(out, term, name, s.cfg)})
		if err != nil {
			return nil, err
		}
		endProgress(out, term)
		runs = append(runs, r)
		runIdx++
		if ctx.Err() != nil {
			break
		}
	}
	if (f.Baseline || f.Compare) && ctx.Err() == nil {
		s.b.SetAfterWrite(nil)
		r, err := s.b.Run(ctx, baseTarget, bench.RunOptions{Name: "no-cache", Index: runIdx, OnSecond: newBenchProgress(out, term, "no-cache", s.cfg)})
		if err != nil {
			return nil, err
		}
		endProgress(out, term)
		runs = append(runs, r)
	}
	return runs, nil
}

// runName names measured run i: cold and warm when the cache starts empty
// (--dev or --flush) and nothing warmed it up, else run1, run2, ...
func (f *benchCmd) runName(i int) string {
	startsEmpty := f.Runs > 1 && f.Warmup == 0 && (f.Dev || f.Flush)
	switch {
	case startsEmpty && i == 0:
		return "cold"
	case startsEmpty && f.Runs > 2:
		return fmt.Sprintf("warm%d", i)
	case startsEmpty:
		return "warm"
	case f.Runs > 1:
		return fmt.Sprintf("run%d", i+1)
	}
	return "cache"
}

// ratios compares each cache run with the first cache run and with the
// no-cache run.
func ratios(runs []bench.Run) []bench.Ratio {
	var out []bench.Ratio
	var base *bench.Summary
	for i := range runs {
		if runs[i].Summary.Target == "understore" {
			base = &runs[i].Summary
		}
	}
	for i := range runs {
		s := runs[i].Summary
		if s.Target != "cache" {
			continue
		}
		if i > 0 && runs[0].Summary.Target == "cache" {
			out = append(out, bench.Compare(s, runs[0].Summary))
		}
		if base != nil {
			out = append(out, bench.Compare(s, *base))
		}
	}
	return out
}

// report prints the summary and charts, writes --json and --plot, and
// fails on wrong bytes.
func (s *benchSession) report(ctx context.Context, runs []bench.Run) error {
	f, out := s.f, s.out
	rs := ratios(runs)
	fmt.Fprintln(out)
	if err := bench.WriteSummary(out, runs, rs); err != nil {
		return err
	}
	if f.Charts && len(runs) > 0 {
		fmt.Fprintln(out)
		fmt.Fprint(out, bench.TerminalCharts(runs, 72))
	}
	if f.JSON != "" {
		if err := s.writeJSON(runs, rs); err != nil {
			return err
		}
	}
	if f.Plot != "" {
		paths, err := bench.WritePlots(f.Plot, runs)
		if err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
		fmt.Fprintf(out, "wrote %s\n", strings.Join(paths, ", "))
	}
	var wrong int64
	for _, r := range runs {
		wrong += r.Summary.WrongBytes
	}
	if wrong > 0 {
		fmt.Fprintf(s.env.Stderr, "ringcache bench: %d wrong bytes read: the cache returned data that matches no version of the file\n", wrong)
		return errFailed
	}
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func (s *benchSession) writeJSON(runs []bench.Run, rs []bench.Ratio) error {
	f := s.f
	w := bench.WorkloadOf(s.cfg)
	if f.Dev {
		w.SyncIntervalSec = f.SyncInterval.Seconds()
	}
	w.UnderstoreDelayMs = float64(f.Latency) / 1e6
	w.WarmupSec = f.Warmup.Seconds()
	w.Flush = f.Flush
	rep := &bench.Report{Version: 1, Started: s.setupStart.UTC(), Seed: s.cfg.Seed, Workload: w, Cluster: s.desc,
		Runs: runs, Ratios: rs, LoadAvg: s.loadAvg, GoMaxProc: runtime.GOMAXPROCS(0)}
	if err := writeFileAtomic(f.JSON, rep.WriteJSON); err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	fmt.Fprintf(s.out, "\nwrote %s\n", f.JSON)
	return nil
}

func runLength(cfg bench.Config) string {
	if cfg.Ops > 0 {
		return fmt.Sprintf("%d ops/run", cfg.Ops)
	}
	return cfg.Duration.String() + "/run"
}

// readLoadAvg is the 1, 5 and 15 minute load average ("" where unknown).
func readLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

func isTerminal(w io.Writer) bool {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return true
		}
	}
	return false
}

// newBenchProgress shows a run's progress each second: a redrawn bar on a
// terminal, one plain line per second otherwise.
func newBenchProgress(w io.Writer, terminal bool, name string, cfg bench.Config) func(bench.Second) {
	var done int64
	return func(s bench.Second) {
		done += s.Ops
		hit := "-"
		if s.PagesHit+s.PagesMissed > 0 {
			hit = fmt.Sprintf("%.0f%%", 100*s.HitRatio)
		}
		line := fmt.Sprintf("%s %5.1fs  %8.1f ops/s  p50 %s  p99 %s  hit %s  errors %d  wrong %d",
			name, s.T, s.OpsPerSec, bench.FormatMicros(s.Read.P50Us), bench.FormatMicros(s.Read.P99Us), hit, s.Errors, s.WrongBytes)
		if !terminal {
			fmt.Fprintln(w, line)
			return
		}
		frac := 0.0
		if cfg.Ops > 0 {
			frac = float64(done) / float64(cfg.Ops)
		} else if cfg.Duration > 0 {
			frac = s.T / cfg.Duration.Seconds()
		}
		frac = min(max(frac, 0), 1)
		const width = 20
		filled := int(frac * width)
		fmt.Fprintf(w, "\r[%s%s] %3.0f%% %s\x1b[K", strings.Repeat("#", filled), strings.Repeat(".", width-filled), 100*frac, line)
	}
}

func endProgress(w io.Writer, terminal bool) {
	if terminal {
		fmt.Fprintln(w)
	}
}
