package app

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/ringcache/ringcache/bench"
	"github.com/ringcache/ringcache/internal/cli"
)

// benchName names the command in its usage errors.
const benchName = "ringcache bench"

// DevUnderstoreLatency is the delay `bench --dev` adds to every under-store
// request unless --understore-latency says otherwise: about one request to
// an object store in the same region. Without it the baseline is a local
// directory in the page cache, and the first figure a new user sees says
// the cache is slower than no cache.
const DevUnderstoreLatency = 20 * time.Millisecond

// benchCmd is `ringcache bench`. The defaults of the workload flags are
// the bench package's (benchVars).
type benchCmd struct {
	clientFlags `embed:""`

	Dev             bool          `name:"dev" help:"Start a throwaway in-process cluster (temp data dir) instead of using --seeds."`
	Nodes           int           `name:"nodes" default:"3" help:"--dev: nodes to start."`
	DataDir         string        `name:"data-dir" placeholder:"DIR" help:"--dev: where the nodes keep pages (default: a temp dir, removed afterwards)."`
	Capacity        cli.Size      `name:"capacity" placeholder:"SIZE" default:"1GiB" help:"--dev: page bytes per node."`
	PageSize        cli.Size      `name:"page-size" placeholder:"SIZE" default:"1MiB" help:"--dev: page size."`
	SyncInterval    time.Duration `name:"sync-interval" default:"60s" help:"--dev: how long the nodes trust file metadata (the TTL analogue)."`
	Under           string        `name:"understore" placeholder:"URL" help:"Under-store URL (file:///dir, s3://bucket); --dev default: a temp dir; required with --seeds (the bench writes its files there)."`
	S3Endpoint      string        `name:"s3-endpoint" placeholder:"URL" help:"Under-store S3 endpoint URL (default: AWS)."`
	S3Region        string        `name:"s3-region" help:"Under-store S3 region."`
	S3PathStyle     bool          `name:"s3-path-style" help:"Address under-store buckets path-style (MinIO, versitygw)."`
	Threads         int           `name:"threads" default:"${bench_threads}" help:"Goroutines issuing operations."`
	Duration        time.Duration `name:"duration" default:"${bench_duration}" help:"Length of one run (unless --ops)."`
	Ops             int64         `name:"ops" help:"Operations per run, all threads together (default: --duration; --access scan: one pass)."`
	ReadRatio       float64       `name:"read-ratio" default:"1" help:"Fraction of operations that read (0..1, or a percentage); the rest overwrite a file in the under-store."`
	Files           int           `name:"files" default:"${bench_files}" help:"Files in the workload."`
	FileSize        cli.Size      `name:"file-size" placeholder:"SIZE" default:"${bench_file_size}" help:"Size of every file."`
	ReadSize        cli.Size      `name:"read-size" placeholder:"SIZE" default:"${bench_read_size}" help:"Bytes per read, at offsets that are multiples of it."`
	Access          string        `name:"access" default:"${bench_access}" help:"zipf, uniform, scan or pool."`
	ZipfS           float64       `name:"zipf-s" default:"${bench_zipf_s}" help:"Zipf exponent of --access zipf."`
	Pool            int           `name:"pool" help:"Hot files of --access pool (default: files/10)."`
	Prefix          string        `name:"prefix" default:"${bench_prefix}" help:"bucket/dir/ the bench writes its files under."`
	Seed            int64         `name:"seed" help:"Random seed of access sequences and file contents (default: from the clock; printed)."`
	Flush           bool          `name:"flush" help:"Invalidate the files in the cache before the first run."`
	Warmup          time.Duration `name:"warmup" help:"Run the workload this long, unmeasured, before the measured runs."`
	Latency         time.Duration `name:"understore-latency" help:"--dev: add this delay to every under-store request (default with --dev: ${dev_latency}, a remote object store; 0 for none)."`
	Runs            int           `name:"runs" default:"1" help:"Measured runs against the same cluster, one after the other (2 with --flush or --dev: cold, then warm)."`
	Baseline        bool          `name:"baseline" help:"Only run the workload straight against the under-store (no cache)."`
	Compare         bool          `name:"compare" help:"After the cache runs, run the same workload against the under-store and print \"vs no cache\" ratios."`
	WriteInvalidate bool          `name:"write-invalidate" help:"Invalidate a file in the cache after each write (default: the cache notices after --sync-interval)."`
	JSON            string        `name:"json" placeholder:"FILE" help:"Write the summary and per-second time series to FILE."`
	Plot            string        `name:"plot" placeholder:"DIR" help:"Write latency.png, throughput.png and hitratio.png to DIR."`
	Charts          bool          `name:"charts" default:"true" help:"Print terminal charts after the run (--charts=false to skip)."`
	Retries         int           `name:"retries" default:"${bench_retries}" help:"Retries of a read whose file changed under it."`

	Mode            string   `name:"mode" default:"read" enum:"read,write-through" help:"read: the read workload (--access, --read-ratio, ...); write-through: write objects through the cluster, read each back at once, against writing straight to the under-store."`
	WriteTarget     string   `name:"write-target" default:"auto" enum:"auto,gateway,sdk" help:"--mode write-through: write through the S3 gateway (PutObject) or the Go SDK (Put); auto: the gateway when the cluster runs one."`
	Objects         int      `name:"objects" default:"${bench_objects}" help:"--mode write-through: objects (rounds) to write."`
	ObjectSize      cli.Size `name:"object-size" placeholder:"SIZE" default:"${bench_object_size}" help:"--mode write-through: size of every object."`
	GatewayEndpoint string   `name:"gateway-endpoint" placeholder:"URL" help:"--mode write-through: the S3 gateway to write through (default: the first member's S3 address, http)."`
	GatewayKey      string   `name:"gateway-key" placeholder:"ACCESS:SECRET" default:"${dev_s3_key}" help:"--mode write-through: the key that signs gateway requests (--dev: the key its gateways accept)."`
}

