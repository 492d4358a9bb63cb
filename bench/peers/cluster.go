package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// reader is one system's client: read returns object key's bytes (buf, of
// at least size+1 bytes, may be used). client and op let a client spread
// its reads over nodes.
type reader interface {
	read(ctx context.Context, client, op int, key string, buf []byte) ([]byte, error)
	close()
}

// nodes is how many node processes each system runs.
const nodes = 3

// The access key versitygw is started with; loopback only.
const (
	accessKey = "peersbench"
	secretKey = "peersbench-secret"
)

// startSystem starts system's nodes for one row and returns a connected
// reader; p.stop ends them.
func startSystem(ctx context.Context, cfg runConfig, system string, src source, n int, p *procs) (reader, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	common := []string{"node", "-system", system, "-seed", fmt.Sprint(src.seed), "-size", fmt.Sprint(src.size), "-delay", src.delay.String()}
	switch system {
	case "groupcache":
		addrs, err := freePorts(nodes)
		if err != nil {
			return nil, err
		}
		urls := make([]string, nodes)
		for i, a := range addrs {
			urls[i] = "http://" + a
		}
		for i, a := range addrs {
			args := append(common, "-listen", a, "-peers", strings.Join(urls, ","))
			if _, err := p.start(fmt.Sprintf("groupcache-%d", i+1), "ready", 30*time.Second, self, args...); err != nil {
				return nil, err
			}
		}
		return newGroupcacheReader(addrs), nil
	case "olric":
		addrs, err := freePorts(2 * nodes)
		if err != nil {
			return nil, err
		}
		resp, gossip := addrs[:nodes], addrs[nodes:]
		for i := range nodes {
			var peers []string
			for j := range i { // join the members already up
				peers = append(peers, gossip[j])
			}
			args := append(common, "-listen", resp[i], "-gossip", gossip[i], "-peers", strings.Join(peers, ","))
			if _, err := p.start(fmt.Sprintf("olric-%d", i+1), "ready", 60*time.Second, self, args...); err != nil {
				return nil, err
			}
		}
		return newOlricReader(resp, src)
	case "ringcache":
		return startRingcache(ctx, cfg, src, n, p)
	}
	return nil, fmt.Errorf("unknown system %q", system)
}

// startRingcache starts versitygw holding the row's objects, the latency
// proxy in front of it (cfg.delay per request, the same cost as the other
// systems' source) and three `ringcache node` processes reading through
// the proxy.
func startRingcache(ctx context.Context, cfg runConfig, src source, n int, p *procs) (reader, error) {
	dir, err := os.MkdirTemp(p.logs, "ringcache-")
	if err != nil {
		return nil, err
	}
	addrs, err := freePorts(2 + 3*nodes)
	if err != nil {
		return nil, err
	}
	vgw, lat := addrs[0], addrs[1]
	if err := os.MkdirAll(filepath.Join(dir, "vgw"), 0o755); err != nil {
		return nil, err
	}
	if _, err := p.start("versitygw", "", 0, cfg.versitygw, "--access", accessKey, "--secret", secretKey,
		"--port", vgw, "--keep-alive", "-q", "posix", filepath.Join(dir, "vgw")); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, "http://"+vgw+"/", 0, 30*time.Second); err != nil {
		return nil, err
	}
	if err := upload(ctx, "http://"+vgw, src, n); err != nil {
		return nil, err
	}
	if _, err := p.start("latencyproxy", "", 0, cfg.latencyproxy, "-listen", lat, "-upstream", vgw, "-delay", src.delay.String()); err != nil {
		return nil, err
	}
	p.env = []string{"AWS_ACCESS_KEY_ID=" + accessKey, "AWS_SECRET_ACCESS_KEY=" + secretKey, "AWS_EC2_METADATA_DISABLED=true"}
	var seeds []string
	firstGossip := ""
	for i := range nodes {
		grpcA, gossipA, httpA := addrs[2+3*i], addrs[3+3*i], addrs[4+3*i]
		args := []string{"node", "--id", fmt.Sprintf("n%d", i+1), "--data-dir", filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			"--capacity", "2GiB", "--understore", "s3://" + bucket, "--s3-endpoint", "http://" + lat, "--s3-path-style",
			"--grpc-addr", grpcA, "--gossip-addr", gossipA, "--http-addr", httpA}
		if firstGossip != "" {
			args = append(args, "--join", firstGossip)
		} else {
			firstGossip = gossipA
		}
		if _, err := p.start(fmt.Sprintf("ringcache-%d", i+1), "", 0, cfg.ringcache, args...); err != nil {
			return nil, err
		}
		if err := waitHTTP(ctx, "http://"+httpA+"/readyz", 200, 60*time.Second); err != nil {
			return nil, err
		}
		seeds = append(seeds, grpcA)
	}
	r, err := newRingcacheReader(ctx, seeds)
	if err != nil {
		return nil, err
	}
	// The client's ring must list every node before the clock starts.
	deadline := time.Now().Add(30 * time.Second)
	for len(r.c.Members()) < nodes {
		if time.Now().After(deadline) {
			r.close()
			return nil, fmt.Errorf("ringcache: the client sees %d of %d members", len(r.c.Members()), nodes)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r, nil
}

// upload creates the bucket in versitygw and puts the row's objects
// (straight to versitygw, not through the latency proxy).
func upload(ctx context.Context, endpoint string, src source, n int) error {
	s3c := s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	for i := range n {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(keyName(i)),
			Body: bytes.NewReader(src.bytes(i))}); err != nil {
			return fmt.Errorf("put %s: %w", keyName(i), err)
		}
	}
	return nil
}

// buildTools builds the ringcache binary and the latency proxy from the
// main module at root into dir.
func buildTools(root, dir string) (ringcache, latencyproxy string, err error) {
	ringcache, latencyproxy = filepath.Join(dir, "ringcache"), filepath.Join(dir, "latencyproxy")
	for out, pkg := range map[string]string{ringcache: "./cmd/ringcache", latencyproxy: "./bench/gateway/latencyproxy"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
		}
	}
	return ringcache, latencyproxy, nil
}
