package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// nodeFlags are what the driver passes to one groupcache or olric node.
type nodeFlags struct {
	system     string
	listen     string   // groupcache: HTTP address; olric: its RESP address
	gossip     string   // olric: memberlist address
	peers      []string // groupcache: every node's URL; olric: the others' memberlist addresses
	src        source
	cacheBytes int64
}

// nodeMain runs one node until SIGTERM or SIGINT. It prints "ready" on
// stdout once it serves, which the driver waits for.
func nodeMain(args []string) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	var f nodeFlags
	var peers string
	fs.StringVar(&f.system, "system", "", "groupcache or olric")
	fs.StringVar(&f.listen, "listen", "", "address this node serves on")
	fs.StringVar(&f.gossip, "gossip", "", "olric: memberlist address")
	fs.StringVar(&peers, "peers", "", "comma-separated peers (see nodeFlags)")
	fs.Uint64Var(&f.src.seed, "seed", 1, "content seed")
	fs.IntVar(&f.src.size, "size", 64<<10, "object size in bytes")
	fs.DurationVar(&f.src.delay, "delay", 5*time.Millisecond, "cost of one source fetch")
	fs.Int64Var(&f.cacheBytes, "cache-bytes", 1<<30, "groupcache: cache bytes of this node")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if peers != "" {
		f.peers = strings.Split(peers, ",")
	}
	if f.listen == "" {
		return errors.New("node: -listen is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	switch f.system {
	case "groupcache":
		return runGroupcacheNode(ctx, f)
	case "olric":
		return runOlricNode(ctx, f)
	}
	return fmt.Errorf("node: unknown -system %q (want groupcache or olric)", f.system)
}
