package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
)

// LocalClusterConfig describes several nodes in one process on loopback
// ports: what `ringcache dev`, `ringcache bench --dev` and the tests run.
type LocalClusterConfig struct {
	Nodes      int    // default 3
	BaseDir    string // node i keeps its data in BaseDir/node-i; required
	UnderStore UnderStore
	// Template is copied for every node; its ID, DataDir, addresses and
	// Join are filled in per node (ports 0: picked by the kernel); a
	// relative GossipKeyring is a file in each node's DataDir.
	Template Config
	// Addrs gives node i its gRPC, gossip and HTTP addresses; nil means
	// 127.0.0.1 with kernel-picked ports.
	Addrs func(i int) (grpcAddr, gossipAddr, httpAddr string)
	// S3Addr gives node i its S3 gateway address; nil means 127.0.0.1
	// with a kernel-picked port when Template.S3Addr is set, and no
	// gateway otherwise.
	S3Addr func(i int) string
	Logger *slog.Logger
}

// LocalCluster is a set of nodes started by StartLocalCluster.
type LocalCluster struct {
	Nodes []*Node
	cfgs  []Config
}

// StartLocalCluster starts the nodes one after the other, each joining the
// first, and returns once every node is ready and all agree on the ring.
func StartLocalCluster(ctx context.Context, cfg LocalClusterConfig) (*LocalCluster, error) {
	if cfg.Nodes == 0 {
		cfg.Nodes = 3
	}
	if cfg.BaseDir == "" {
		return nil, fmt.Errorf("%w: local cluster needs a base dir", ErrConfig)
	}
	c := &LocalCluster{}
	for i := range cfg.Nodes {
		nc := cfg.Template
		nc.ID = fmt.Sprintf("node-%d", i)
		nc.DataDir = filepath.Join(cfg.BaseDir, nc.ID)
		nc.UnderStore = cfg.UnderStore
		if nc.GossipKeyring != "" && !filepath.IsAbs(nc.GossipKeyring) {
			nc.GossipKeyring = filepath.Join(nc.DataDir, nc.GossipKeyring) // one keyring file a node
		}
		nc.GRPCAddr, nc.GossipAddr, nc.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		if cfg.Addrs != nil {
			nc.GRPCAddr, nc.GossipAddr, nc.HTTPAddr = cfg.Addrs(i)
		}
		switch {
		case cfg.S3Addr != nil:
			nc.S3Addr = cfg.S3Addr(i)
		case nc.S3Addr != "":
			nc.S3Addr = "127.0.0.1:0"
		}
		if nc.GossipProfile == "" {
			nc.GossipProfile = "local"
		}
		if nc.Logger == nil {
			nc.Logger = cfg.Logger
		}
		if i > 0 {
			nc.Join = []string{c.Nodes[0].GossipAddr()}
		}
		n, err := Start(ctx, nc)
		if err != nil {
			c.Close(context.Background())
			return nil, fmt.Errorf("start %s: %w", nc.ID, err)
		}
		c.Nodes = append(c.Nodes, n)
		c.cfgs = append(c.cfgs, nc)
	}
	if err := c.WaitConverged(ctx); err != nil {
		c.Close(context.Background())
		return nil, err
	}
	return c, nil
}

// WaitConverged waits until every running node has the same ring holding
// every running node. It wakes on any node's ring change (a node's own ring
// may be the last to change), never polls.
func (c *LocalCluster) WaitConverged(ctx context.Context) error {
	changed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	var cancels []func()
	defer func() {
		for _, cancel := range cancels {
			cancel() // closes the watch, which ends its forwarder
		}
		wg.Wait()
	}()
	for _, n := range c.Nodes {
		if n == nil || n.closing.Load() {
			continue
		}
		w, cancel := n.members.Watch()
		cancels = append(cancels, cancel)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range w {
				select {
				case changed <- struct{}{}:
				default:
				}
			}
		}()
	}
	for {
		if c.converged() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("node: cluster did not converge: %w", ctx.Err())
		}
	}
}

func (c *LocalCluster) converged() bool {
	var live []*Node
	for _, n := range c.Nodes {
		if n != nil && !n.closing.Load() {
			live = append(live, n)
		}
	}
	if len(live) == 0 {
		return true
	}
	v := live[0].ring().Version()
	for _, n := range live {
		r := n.ring()
		if r.Version() != v || len(r.Members()) != len(live) {
			return false
		}
	}
	return true
}

// GRPCAddrs lists the nodes' advertised gRPC addresses (client seeds).
func (c *LocalCluster) GRPCAddrs() []string {
	var out []string
	for _, n := range c.Nodes {
		if n != nil && !n.closing.Load() {
			out = append(out, n.GRPCAddr())
		}
	}
	return out
}

// Close stops every node gracefully.
func (c *LocalCluster) Close(ctx context.Context) error {
	var errs []error
	for _, n := range c.Nodes {
		if n != nil {
			errs = append(errs, n.Close(ctx))
		}
	}
	return errors.Join(errs...)
}
