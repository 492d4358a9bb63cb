package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"time"

	"github.com/olric-data/olric"
	"github.com/olric-data/olric/config"
)

// dmapName is the one olric distributed map the benchmark uses.
const dmapName = "objs"

// runOlricNode runs one embedded olric member: its RESP protocol on
// f.listen (what olric.NewClusterClient talks to) and memberlist on
// f.gossip, joining f.peers. olric has no read-through loader: clients
// fill it cache-aside (see olricReader).
func runOlricNode(ctx context.Context, f nodeFlags) error {
	host, port, err := splitHostPort(f.listen)
	if err != nil {
		return err
	}
	ghost, gport, err := splitHostPort(f.gossip)
	if err != nil {
		return fmt.Errorf("-gossip: %w", err)
	}
	c := config.New("local")
	c.BindAddr, c.BindPort = host, port
	c.MemberlistConfig.BindAddr, c.MemberlistConfig.BindPort = ghost, gport
	c.MemberlistConfig.AdvertiseAddr, c.MemberlistConfig.AdvertisePort = ghost, gport
	c.Peers = f.peers
	// The default in-memory table (1 MiB) refuses a 1 MiB entry ("entry
	// too large for the configured table size"); tables are allocated as
	// needed, so a larger one costs nothing up front.
	c.DMaps.Engine = &config.Engine{Config: map[string]interface{}{"tableSize": olricTableSize(f.src.size)}}
	c.LogLevel = config.LogLevelError
	c.LogOutput = io.Discard
	c.Logger = log.New(io.Discard, "", 0)
	started := make(chan struct{})
	c.Started = func() { close(started) }
	db, err := olric.New(c)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- db.Start() }()
	select {
	case <-started:
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Println("ready")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return db.Shutdown(sctx)
}

// olricTableSize fits 16 objects of size bytes in one olric table, and at
// least olric's default 1 MiB.
func olricTableSize(size int) uint64 { return uint64(max(16*(size+4096), 1<<20)) }

func splitHostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	return h, n, err
}

// olricReader is the cache-aside client an olric user writes: Get from the
// cluster (olric's client routes to the key's partition owner); on a miss,
// fetch from the source and Put.
type olricReader struct {
	cl  *olric.ClusterClient
	dm  olric.DMap
	src source
}

func newOlricReader(nodes []string, src source) (*olricReader, error) {
	cl, err := olric.NewClusterClient(nodes, olric.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		return nil, err
	}
	dm, err := cl.NewDMap(dmapName)
	if err != nil {
		_ = cl.Close(context.Background())
		return nil, err
	}
	return &olricReader{cl: cl, dm: dm, src: src}, nil
}

func (o *olricReader) read(ctx context.Context, _, _ int, key string, _ []byte) ([]byte, error) {
	gr, err := o.dm.Get(ctx, key)
	if err == nil {
		return gr.Byte()
	}
	if !errors.Is(err, olric.ErrKeyNotFound) && err.Error() != olric.ErrKeyNotFound.Error() {
		// olric v0.7.4's client maps the server's KEYNOTFOUND reply to
		// its ErrKeyNotFound only in a process that also runs a member
		// (the server registers the error prefix); a client-only
		// process gets an error with the same text.
		return nil, err
	}
	b, err := o.src.fetch(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := o.dm.Put(ctx, key, b); err != nil {
		return nil, err
	}
	return b, nil
}

func (o *olricReader) close() { _ = o.cl.Close(context.Background()) }
