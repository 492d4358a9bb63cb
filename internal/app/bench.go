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
	"github.com/ringcache/ringcache/internal/cli"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/understore"
)

// benchFlags are the flags of `ringcache bench`.
type benchFlags struct {
	client *clientFlags

	dev                  *bool
	nodes                *int
	dataDir              *string
	capacity, pageSize   *int64
	syncInterval         *time.Duration
	under                *string
	s3Endpoint, s3Region *string
	s3PathStyle          *bool
	threads              *int
	duration             *time.Duration
	ops                  *int64
	readRatio            *float64
	files                *int
	fileSize, readSize   *int64
	access               *string
	zipfS                *float64
	pool                 *int
	prefix               *string
	seed                 *uint64
	flush                *bool
	warmup               *time.Duration
	latency              *time.Duration
	runs                 *int
	baseline, compare    *bool
	writeInvalidate      *bool
	jsonOut, plotDir     *string
	charts               *bool
	retries              *int
	seedFlag             *int64
}

func defineBenchFlags(fs *cli.FlagSet) *benchFlags {
	f := &benchFlags{client: defineClientFlags(fs)}
	f.dev = fs.Switch("dev", false, "start a throwaway in-process cluster (temp data dir) instead of using --seeds")
	f.nodes = fs.Int("nodes", 3, "--dev: nodes to start")
	f.dataDir = fs.String("data-dir", "", "--dev: where the nodes keep pages (default: a temp dir, removed afterwards)")
	f.capacity = fs.Size("capacity", 1<<30, "--dev: page bytes per node")
	f.pageSize = fs.Size("page-size", 1<<20, "--dev: page size")
	f.syncInterval = fs.Duration("sync-interval", 60*time.Second, "--dev: how long the nodes trust file metadata (the TTL analogue)")
	f.under = fs.String("understore", "", "under-store URL (file:///dir, s3://bucket); --dev default: a temp dir; required with --seeds (the bench writes its files there)")
	f.s3Endpoint = fs.String("s3-endpoint", "", "under-store S3 endpoint URL (default: AWS)")
	f.s3Region = fs.String("s3-region", "", "under-store S3 region")
	f.s3PathStyle = fs.Switch("s3-path-style", false, "address under-store buckets path-style (MinIO, versitygw)")
	f.threads = fs.Int("threads", bench.DefaultThreads, "goroutines issuing operations")
	f.duration = fs.Duration("duration", bench.DefaultDuration, "length of one run (unless --ops)")
	f.ops = fs.Int64("ops", 0, "operations per run, all threads together (default: --duration; --access scan: one pass)")
	f.readRatio = fs.Float64("read-ratio", 1, "fraction of operations that read (0..1, or a percentage); the rest overwrite a file in the under-store")
	f.files = fs.Int("files", bench.DefaultFiles, "files in the workload")
	f.fileSize = fs.Size("file-size", bench.DefaultFileSize, "size of every file")
	f.readSize = fs.Size("read-size", bench.DefaultReadSize, "bytes per read, at offsets that are multiples of it")
	f.access = fs.String("access", string(bench.DefaultAccess), "zipf, uniform, scan or pool")
	f.zipfS = fs.Float64("zipf-s", bench.DefaultZipfS, "Zipf exponent of --access zipf")
	f.pool = fs.Int("pool", 0, "hot files of --access pool (default: files/10)")
	f.prefix = fs.String("prefix", bench.DefaultPrefix, "bucket/dir/ the bench writes its files under")
	f.seed = new(uint64)
	seed := fs.Int64("seed", 0, "random seed of access sequences and file contents (default: from the clock; printed)")
	f.flush = fs.Switch("flush", false, "invalidate the files in the cache before the first run")
	f.warmup = fs.Duration("warmup", 0, "run the workload this long, unmeasured, before the measured runs")
	f.latency = fs.Duration("understore-latency", 0, "--dev: add this delay to every under-store request (e.g. 20ms: a remote object store)")
	f.runs = fs.Int("runs", 1, "measured runs against the same cluster, one after the other (2 with --flush or --dev: cold, then warm)")
	f.baseline = fs.Switch("baseline", false, "only run the workload straight against the under-store (no cache)")
	f.compare = fs.Switch("compare", false, "after the cache runs, run the same workload against the under-store and print \"vs no cache\" ratios")
	f.writeInvalidate = fs.Switch("write-invalidate", false, "invalidate a file in the cache after each write (default: the cache notices after --sync-interval)")
	f.jsonOut = fs.String("json", "", "write the summary and per-second time series to FILE")
	f.plotDir = fs.String("plot", "", "write latency.png, throughput.png and hitratio.png to DIR")
	f.charts = fs.Switch("charts", true, "print terminal charts after the run (--charts=false to skip)")
	f.retries = fs.Int("retries", bench.DefaultRetries, "retries of a read whose file changed under it")
	f.seedFlag = seed
	return f
}

