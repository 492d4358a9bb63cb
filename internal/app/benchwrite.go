package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/ringcache/ringcache/bench"
	"github.com/ringcache/ringcache/internal/cli"
)

// The values of --mode and --write-target.
const (
	modeWriteThrough   = "write-through"
	writeTargetAuto    = "auto"
	writeTargetGateway = "gateway"
	writeTargetSDK     = "sdk"
)

// writeOnlyFlags apply to --mode write-through only; readOnlyFlags to the
// read workload only.
var (
	writeOnlyFlags = []string{"write-target", "objects", "object-size", "gateway-endpoint", "gateway-key"}
	readOnlyFlags  = []string{"threads", "duration", "ops", "read-ratio", "files", "file-size", "read-size", "access", "zipf-s",
		"pool", "flush", "warmup", "runs", "baseline", "compare", "write-invalidate", "plot", "charts", "retries"}
)

// checkWriteMode refuses flags of the other mode and a write-through
// workload that cannot work.
func (f *benchCmd) checkWriteMode(src *cli.Sources) error {
	if f.Mode != modeWriteThrough {
		for _, name := range writeOnlyFlags {
			// --gateway-key also keys the --dev gateways of the read mode.
			if src.IsSet(name) && name != "gateway-key" {
				return cli.Usagef(benchName, "--%s applies to --mode write-through", name)
			}
		}
		return nil
	}
	for _, name := range readOnlyFlags {
		if src.IsSet(name) {
			return cli.Usagef(benchName, "--%s applies to the read workload, not --mode write-through (one object at a time, --objects rounds)", name)
		}
	}
	if err := f.writeConfig(0).Validate(); err != nil {
		return cli.Usagef(benchName, "%s", strings.TrimPrefix(err.Error(), bench.ErrConfig.Error()+": "))
	}
	if f.WriteTarget == writeTargetGateway && f.tlsFiles().Enabled() {
		return cli.Usagef(benchName, "--write-target gateway speaks plain HTTP to the gateway and its /metrics; with --tls-* use --write-target sdk")
	}
	if a, s, ok := strings.Cut(f.GatewayKey, ":"); !ok || a == "" || s == "" {
		return cli.Usagef(benchName, "--gateway-key %q: want ACCESS:SECRET", f.GatewayKey)
	}
	return nil
}

// writeConfig is the write-through workload of the flags.
func (f *benchCmd) writeConfig(seed uint64) bench.WriteConfig {
	return bench.WriteConfig{Objects: f.Objects, ObjectSize: f.ObjectSize.Bytes(), Prefix: f.Prefix, Seed: seed}
}

// writeThrough runs --mode write-through and reports it.
func (s *benchSession) writeThrough(ctx context.Context) error {
	f, out := s.f, s.out
	wc := f.writeConfig(s.cfg.Seed).WithDefaults()
	wt, kind, endpoint, err := s.writeTargets()
	if err != nil {
		return err
	}
	via := kind
	if endpoint != "" {
		via += " " + endpoint
	}
	fmt.Fprintf(out, "write-through: %d objects x %s under %s, one at a time: each written through the %s and read back at once, "+
		"then the same size written straight to the under-store and read cold through the cluster\n",
		wc.Objects, cli.FormatSize(wc.ObjectSize), wc.Prefix, via)
	wt.OnRound = writeProgress(out, wc.Objects, kind)
	s.setupStart = time.Now()
	rep, err := bench.RunWriteThrough(ctx, wc, wt)
	if errors.Is(err, bench.ErrNotImplemented) {
		fmt.Fprintf(s.env.Stderr, "ringcache bench: the gateway at %s does not implement PutObject yet (501 NotImplemented); --write-target sdk writes through the Go SDK\n", endpoint)
		return errFailed
	}
	if err != nil {
		return err
	}
	rep.Started, rep.Cluster, rep.LoadAvg, rep.GoMaxProc = s.setupStart.UTC(), s.desc, s.loadAvg, runtime.GOMAXPROCS(0)
	rep.Workload.Endpoint = endpoint
	rep.Workload.UnderstoreDelayMs = float64(f.Latency) / 1e6
	if f.Dev {
		rep.Workload.SyncIntervalSec = f.SyncInterval.Seconds()
	}
	fmt.Fprintln(out)
	if err := rep.WriteTable(out); err != nil {
		return err
	}
	if f.JSON != "" {
		if err := writeFileAtomic(f.JSON, rep.WriteJSON); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
		fmt.Fprintf(out, "\nwrote %s\n", f.JSON)
	}
	return s.writeVerdict(ctx, rep)
}

