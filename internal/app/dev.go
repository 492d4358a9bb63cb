package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ringcache/ringcache/gateway"
	"github.com/ringcache/ringcache/internal/cli"
	"github.com/ringcache/ringcache/internal/samplelake"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/understore"
)

// devName names the command in its usage errors.
const devName = "ringcache dev"

// DevS3Key is the ACCESS:SECRET the gateways of `ringcache dev` and
// `ringcache bench --dev` accept unless told otherwise (a development key,
// printed in the banner).
const DevS3Key = "ringcache:ringcache"

// devCmd is `ringcache dev`: a local cluster in one process.
type devCmd struct {
	configFlag `embed:""`

	Nodes        int           `name:"nodes" default:"3" help:"Nodes to run in this process."`
	Under        string        `name:"understore" default:"./ringcache-dev/lake" placeholder:"DIR" help:"Local directory (or file:// URL) of the lake; created and seeded with sample files when empty."`
	DataDir      string        `name:"data-dir" default:"./ringcache-dev/data" placeholder:"DIR" help:"Node i keeps its data in DIR/node-i."`
	Capacity     cli.Size      `name:"capacity" placeholder:"SIZE" default:"256MiB" help:"Page bytes per node."`
	PageSize     cli.Size      `name:"page-size" placeholder:"SIZE" default:"1MiB" help:"Page size."`
	GRPCAddr     string        `name:"grpc-addr" default:"127.0.0.1:7100" placeholder:"ADDR" help:"gRPC address of node 0; node i uses port+i."`
	GossipAddr   string        `name:"gossip-addr" default:"127.0.0.1:7946" placeholder:"ADDR" help:"Gossip address of node 0; node i uses port+i."`
	HTTPAddr     string        `name:"http-addr" default:"127.0.0.1:7180" placeholder:"ADDR" help:"HTTP address of node 0; node i uses port+i."`
	S3Addr       string        `name:"s3-addr" default:"127.0.0.1:7200" placeholder:"ADDR" help:"S3 gateway address of node 0; node i uses port+i."`
	S3Auth       string        `name:"s3-auth" default:"sigv4" enum:"sigv4,none" help:"Gateway authentication: sigv4 or none."`
	S3Keys       []string      `name:"s3-keys" default:"${dev_s3_key}" placeholder:"ACCESS:SECRET" help:"Keys the gateways accept (comma separated)."`
	SyncInterval time.Duration `name:"sync-interval" default:"10s" help:"How long file metadata is trusted."`
	TLS          bool          `name:"tls" help:"Serve mTLS on gRPC and HTTPS on HTTP and S3 with a development CA and certificates in --certs-dir (made once, then reused); the banner prints the client flags."`
	CertsDir     string        `name:"certs-dir" default:"./ringcache-dev/certs" placeholder:"DIR" help:"With --tls: the CA, node, client and admin certificates."`
	LogFormat    string        `name:"log-format" default:"text" enum:"text,json" help:"text or json."`
	Verbose      bool          `name:"verbose" help:"Log every node's info messages (default: warnings only)."`
}

