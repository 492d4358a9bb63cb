package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ringcache/ringcache/gateway"
	"github.com/ringcache/ringcache/internal/cli"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/tlsconf"
	"github.com/ringcache/ringcache/understore"
)

// reloadOnHangup re-reads the TLS files on every SIGHUP until ctx ends; the
// returned func stops listening. A refused reload is logged by the
// reloader, and the node keeps its certificate.
func reloadOnHangup(ctx context.Context, r *tlsconf.Reloader) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-hup:
				_ = r.Reload()
			case <-ctx.Done():
				return
			case <-quit:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(quit)
		<-done
	}
}

// nodeName names the command in its usage errors.
const nodeName = "ringcache node"

// nodeCmd is `ringcache node` (CONTRACT.md).
type nodeCmd struct {
	configFlag `embed:""`

	ID                   string        `name:"id" help:"Stable node name (default: kept in <data-dir>/node-id, created once)."`
	DataDir              string        `name:"data-dir" default:"./ringcache-data" placeholder:"DIR" help:"Journal, pages and node id."`
	Capacity             cli.Size      `name:"capacity" placeholder:"SIZE" default:"1GiB" help:"Page bytes this node may hold."`
	DataDirs             []string      `name:"data-dirs" placeholder:"DIR:SIZE" help:"Page directories with a capacity each (instead of <data-dir>/pages and --capacity)."`
	PageSize             cli.Size      `name:"page-size" placeholder:"SIZE" default:"1MiB" help:"Page size; must match on every node."`
	Under                string        `name:"understore" placeholder:"URL" help:"file:///abs/dir, s3:// or s3://bucket/prefix (required)."`
	S3Endpoint           string        `name:"s3-endpoint" placeholder:"URL" help:"Under-store S3 endpoint URL (default: AWS)."`
	S3Region             string        `name:"s3-region" help:"Under-store S3 region (default: AWS chain, or us-east-1 with an endpoint)."`
	S3PathStyle          bool          `name:"s3-path-style" help:"Address under-store buckets path-style (MinIO, versitygw)."`
	GRPCAddr             string        `name:"grpc-addr" default:"127.0.0.1:7100" placeholder:"ADDR" help:"Control RPCs and the page byte stream."`
	GossipAddr           string        `name:"gossip-addr" default:"127.0.0.1:7946" placeholder:"ADDR" help:"Memberlist TCP+UDP address."`
	HTTPAddr             string        `name:"http-addr" default:"127.0.0.1:7180" placeholder:"ADDR" help:"/metrics, /healthz, /readyz, /v1/..., /debug/pprof/."`
	S3Addr               string        `name:"s3-addr" placeholder:"ADDR" help:"S3-compatible gateway address (empty: off)."`
	S3Auth               string        `name:"s3-auth" default:"sigv4" enum:"sigv4,none" help:"Gateway authentication: sigv4 or none."`
	S3Keys               []string      `name:"s3-keys" placeholder:"ACCESS:SECRET" help:"Keys the gateway accepts (comma separated)."`
	Advertise            string        `name:"advertise-host" placeholder:"HOST" help:"Host other nodes and clients dial (default: the listen host, or its first non-loopback address)."`
	Join                 []string      `name:"join" placeholder:"ADDR" help:"Gossip addresses of existing members."`
	Zone                 string        `name:"zone" help:"Zone label carried in node metadata."`
	SyncInterval         time.Duration `name:"sync-interval" default:"60s" help:"How long file metadata is trusted before one Stat on the under-store."`
	ShadowWindow         time.Duration `name:"shadow-window" default:"24h" help:"Window of the shadow cache: ringcache_shadow_working_set_bytes and ringcache_shadow_hit_ratio look this far back."`
	ShadowPages          int           `name:"shadow-pages" default:"1048576" help:"Distinct pages a window the shadow cache is sized for (8 MiB of memory a million pages)."`
	ScopeQuota           []string      `name:"scope-quota" sep:"none" placeholder:"PREFIX=SIZE" help:"Repeatable: pages of files under PREFIX may use at most SIZE here."`
	GossipKey            string        `name:"gossip-key" placeholder:"BASE64" help:"Base64 AES key (16/24/32 bytes) encrypting gossip; with --gossip-keyring it only creates a keyring file that does not exist yet."`
	GossipKeyring        string        `name:"gossip-keyring" placeholder:"FILE" help:"Gossip keyring file (JSON array of base64 keys, primary first), loaded at start and rewritten by ringcache keyring."`
	GossipVerifyIncoming bool          `name:"gossip-verify-incoming" default:"true" negatable:"" help:"With a gossip key: refuse plaintext gossip (turn off while turning encryption on in a running cluster)."`
	GossipVerifyOutgoing bool          `name:"gossip-verify-outgoing" default:"true" negatable:"" help:"With a gossip key: send encrypted gossip (turn off while turning encryption on in a running cluster)."`
	ClusterName          string        `name:"cluster-name" default:"ringcache" help:"Gossip label: nodes of another cluster name cannot join."`
	TLSCert              string        `name:"tls-cert" placeholder:"FILE" help:"TLS certificate: mTLS on --grpc-addr, HTTPS on --http-addr and --s3-addr (re-read on SIGHUP)."`
	TLSKey               string        `name:"tls-key" placeholder:"FILE" help:"Key of --tls-cert."`
	TLSCA                string        `name:"tls-ca" placeholder:"FILE" help:"CA bundle client and peer certificates must be signed by."`
	AdminNames           []string      `name:"admin-names" placeholder:"A,B" help:"Certificate common names allowed to change state (besides node and --admin certificates)."`
	LogFormat            string        `name:"log-format" default:"text" enum:"text,json" help:"text or json."`
	Verbose              bool          `name:"verbose" help:"Debug logging."`
}