// benchVars are the defaults benchCmd's tags interpolate.
func benchVars() kong.Vars {
	return kong.Vars{
		"bench_threads":     strconv.Itoa(bench.DefaultThreads),
		"bench_duration":    bench.DefaultDuration.String(),
		"bench_files":       strconv.Itoa(bench.DefaultFiles),
		"bench_file_size":   cli.FormatSize(bench.DefaultFileSize),
		"bench_read_size":   cli.FormatSize(bench.DefaultReadSize),
		"bench_access":      string(bench.DefaultAccess),
		"bench_zipf_s":      strconv.FormatFloat(bench.DefaultZipfS, 'g', -1, 64),
		"bench_prefix":      bench.DefaultPrefix,
		"bench_retries":     strconv.Itoa(bench.DefaultRetries),
		"dev_latency":       DevUnderstoreLatency.String(),
		"bench_objects":     strconv.Itoa(bench.DefaultWriteObjects),
		"bench_object_size": cli.FormatSize(bench.DefaultWriteObjectSize),
		"dev_s3_key":        DevS3Key,
	}
}

// Run runs the bench in phases: config, under-store, cluster, seed, runs,
// report. benchSession holds what they share.
func (f *benchCmd) Run(env Env, src *cli.Sources) error {
	cfg, err := f.config(src)
	if err != nil {
		return err
	}
	ctx, stop := runContext(env)
	defer stop()
	if src.IsSet("timeout") {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.Timeout)
		defer cancel()
	}
	s := &benchSession{f: f, cfg: cfg, env: env, out: env.Stdout, log: slog.New(slog.DiscardHandler)}
	defer s.close()
	if f.Verbose {
		// Quiet by default: the summary carries errors, and a --dev
		// cluster's shutdown chatter is not the bench's business.
		s.log = slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if err := s.openUnderStore(ctx); err != nil {
		return err
	}
	if err := s.startCluster(ctx); err != nil {
		return err
	}
	if f.Mode == modeWriteThrough {
		return s.writeThrough(ctx)
	}
	if err := s.seedFiles(ctx); err != nil {
		return err
	}
	runs, err := s.runAll(ctx)
	if err != nil {
		return err
	}
	return s.report(ctx, runs)
}