// Run runs the cluster until interrupted.
func (d *devCmd) Run(env Env) error {
	if d.Nodes < 1 || d.Nodes > 64 {
		return cli.Usagef(devName, "--nodes %d: want 1..64", d.Nodes)
	}
	addrs := map[string][]string{}
	for _, a := range []struct{ name, addr string }{{"grpc-addr", d.GRPCAddr}, {"gossip-addr", d.GossipAddr}, {"http-addr", d.HTTPAddr}, {"s3-addr", d.S3Addr}} {
		list, err := consecutiveAddrs(a.addr, d.Nodes)
		if err != nil {
			return cli.Usagef(devName, "--%s: %v", a.name, err)
		}
		addrs[a.name] = list
	}
	level := slog.LevelWarn
	if d.Verbose {
		level = slog.LevelInfo
	}
	log, err := newLogger(env.Stderr, d.LogFormat, level)
	if err != nil {
		return cli.Usagef(devName, "%v", err)
	}

	lakeDir := strings.TrimPrefix(d.Under, "file://")
	if lakeDir, err = filepath.Abs(lakeDir); err != nil {
		return err
	}
	seeded, err := seedLake(lakeDir)
	if err != nil {
		return fmt.Errorf("seed the sample lake: %w", err)
	}
	keys, err := gateway.ParseKeys(strings.Join(d.S3Keys, ","))
	if err != nil {
		return cli.Usagef(devName, "--s3-keys: %v", err)
	}
	s3cfg := gateway.Config{Auth: d.S3Auth, Keys: keys}
	template, pki, err := d.template(s3cfg, addrs, log)
	if err != nil {
		return err
	}
	ctx, stop := runContext(env)
	defer stop()
	store, err := understore.Open(ctx, understore.Config{URL: "file://" + lakeDir, Logger: log})
	if err != nil {
		return fmt.Errorf("under-store: %w", err)
	}
	defer store.Close()

	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cluster, err := node.StartLocalCluster(startCtx, node.LocalClusterConfig{
		Nodes: d.Nodes, BaseDir: d.DataDir, UnderStore: store, Logger: log,
		Template: template,
		Addrs: func(i int) (string, string, string) {
			return addrs["grpc-addr"][i], addrs["gossip-addr"][i], addrs["http-addr"][i]
		},
		S3Addr: func(i int) string { return addrs["s3-addr"][i] },
	})
	if err != nil {
		return err
	}
	access, secret := firstKey(d.S3Keys)
	b := devBanner{lakeDir: lakeDir, seeded: seeded, s3Auth: d.S3Auth, access: access, secret: secret, tls: pki}
	for _, n := range cluster.Nodes {
		b.nodes = append(b.nodes, devNodeAddrs{id: n.ID(), grpc: n.GRPCAddr(), http: n.HTTPAddr(), s3: n.S3Addr(), gossip: n.GossipAddr()})
	}
	b.print(env.Stdout)
	<-ctx.Done()
	fmt.Fprintln(env.Stdout, "\nstopping: the nodes leave the cluster and sync their journals")
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	return cluster.Close(sctx)
}

// template is the node.Config every dev node starts from; with --tls it
// makes (or reuses) the development certificates and returns them for the
// banner.
func (d *devCmd) template(s3cfg gateway.Config, addrs map[string][]string, log *slog.Logger) (node.Config, *devTLS, error) {
	cfg := node.Config{Capacity: d.Capacity.Bytes(), PageSize: d.PageSize.Bytes(), SyncInterval: d.SyncInterval, S3: s3cfg}
	if !d.TLS {
		return cfg, nil, nil
	}
	var all []string
	for _, list := range addrs {
		all = append(all, list...)
	}
	pki, err := ensureDevCerts(d.CertsDir, all)
	if err != nil {
		return cfg, nil, fmt.Errorf("development certificates: %w", err)
	}
	if cfg.TLS, err = pki.reloader(log); err != nil {
		return cfg, nil, err
	}
	return cfg, &pki, nil
}

// consecutiveAddrs returns host:port, host:port+1, ... (n addresses).
func consecutiveAddrs(addr string, n int) ([]string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p+n > 65535 {
		return nil, fmt.Errorf("port %q: want 0..%d", port, 65535-n)
	}
	out := make([]string, n)
	for i := range out {
		if p == 0 {
			out[i] = net.JoinHostPort(host, "0")
		} else {
			out[i] = net.JoinHostPort(host, strconv.Itoa(p+i))
		}
	}
	return out, nil
}

// seedLake seeds an empty (or missing) directory with the sample lake and
// reports whether it did; a directory with anything in it is the user's
// lake and is left alone.
func seedLake(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if len(entries) > 0 {
		return false, nil
	}
	if _, err := samplelake.Seed(dir); err != nil {
		return false, err
	}
	return true, nil
}

// awsEnv is the environment the aws CLI example needs: the gateway's key,
// or, without authentication, an instruction to send unsigned requests.
func awsEnv(s3Auth, access, secret string) string {
	if s3Auth == gateway.AuthNone {
		return "  export AWS_ACCESS_KEY_ID=any AWS_SECRET_ACCESS_KEY=any AWS_DEFAULT_REGION=us-east-1\n"
	}
	return fmt.Sprintf("  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=us-east-1\n", access, secret)
}