func runBench(env Env, args []string) error {
	fs := newFlags(env, "bench", "ringcache bench [--dev | --seeds ADDRS --understore URL] [flags]")
	fs.WantArgs(0, 0)
	f := defineBenchFlags(fs)
	if _, err := fs.Parse(args, env.LookupEnv); err != nil {
		return err
	}
	cfg, err := f.config(fs)
	if err != nil {
		return err
	}
	ctx, stop := runContext(env)
	defer stop()
	if fs.IsSet("timeout") {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *f.client.timeout)
		defer cancel()
	}
	return benchMain(ctx, env, fs, f, cfg)
}

// config turns the flags into a bench.Config, refusing what cannot work.
func (f *benchFlags) config(fs *cli.FlagSet) (bench.Config, error) {
	ratio := *f.readRatio
	if ratio > 1 && ratio <= 100 {
		ratio /= 100
	}
	if ratio <= 0 || ratio > 1 {
		return bench.Config{}, fs.Usagef("--read-ratio %g: want (0, 1] or a percentage (0, 100]", *f.readRatio)
	}
	if *f.runs < 1 || *f.runs > 100 {
		return bench.Config{}, fs.Usagef("--runs %d: want 1..100", *f.runs)
	}
	if *f.baseline && *f.compare {
		return bench.Config{}, fs.Usagef("--baseline runs only the no-cache workload; --compare runs both: pick one")
	}
	if !*f.dev {
		for _, name := range []string{"nodes", "data-dir", "capacity", "page-size", "sync-interval", "understore-latency"} {
			if fs.IsSet(name) {
				return bench.Config{}, fs.Usagef("--%s applies to --dev only (a running cluster has its own settings)", name)
			}
		}
		if *f.under == "" {
			return bench.Config{}, fs.Usagef("--understore is required with --seeds: the bench writes its files there (or use --dev)")
		}
	}
	if *f.nodes < 1 || *f.nodes > 64 {
		return bench.Config{}, fs.Usagef("--nodes %d: want 1..64", *f.nodes)
	}
	if *f.latency < 0 || *f.warmup < 0 {
		return bench.Config{}, fs.Usagef("--understore-latency and --warmup must not be negative")
	}
	*f.seed = uint64(*f.seedFlag)
	if !fs.IsSet("seed") {
		*f.seed = uint64(time.Now().UnixNano())
	}
	cfg := bench.Config{
		Threads: *f.threads, ReadRatio: ratio, Files: *f.files, FileSize: *f.fileSize, ReadSize: *f.readSize,
		Access: bench.Access(*f.access), ZipfS: *f.zipfS, PoolFiles: *f.pool, Prefix: *f.prefix, Seed: *f.seed,
		Retries: *f.retries,
	}
	switch {
	case fs.IsSet("ops"):
		cfg.Ops = *f.ops
	case fs.IsSet("duration") || cfg.Access != bench.AccessScan:
		cfg.Duration = *f.duration
	}
	if fs.IsSet("ops") && fs.IsSet("duration") {
		return bench.Config{}, fs.Usagef("--ops and --duration: pick one")
	}
	if err := cfg.Validate(); err != nil {
		return bench.Config{}, fs.Usagef("%s", strings.TrimPrefix(err.Error(), bench.ErrConfig.Error()+": "))
	}
	return cfg.WithDefaults(), nil
}

