package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// row is one object size and how many objects of it the workload reads.
type row struct {
	size, objects int
}

// runConfig is the driver's flags.
type runConfig struct {
	systems          []string
	rows             []row
	clients          int
	zipf             float64
	delay            time.Duration
	warmup, duration time.Duration
	seed             uint64
	root, work       string
	versitygw        string
	ringcache        string // built from root
	latencyproxy     string // built from root
}

// runMain is the driver: for each row, each system in turn gets its own
// fresh nodes, a warmup and a timed phase; then one table.
func runMain(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var cfg runConfig
	systems := fs.String("systems", "groupcache,olric,ringcache", "systems to run, in this order")
	rows := fs.String("rows", "64KiB:2000,1MiB:300", "object size:count, comma separated")
	fs.IntVar(&cfg.clients, "clients", 16, "concurrent clients")
	fs.Float64Var(&cfg.zipf, "zipf", 1.1, "Zipf exponent s (> 1) of the key popularity")
	fs.DurationVar(&cfg.delay, "delay", 5*time.Millisecond, "cost of one source fetch")
	fs.DurationVar(&cfg.warmup, "warmup", 5*time.Second, "warmup per system and row (not measured)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "timed phase per system and row")
	fs.Uint64Var(&cfg.seed, "seed", 1, "content and key-sequence seed")
	fs.StringVar(&cfg.root, "root", "../..", "the ringcache module (ringcache and the latency proxy are built from it)")
	fs.StringVar(&cfg.work, "work", "", "directory for logs and data (default: a new temporary one, removed after a clean run)")
	home, _ := os.UserHomeDir()
	fs.StringVar(&cfg.versitygw, "versitygw", filepath.Join(home, "go/bin/versitygw"), "versitygw binary (ringcache's under-store)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.systems = strings.Split(*systems, ",")
	var err error
	if cfg.rows, err = parseRows(*rows); err != nil {
		return err
	}
	if cfg.clients < 1 || cfg.zipf <= 1 || cfg.duration <= 0 || cfg.warmup < 0 {
		return errors.New("run: want -clients >= 1, -zipf > 1, -duration > 0, -warmup >= 0")
	}
	keep := cfg.work != ""
	if !keep {
		if cfg.work, err = os.MkdirTemp("", "peers-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(cfg.work, 0o755); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if cfg.ringcache, cfg.latencyproxy, err = buildTools(cfg.root, cfg.work); err != nil {
		return err
	}
	fmt.Printf("# %d nodes per system, %d clients, Zipf %.2f, source %v per fetch, warmup %v, timed %v; load average %s\n",
		nodes, cfg.clients, cfg.zipf, cfg.delay, cfg.warmup, cfg.duration, loadAvg())
	var cells []cell
	for _, rw := range cfg.rows {
		for _, sys := range cfg.systems {
			res, err := runCell(ctx, cfg, sys, rw)
			if err != nil {
				return fmt.Errorf("%s %s: %w (logs in %s)", sys, sizeName(rw.size), err, cfg.work)
			}
			fmt.Fprintf(os.Stderr, "%-10s %-7s %8.0f ops/s  p99 %v  wrong %d  errors %d\n",
				sys, sizeName(rw.size), float64(res.ops)/res.elapsed.Seconds(), res.hist.Quantile(0.99), res.wrong, res.errs)
			if res.lastErr != nil {
				fmt.Fprintf(os.Stderr, "  first error %v into the phase; last error: %v\n", res.firstErrAt.Round(time.Millisecond), res.lastErr)
			}
			cells = append(cells, cell{system: sys, row: rw, res: res})
		}
	}
	printTable(os.Stdout, cells)
	fmt.Printf("# load average after: %s\n", loadAvg())
	if !keep {
		_ = os.RemoveAll(cfg.work)
	}
	return nil
}

// runCell starts one system for one row, warms it up, measures, stops it.
func runCell(ctx context.Context, cfg runConfig, sys string, rw row) (result, error) {
	logs := filepath.Join(cfg.work, fmt.Sprintf("%s-%s", sys, sizeName(rw.size)))
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return result{}, err
	}
	p := &procs{logs: logs}
	defer p.stop()
	src := source{seed: cfg.seed, size: rw.size, delay: cfg.delay}
	r, err := startSystem(ctx, cfg, sys, src, rw.objects, p)
	if err != nil {
		return result{}, err
	}
	defer r.close()
	if cfg.warmup > 0 {
		drive(ctx, r, src, rw.objects, cfg.clients, cfg.zipf, cfg.seed, 0, cfg.warmup)
	}
	res := drive(ctx, r, src, rw.objects, cfg.clients, cfg.zipf, cfg.seed, 1, cfg.duration)
	return res, ctx.Err()
}

func parseRows(s string) ([]row, error) {
	var out []row
	for _, part := range strings.Split(s, ",") {
		sz, cnt, ok := strings.Cut(part, ":")
		n, err := strconv.Atoi(cnt)
		size, serr := parseSize(sz)
		if !ok || err != nil || serr != nil || n < 2 || size < 1 {
			return nil, fmt.Errorf("run: bad -rows entry %q (want SIZE:COUNT, e.g. 64KiB:2000)", part)
		}
		out = append(out, row{size: size, objects: n})
	}
	return out, nil
}

func parseSize(s string) (int, error) {
	mult := 1
	for suf, m := range map[string]int{"KiB": 1 << 10, "MiB": 1 << 20} {
		if strings.HasSuffix(s, suf) {
			s, mult = strings.TrimSuffix(s, suf), m
		}
	}
	n, err := strconv.Atoi(s)
	return n * mult, err
}

func sizeName(n int) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// loadAvg is /proc/loadavg's first three fields ("?" off Linux).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