// firstKey is the first ACCESS:SECRET pair of --s3-keys, for the banner.
func firstKey(keys []string) (access, secret string) {
	if len(keys) == 0 {
		return "", ""
	}
	access, secret, _ = strings.Cut(strings.Split(keys[0], ",")[0], ":")
	return access, secret
}

// devNodeAddrs are the addresses of one dev node, for the banner.
type devNodeAddrs struct{ id, grpc, http, s3, gossip string }

// devBanner is what `ringcache dev` prints once the cluster is up: where
// the nodes listen and commands to paste, with the TLS flags when the
// nodes serve TLS.
type devBanner struct {
	nodes                  []devNodeAddrs
	lakeDir                string
	seeded                 bool
	s3Auth, access, secret string
	tls                    *devTLS // nil: plaintext
}

func (b devBanner) print(w io.Writer) {
	fmt.Fprintf(w, "ringcache dev: %d nodes on loopback, under-store file://%s", len(b.nodes), b.lakeDir)
	if b.seeded {
		fmt.Fprintf(w, " (seeded with the sample table %s)", samplelake.TablePrefix)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\n  %-8s %-22s %-22s %-22s %s\n", "node", "grpc (seeds)", "http", "s3", "gossip")
	seeds := make([]string, len(b.nodes))
	for i, n := range b.nodes {
		fmt.Fprintf(w, "  %-8s %-22s %-22s %-22s %s\n", n.id, n.grpc, n.http, n.s3, n.gossip)
		seeds[i] = n.grpc
	}
	first := b.nodes[0]
	// Plaintext: no flags. TLS: the CA and a client certificate on every
	// CLI command (admin for load), https and the CA for curl and aws.
	scheme, read, admin, curl, aws, sdk := "http", "", "", "curl -s", "aws", ""
	if b.tls != nil {
		scheme = "https"
		read, admin = " "+b.tls.clientFlags(devClientCert), " "+b.tls.clientFlags(devAdminCert)
		curl = "curl -s --cacert " + b.tls.ca()
		aws = "aws --ca-bundle " + b.tls.ca()
		f := b.tls.files(devClientCert)
		sdk = fmt.Sprintf(",\n      TLSFiles: tlsconf.Files{CA: %q, Cert: %q, Key: %q}", f.CA, f.Cert, f.Key)
		fmt.Fprintf(w, "\nTLS: mTLS on grpc, HTTPS on http and s3; certificates in %s (client: %s.crt, admin: %s.crt)\n", b.tls.dir, devClientCert, devAdminCert)
	}
	p := samplelake.Paths()[0]
	fmt.Fprintf(w, `
Status page: %[8]s://%[3]s/

Try it (another terminal):
  go run ./cmd/ringcache members --seeds %[1]s%[9]s
  go run ./cmd/ringcache get %[2]s --seeds %[1]s -o /tmp/part.parquet%[9]s
  go run ./cmd/ringcache stat %[2]s --seeds %[1]s%[9]s
  go run ./cmd/ringcache load %[5]s --seeds %[1]s%[10]s
  %[11]s %[8]s://%[3]s/v1/members
  %[11]s '%[8]s://%[3]s/v1/affinity?path=%[2]s&n=2'
  %[11]s %[8]s://%[3]s/metrics | grep ringcache_read_bytes_total

S3 (any node answers for any object; path-style):
%[6]s  %[12]s --endpoint-url %[8]s://%[7]s s3 ls s3://lake/ --recursive
  %[12]s --endpoint-url %[8]s://%[7]s s3 cp s3://%[2]s /tmp/part.parquet
  %[12]s --endpoint-url %[8]s://%[7]s s3 cp /tmp/part.parquet s3://lake/copy/part.parquet   # write-through: cached at once

Go SDK:
  c, _ := client.New(ctx, client.Config{Seeds: []string{%[4]q}%[13]s})
  f, _ := c.Open(ctx, %[2]q)
  n, _ := f.ReadAt(buf, 0)
  v, _ := c.Put(ctx, "lake/copy/data.bin", bytes.NewReader(data), int64(len(data))) // with TLS: an admin certificate

Ctrl-C stops the cluster.
`, strings.Join(seeds, ","), p, first.http, first.grpc, samplelake.TablePrefix, awsEnv(b.s3Auth, b.access, b.secret), first.s3,
		scheme, read, admin, curl, aws, sdk)
}