// writeVerdict fails the command on wrong bytes or failed operations.
func (s *benchSession) writeVerdict(ctx context.Context, rep *bench.WriteReport) error {
	if wrong := rep.ReadAfterWrite.WrongBytes + rep.Cold.WrongBytes; wrong > 0 {
		fmt.Fprintf(s.env.Stderr, "ringcache bench: %d wrong bytes read: the cluster returned data that is not what was written\n", wrong)
		return errFailed
	}
	if n := rep.Target.Errors + rep.Direct.Errors + rep.ReadAfterWrite.Errors + rep.Cold.Errors; n > 0 {
		first := rep.Target.FirstError
		for _, e := range []string{rep.ReadAfterWrite.FirstError, rep.Direct.FirstError, rep.Cold.FirstError} {
			if first == "" {
				first = e
			}
		}
		fmt.Fprintf(s.env.Stderr, "ringcache bench: %d operations failed (first: %s)\n", n, first)
		return errFailed
	}
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// writeTargets wires the write path under test: the gateway (its
// endpoint from --gateway-endpoint or the members, hits from the nodes'
// /metrics) or the SDK (hits from its read statistics).
func (s *benchSession) writeTargets() (wt bench.WriteThrough, kind, endpoint string, err error) {
	f, c := s.f, s.client
	wt.Direct = bench.StoreWriteTarget(s.store)
	wt.Invalidate = func(ctx context.Context, p string) error { _, err := c.Invalidate(ctx, p); return err }
	members := c.Members()
	sort.Slice(members, func(i, j int) bool { return members[i].ID < members[j].ID })
	endpoint = f.GatewayEndpoint
	if endpoint == "" {
		for _, m := range members {
			if m.S3Addr != "" {
				endpoint = "http://" + m.S3Addr
				break
			}
		}
	}
	kind = f.WriteTarget
	if kind == writeTargetAuto {
		kind = writeTargetSDK
		if endpoint != "" && !f.tlsFiles().Enabled() {
			kind = writeTargetGateway
		}
	}
	if kind == writeTargetSDK {
		wt.Target, wt.Reader = bench.SDKWriteTarget(c), bench.ClusterTarget(c)
		return wt, kind, "", nil
	}
	if endpoint == "" {
		return wt, "", "", cli.Usagef(benchName, "--write-target gateway: no member runs an S3 gateway; give --gateway-endpoint")
	}
	access, secret, _ := strings.Cut(f.GatewayKey, ":")
	gt, err := bench.NewGatewayTarget(bench.GatewayConfig{Endpoint: endpoint, AccessKey: access, SecretKey: secret})
	if err != nil {
		return wt, "", "", cli.Usagef(benchName, "--gateway-endpoint: %v", err)
	}
	var httpAddrs []string
	for _, m := range members {
		if m.HTTPAddr != "" {
			httpAddrs = append(httpAddrs, m.HTTPAddr)
		}
	}
	wt.Target, wt.Reader = gt, gt
	if len(httpAddrs) > 0 {
		wt.Meter = bench.MetricsMeter(httpAddrs, nil)
	}
	return wt, kind, endpoint, nil
}

// writeProgress prints one line per round.
func writeProgress(w io.Writer, rounds int, kind string) func(bench.Round) {
	ms := func(d time.Duration) string {
		if d <= 0 {
			return "-"
		}
		return bench.FormatMicros(float64(d) / 1e3)
	}
	return func(r bench.Round) {
		hit := "miss"
		switch {
		case r.ReadAfterWrite <= 0:
			hit = "-"
		case r.HitUnknown:
			hit = "hit ?"
		case r.AfterWriteHit:
			hit = "hit"
		}
		line := fmt.Sprintf("round %d/%d: %s write %s, read after write %s (%s); under-store write %s, cold read %s",
			r.Index+1, rounds, kind, ms(r.Write), ms(r.ReadAfterWrite), hit, ms(r.Direct), ms(r.ColdRead))
		if r.Err != nil {
			line += "; error: " + r.Err.Error()
		}
		fmt.Fprintln(w, line)
	}
}
