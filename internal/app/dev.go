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
	S3Keys       []string      `name:"s3-keys" default:"ringcache:ringcache" placeholder:"ACCESS:SECRET" help:"Keys the gateways accept (comma separated)."`
	SyncInterval time.Duration `name:"sync-interval" default:"10s" help:"How long file metadata is trusted."`
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
		Template: node.Config{Capacity: d.Capacity.Bytes(), PageSize: d.PageSize.Bytes(), SyncInterval: d.SyncInterval, S3: s3cfg},
		Addrs: func(i int) (string, string, string) {
			return addrs["grpc-addr"][i], addrs["gossip-addr"][i], addrs["http-addr"][i]
		},
		S3Addr: func(i int) string { return addrs["s3-addr"][i] },
	})
	if err != nil {
		return err
	}
	access, secret := firstKey(d.S3Keys)
	printDevBanner(env.Stdout, cluster, lakeDir, seeded, d.S3Auth, access, secret)
	<-ctx.Done()
	fmt.Fprintln(env.Stdout, "\nstopping: the nodes leave the cluster and sync their journals")
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	return cluster.Close(sctx)
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

func printDevBanner(w io.Writer, c *node.LocalCluster, lakeDir string, seeded bool, s3Auth, access, secret string) {
	fmt.Fprintf(w, "ringcache dev: %d nodes on loopback, under-store file://%s", len(c.Nodes), lakeDir)
	if seeded {
		fmt.Fprintf(w, " (seeded with the sample table %s)", samplelake.TablePrefix)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\n  %-8s %-22s %-22s %-22s %s\n", "node", "grpc (seeds)", "http", "s3", "gossip")
	for _, n := range c.Nodes {
		fmt.Fprintf(w, "  %-8s %-22s %-22s %-22s %s\n", n.ID(), n.GRPCAddr(), n.HTTPAddr(), n.S3Addr(), n.GossipAddr())
	}
	seeds := strings.Join(c.GRPCAddrs(), ",")
	p := samplelake.Paths()[0]
	fmt.Fprintf(w, `
Try it (another terminal):
  go run ./cmd/ringcache members --seeds %[1]s
  go run ./cmd/ringcache get %[2]s --seeds %[1]s -o /tmp/part.parquet
  go run ./cmd/ringcache stat %[2]s --seeds %[1]s
  go run ./cmd/ringcache load %[5]s --seeds %[1]s
  curl -s http://%[3]s/v1/members
  curl -s 'http://%[3]s/v1/affinity?path=%[2]s&n=2'
  curl -s http://%[3]s/metrics | grep ringcache_read_bytes_total

S3 (any node answers for any object; path-style):
%[6]s  aws --endpoint-url http://%[7]s s3 ls s3://lake/ --recursive
  aws --endpoint-url http://%[7]s s3 cp s3://%[2]s /tmp/part.parquet

Go SDK:
  c, _ := client.New(ctx, client.Config{Seeds: []string{%[4]q}})
  f, _ := c.Open(ctx, %[2]q)
  n, _ := f.ReadAt(buf, 0)

Ctrl-C stops the cluster.
`, seeds, p, c.Nodes[0].HTTPAddr(), c.Nodes[0].GRPCAddr(), samplelake.TablePrefix, awsEnv(s3Auth, access, secret), c.Nodes[0].S3Addr())
}