// config turns the flags into a bench.Config, refusing what cannot work,
// and settles the --dev defaults (seed from the clock, under-store latency).
func (f *benchCmd) config(src *cli.Sources) (bench.Config, error) {
	if err := f.checkTLS(benchName); err != nil {
		return bench.Config{}, err
	}
	if f.Dev && f.tlsFiles().Enabled() {
		return bench.Config{}, cli.Usagef(benchName, "--tls-* apply to --seeds, not --dev")
	}
	ratio := f.ReadRatio
	if ratio > 1 && ratio <= 100 {
		ratio /= 100
	}
	if ratio <= 0 || ratio > 1 {
		return bench.Config{}, cli.Usagef(benchName, "--read-ratio %g: want (0, 1] or a percentage (0, 100]", f.ReadRatio)
	}
	if err := f.checkModes(src); err != nil {
		return bench.Config{}, err
	}
	if err := f.checkWriteMode(src); err != nil {
		return bench.Config{}, err
	}
	if f.Dev && !src.IsSet("understore-latency") {
		f.Latency = DevUnderstoreLatency
	}
	if !src.IsSet("seed") {
		f.Seed = time.Now().UnixNano()
	}
	cfg := bench.Config{
		Threads: f.Threads, ReadRatio: ratio, Files: f.Files, FileSize: f.FileSize.Bytes(), ReadSize: f.ReadSize.Bytes(),
		Access: bench.Access(f.Access), ZipfS: f.ZipfS, PoolFiles: f.Pool, Prefix: f.Prefix, Seed: uint64(f.Seed),
		Retries: f.Retries,
	}
	switch {
	case src.IsSet("ops") && src.IsSet("duration"):
		return bench.Config{}, cli.Usagef(benchName, "--ops and --duration: pick one")
	case src.IsSet("ops"):
		cfg.Ops = f.Ops
	case src.IsSet("duration") || cfg.Access != bench.AccessScan:
		cfg.Duration = f.Duration
	}
	if err := cfg.Validate(); err != nil {
		return bench.Config{}, cli.Usagef(benchName, "%s", strings.TrimPrefix(err.Error(), bench.ErrConfig.Error()+": "))
	}
	return cfg.WithDefaults(), nil
}

// checkModes refuses flag combinations that contradict each other.
func (f *benchCmd) checkModes(src *cli.Sources) error {
	if f.Runs < 1 || f.Runs > 100 {
		return cli.Usagef(benchName, "--runs %d: want 1..100", f.Runs)
	}
	if f.Baseline && f.Compare {
		return cli.Usagef(benchName, "--baseline runs only the no-cache workload; --compare runs both: pick one")
	}
	if !f.Dev {
		for _, name := range []string{"nodes", "data-dir", "capacity", "page-size", "sync-interval", "understore-latency"} {
			if src.IsSet(name) {
				return cli.Usagef(benchName, "--%s applies to --dev only (a running cluster has its own settings)", name)
			}
		}
		if f.Under == "" {
			return cli.Usagef(benchName, "--understore is required with --seeds: the bench writes its files there (or use --dev)")
		}
	}
	if f.Nodes < 1 || f.Nodes > 64 {
		return cli.Usagef(benchName, "--nodes %d: want 1..64", f.Nodes)
	}
	if f.Latency < 0 || f.Warmup < 0 {
		return cli.Usagef(benchName, "--understore-latency and --warmup must not be negative")
	}
	return nil
}