func benchMain(ctx context.Context, env Env, fs *cli.FlagSet, f *benchFlags, cfg bench.Config) error {
	out := env.Stdout
	// Quiet by default: the summary carries errors, and a --dev cluster's
	// shutdown chatter is not the bench's business.
	log := slog.New(slog.DiscardHandler)
	if *f.client.verbose {
		log = slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if *f.client.tlsCert != "" || *f.client.tlsKey != "" || *f.client.tlsCA != "" {
		return fs.Usagef("--tls-cert/--tls-key/--tls-ca: TLS is not implemented yet")
	}

	// The under-store: the bench's files, its writes and the baseline.
	var tmp string
	cleanup := func() {}
	defer func() { cleanup() }()
	if *f.dev && (*f.under == "" || *f.dataDir == "") {
		dir, err := os.MkdirTemp("", "ringcache-bench-*")
		if err != nil {
			return err
		}
		tmp = dir
		cleanup = func() { os.RemoveAll(dir) }
	}
	underURL := *f.under
	if underURL == "" {
		underURL = "file://" + filepath.Join(tmp, "lake")
	}
	if dir, ok := strings.CutPrefix(underURL, "file://"); ok {
		bucket, _, _ := strings.Cut(cfg.Prefix, "/")
		if err := os.MkdirAll(filepath.Join(dir, bucket), 0o755); err != nil {
			return fmt.Errorf("under-store: %w", err)
		}
	} else if !strings.Contains(underURL, "://") {
		abs, err := filepath.Abs(underURL)
		if err != nil {
			return err
		}
		bucket, _, _ := strings.Cut(cfg.Prefix, "/")
		if err := os.MkdirAll(filepath.Join(abs, bucket), 0o755); err != nil {
			return fmt.Errorf("under-store: %w", err)
		}
		underURL = "file://" + abs
	}
	raw, err := understore.Open(ctx, understore.Config{URL: underURL, Endpoint: *f.s3Endpoint, Region: *f.s3Region, PathStyle: *f.s3PathStyle, Logger: log})
	if err != nil {
		return fmt.Errorf("under-store: %w", err)
	}
	defer raw.Close()
	store := bench.DelayStore(raw, *f.latency)

	// The cluster.
	seeds := *f.client.seeds
	clusterDesc := "seeds " + strings.Join(seeds, ",")
	if *f.dev {
		dataDir := *f.dataDir
		if dataDir == "" {
			dataDir = filepath.Join(tmp, "data")
		}
		startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
		cluster, err := node.StartLocalCluster(startCtx, node.LocalClusterConfig{
			Nodes: *f.nodes, BaseDir: dataDir, UnderStore: store, Logger: log,
			Template: node.Config{Capacity: *f.capacity, PageSize: *f.pageSize, SyncInterval: *f.syncInterval},
		})
		cancel()
		if err != nil {
			return err
		}
		defer func() {
			sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer scancel()
			cluster.Close(sctx)
		}()
		seeds = cluster.GRPCAddrs()
		clusterDesc = fmt.Sprintf("dev: %d nodes in-process, page %s, capacity %s/node, sync interval %s",
			*f.nodes, cli.FormatSize(*f.pageSize), cli.FormatSize(*f.capacity), *f.syncInterval)
	}
	c, err := client.New(ctx, client.Config{Seeds: seeds, Logger: log})
	if err != nil {
		return err
	}
	defer c.Close()

	b, err := bench.New(cfg, store)
	if err != nil {
		return fs.Usagef("%v", err)
	}
	loadAvg := readLoadAvg()
	fmt.Fprintf(out, "ringcache bench: %s\n", clusterDesc)
	fmt.Fprintf(out, "under-store %s", underURL)
	if *f.latency > 0 {
		fmt.Fprintf(out, " + %s per request", *f.latency)
	}
	fmt.Fprintf(out, "\nworkload: threads %d, %s, read ratio %g, %d files x %s, reads of %s, access %s",
		cfg.Threads, runLength(cfg), cfg.ReadRatio, cfg.Files, cli.FormatSize(cfg.FileSize), cli.FormatSize(cfg.ReadSize), cfg.Access)
	switch cfg.Access {
	case bench.AccessZipf:
		fmt.Fprintf(out, " (s=%g)", cfg.ZipfS)
	case bench.AccessPool:
		fmt.Fprintf(out, " (%d hot files)", cfg.PoolFiles)
	}
	fmt.Fprintf(out, "\nseed %d (rerun with --seed %d); load average %s; GOMAXPROCS %d\n", cfg.Seed, int64(cfg.Seed), loadAvg, runtime.GOMAXPROCS(0))

	setupStart := time.Now()
	if err := b.Setup(ctx, raw); err != nil {
		return err
	}
	fmt.Fprintf(out, "set up %d files under %s in %.1fs\n", cfg.Files, cfg.Prefix, time.Since(setupStart).Seconds())
	if !*f.dev || *f.flush {
		// A running cluster may hold other contents of these paths from an
		// earlier run; --dev starts empty, so only --flush asks.
		files, err := c.Invalidate(ctx, cfg.Prefix)
		if err != nil {
			return fmt.Errorf("invalidate %s: %w", cfg.Prefix, err)
		}
		fmt.Fprintf(out, "invalidated %s: %d cached file version(s) dropped\n", cfg.Prefix, files)
	}

	cacheTarget, baseTarget := bench.ClusterTarget(c), bench.StoreTarget(store)
	if *f.writeInvalidate {
		b.SetAfterWrite(func(ctx context.Context, p string) error { _, err := c.Invalidate(ctx, p); return err })
	}
	runIdx := 0
	if *f.warmup > 0 && !*f.baseline {
		fmt.Fprintf(out, "warming up for %s\n", *f.warmup)
		if _, err := b.Run(ctx, cacheTarget, bench.RunOptions{Name: "warmup", Index: runIdx, Duration: *f.warmup}); err != nil {
			return err
		}
		runIdx++
	}
	term := isTerminal(out)
	var runs []bench.Run
	if !*f.baseline {
		for i := range *f.runs {
			name := "cache"
			switch {
			case *f.runs > 1 && *f.warmup == 0 && (*f.dev || *f.flush) && i == 0:
				name = "cold"
			case *f.runs > 1 && *f.warmup == 0 && (*f.dev || *f.flush):
				name = "warm"
				if *f.runs > 2 {
					name = fmt.Sprintf("warm%d", i)
				}
			case *f.runs > 1:
				name = fmt.Sprintf("run%d", i+1)
			}
			r, err := b.Run(ctx, cacheTarget, bench.RunOptions{Name: name, Index: runIdx, OnSecond: newBenchProgress(out, term, name, cfg)})
			if err != nil {
				return err
			}
			endProgress(out, term)
			runs = append(runs, r)
			runIdx++
			if ctx.Err() != nil {
				break
			}
		}
	}
	if (*f.baseline || *f.compare) && ctx.Err() == nil {
		b.SetAfterWrite(nil)
		r, err := b.Run(ctx, baseTarget, bench.RunOptions{Name: "no-cache", Index: runIdx, OnSecond: newBenchProgress(out, term, "no-cache", cfg)})
		if err != nil {
			return err
		}
		endProgress(out, term)
		runs = append(runs, r)
	}

	var ratios []bench.Ratio
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
			ratios = append(ratios, bench.Compare(s, runs[0].Summary))
		}
		if base != nil {
			ratios = append(ratios, bench.Compare(s, *base))
		}
	}

	fmt.Fprintln(out)
	if err := bench.WriteSummary(out, runs, ratios); err != nil {
		return err
	}
	if *f.charts && len(runs) > 0 {
		fmt.Fprintln(out)
		fmt.Fprint(out, bench.TerminalCharts(runs, 72))
	}
	if *f.jsonOut != "" {
		w := bench.WorkloadOf(cfg)
		if *f.dev {
			w.SyncIntervalSec = f.syncInterval.Seconds()
		}
		w.UnderstoreDelayMs = float64(*f.latency) / 1e6
		w.WarmupSec = f.warmup.Seconds()
		w.Flush = *f.flush
		rep := &bench.Report{Version: 1, Started: setupStart.UTC(), Seed: cfg.Seed, Workload: w, Cluster: clusterDesc,
			Runs: runs, Ratios: ratios, LoadAvg: loadAvg, GoMaxProc: runtime.GOMAXPROCS(0)}
		if err := writeFileAtomic(*f.jsonOut, rep.WriteJSON); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
		fmt.Fprintf(out, "\nwrote %s\n", *f.jsonOut)
	}
	if *f.plotDir != "" {
		paths, err := bench.WritePlots(*f.plotDir, runs)
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
		fmt.Fprintf(env.Stderr, "ringcache bench: %d wrong bytes read: the cache returned data that matches no version of the file\n", wrong)
		return errFailed
	}
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
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

// writeFileAtomic writes a file through a temp file and a rename.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