// config turns the flags into a node.Config (without the under-store).
func (f *nodeCmd) config() (node.Config, error) {
	cfg := node.Config{
		ID: f.ID, DataDir: f.DataDir, Capacity: f.Capacity.Bytes(), PageSize: f.PageSize.Bytes(),
		GRPCAddr: f.GRPCAddr, GossipAddr: f.GossipAddr, HTTPAddr: f.HTTPAddr, S3Addr: f.S3Addr,
		AdvertiseHost: f.Advertise, Join: f.Join, Zone: f.Zone, SyncInterval: f.SyncInterval,
		ShadowWindow: f.ShadowWindow, ShadowPages: f.ShadowPages,
		GossipKeyring: f.GossipKeyring, ClusterName: f.ClusterName,
		GossipAcceptPlaintext: !f.GossipVerifyIncoming, GossipSendPlaintext: !f.GossipVerifyOutgoing,
	}
	for _, d := range f.DataDirs {
		i := strings.LastIndexByte(d, ':')
		if i <= 0 {
			return cfg, cli.Usagef(nodeName, "--data-dirs %q: want DIR:SIZE", d)
		}
		size, err := cli.ParseSize(d[i+1:])
		if err != nil {
			return cfg, cli.Usagef(nodeName, "--data-dirs %q: %v", d, err)
		}
		cfg.DataDirs = append(cfg.DataDirs, node.DirSpec{Path: d[:i], Capacity: size})
	}
	for _, q := range f.ScopeQuota {
		prefix, size, ok := strings.Cut(q, "=")
		if !ok || prefix == "" {
			return cfg, cli.Usagef(nodeName, "--scope-quota %q: want PREFIX=SIZE", q)
		}
		n, err := cli.ParseSize(size)
		if err != nil {
			return cfg, cli.Usagef(nodeName, "--scope-quota %q: %v", q, err)
		}
		if cfg.ScopeQuotas == nil {
			cfg.ScopeQuotas = map[string]int64{}
		}
		cfg.ScopeQuotas[prefix] = n
	}
	if f.GossipKey != "" {
		key, err := base64.StdEncoding.DecodeString(f.GossipKey)
		if err != nil {
			return cfg, cli.Usagef(nodeName, "--gossip-key: not base64: %v", err)
		}
		cfg.GossipKey = key
	}
	if err := f.tlsFiles().ValidateNode(); err != nil {
		return cfg, cli.Usagef(nodeName, "--tls-cert, --tls-key and --tls-ca go together")
	}
	if len(f.AdminNames) > 0 && !f.tlsFiles().Enabled() {
		return cfg, cli.Usagef(nodeName, "--admin-names needs TLS (--tls-cert, --tls-key, --tls-ca)")
	}
	cfg.AdminNames = f.AdminNames
	cfg.S3.Auth = f.S3Auth
	if len(f.S3Keys) > 0 {
		keys, err := gateway.ParseKeys(strings.Join(f.S3Keys, ","))
		if err != nil {
			return cfg, cli.Usagef(nodeName, "--s3-keys: %v", err)
		}
		cfg.S3.Keys = keys
	}
	if f.S3Addr != "" && f.S3Auth == gateway.AuthSigV4 && len(cfg.S3.Keys) == 0 {
		return cfg, cli.Usagef(nodeName, "--s3-addr with --s3-auth sigv4 needs --s3-keys ACCESS:SECRET (or --s3-auth none on a trusted network)")
	}
	return cfg, nil
}

func (f *nodeCmd) tlsFiles() tlsconf.Files {
	return tlsconf.Files{Cert: f.TLSCert, Key: f.TLSKey, CA: f.TLSCA}
}

func (f *nodeCmd) understoreConfig(log *slog.Logger) understore.Config {
	return understore.Config{URL: f.Under, Endpoint: f.S3Endpoint, Region: f.S3Region, PathStyle: f.S3PathStyle, Logger: log}
}

// Run runs the node until SIGINT/SIGTERM (or env.Context ends).
func (f *nodeCmd) Run(env Env) error {
	if f.Under == "" {
		return cli.Usagef(nodeName, "--understore is required (file:///abs/dir, s3:// or s3://bucket/prefix)")
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if f.Verbose {
		level = slog.LevelDebug
	}
	log, err := newLogger(env.Stderr, f.LogFormat, level)
	if err != nil {
		return cli.Usagef(nodeName, "%v", err)
	}
	cfg.Logger = log
	if files := f.tlsFiles(); files.Enabled() {
		if cfg.TLS, err = tlsconf.NewReloader(files, log.With("component", "tls")); err != nil {
			return err
		}
	}
	ctx, stop := runContext(env)
	defer stop()
	if cfg.TLS != nil {
		defer reloadOnHangup(ctx, cfg.TLS)()
	}

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
