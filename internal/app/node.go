package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ringcache/ringcache/internal/cli"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/understore"
)

// nodeFlags are the flags of `ringcache node` (CONTRACT.md).
type nodeFlags struct {
	id, dataDir, under, s3Endpoint, s3Region          *string
	grpcAddr, gossipAddr, httpAddr, s3Addr, advertise *string
	zone, gossipKey, logFormat, s3Auth                *string
	tlsCert, tlsKey, tlsCA                            *string
	s3PathStyle, verbose                              *bool
	capacity, pageSize                                *int64
	dataDirs, join, s3Keys                            *[]string
	scopeQuota                                        *[]string
	syncInterval                                      *time.Duration
}

func defineNodeFlags(fs *cli.FlagSet) *nodeFlags {
	fs.EnableConfigFile()
	return &nodeFlags{
		id:           fs.String("id", "", "stable node name (default: kept in <data-dir>/node-id, created once)"),
		dataDir:      fs.String("data-dir", "./ringcache-data", "journal, pages and node id"),
		capacity:     fs.Size("capacity", 1<<30, "page bytes this node may hold"),
		dataDirs:     fs.CommaList("data-dirs", nil, "DIR:SIZE,... page directories with a capacity each (instead of <data-dir>/pages and --capacity)"),
		pageSize:     fs.Size("page-size", 1<<20, "page size; must match on every node"),
		under:        fs.String("understore", "", "file:///abs/dir, s3:// or s3://bucket/prefix (required)"),
		s3Endpoint:   fs.String("s3-endpoint", "", "under-store S3 endpoint URL (default: AWS)"),
		s3Region:     fs.String("s3-region", "", "under-store S3 region (default: AWS chain, or us-east-1 with an endpoint)"),
		s3PathStyle:  fs.Switch("s3-path-style", false, "address under-store buckets path-style (MinIO, versitygw)"),
		grpcAddr:     fs.String("grpc-addr", "127.0.0.1:7100", "control RPCs and the page byte stream"),
		gossipAddr:   fs.String("gossip-addr", "127.0.0.1:7946", "memberlist TCP+UDP address"),
		httpAddr:     fs.String("http-addr", "127.0.0.1:7180", "/metrics, /healthz, /readyz, /v1/..., /debug/pprof/"),
		s3Addr:       fs.String("s3-addr", "", "S3-compatible gateway address (empty: off)"),
		s3Auth:       fs.String("s3-auth", "sigv4", "gateway authentication: sigv4 or none"),
		s3Keys:       fs.CommaList("s3-keys", nil, "ACCESS:SECRET,... keys the gateway accepts"),
		advertise:    fs.String("advertise-host", "", "host other nodes and clients dial (default: the listen host, or its first non-loopback address)"),
		join:         fs.CommaList("join", nil, "gossip addresses of existing members"),
		zone:         fs.String("zone", "", "zone label carried in node metadata"),
		syncInterval: fs.Duration("sync-interval", 60*time.Second, "how long file metadata is trusted before one Stat on the under-store"),
		scopeQuota:   fs.StringList("scope-quota", nil, "PREFIX=SIZE, repeatable: pages of files under PREFIX may use at most SIZE here"),
		gossipKey:    fs.String("gossip-key", "", "base64 AES key (16/24/32 bytes) encrypting gossip"),
		tlsCert:      fs.String("tls-cert", "", "TLS certificate (mTLS; not implemented yet)"),
		tlsKey:       fs.String("tls-key", "", "TLS key (mTLS; not implemented yet)"),
		tlsCA:        fs.String("tls-ca", "", "TLS CA bundle (mTLS; not implemented yet)"),
		logFormat:    fs.String("log-format", "text", "text or json"),
		verbose:      fs.Switch("verbose", false, "debug logging"),
	}
}

// config turns the flags into a node.Config (without the under-store).
func (f *nodeFlags) config(fs *cli.FlagSet) (node.Config, error) {
	cfg := node.Config{
		ID: *f.id, DataDir: *f.dataDir, Capacity: *f.capacity, PageSize: *f.pageSize,
		GRPCAddr: *f.grpcAddr, GossipAddr: *f.gossipAddr, HTTPAddr: *f.httpAddr, S3Addr: *f.s3Addr,
		AdvertiseHost: *f.advertise, Join: *f.join, Zone: *f.zone, SyncInterval: *f.syncInterval,
	}
	for _, d := range *f.dataDirs {
		i := strings.LastIndexByte(d, ':')
		if i <= 0 {
			return cfg, fs.Usagef("--data-dirs %q: want DIR:SIZE", d)
		}
		size, err := cli.ParseSize(d[i+1:])
		if err != nil {
			return cfg, fs.Usagef("--data-dirs %q: %v", d, err)
		}
		cfg.DataDirs = append(cfg.DataDirs, node.DirSpec{Path: d[:i], Capacity: size})
	}
	for _, q := range *f.scopeQuota {
		prefix, size, ok := strings.Cut(q, "=")
		if !ok || prefix == "" {
			return cfg, fs.Usagef("--scope-quota %q: want PREFIX=SIZE", q)
		}
		n, err := cli.ParseSize(size)
		if err != nil {
			return cfg, fs.Usagef("--scope-quota %q: %v", q, err)
		}
		if cfg.ScopeQuotas == nil {
			cfg.ScopeQuotas = map[string]int64{}
		}
		cfg.ScopeQuotas[prefix] = n
	}
	if *f.gossipKey != "" {
		key, err := base64.StdEncoding.DecodeString(*f.gossipKey)
		if err != nil {
			return cfg, fs.Usagef("--gossip-key: not base64: %v", err)
		}
		cfg.GossipKey = key
	}
	if *f.tlsCert != "" || *f.tlsKey != "" || *f.tlsCA != "" {
		return cfg, fs.Usagef("--tls-cert/--tls-key/--tls-ca: TLS is not implemented yet")
	}
	if *f.s3Addr != "" {
		return cfg, fs.Usagef("--s3-addr: the S3 gateway is not implemented yet")
	}
	if *f.s3Auth != "sigv4" && *f.s3Auth != "none" {
		return cfg, fs.Usagef("--s3-auth %q: want sigv4 or none", *f.s3Auth)
	}
	return cfg, nil
}

func (f *nodeFlags) understoreConfig(log *slog.Logger) understore.Config {
	return understore.Config{URL: *f.under, Endpoint: *f.s3Endpoint, Region: *f.s3Region, PathStyle: *f.s3PathStyle, Logger: log}
}

func runNode(env Env, args []string) error {
	fs := newFlags(env, "node", "ringcache node --understore URL [flags]")
	fs.WantArgs(0, 0)
	f := defineNodeFlags(fs)
	if _, err := fs.Parse(args, env.LookupEnv); err != nil {
		return err
	}
	if *f.under == "" {
		return fs.Usagef("--understore is required (file:///abs/dir, s3:// or s3://bucket/prefix)")
	}
	cfg, err := f.config(fs)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if *f.verbose {
		level = slog.LevelDebug
	}
	log, err := newLogger(env.Stderr, *f.logFormat, level)
	if err != nil {
		return fs.Usagef("%v", err)
	}
	cfg.Logger = log
	ctx, stop := runContext(env)
	defer stop()

	under, err := understore.Open(ctx, f.understoreConfig(log.With("component", "understore")))
	if err != nil {
		return fmt.Errorf("under-store: %w", err)
	}
	defer under.Close()
	cfg.UnderStore = under
	n, err := node.Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down: leaving the cluster, finishing in-flight reads")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Close(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
