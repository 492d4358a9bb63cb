// Package client is the ringcache Go SDK. A Client learns the members from
// any seed node, keeps its ring current (a watch stream, reopened with
// backoff when it ends, plus a refresh when a node reports a newer ring),
// routes each read to the file's owner over the
// page stream, fails over to the next owners and then, when configured, to
// the under-store itself. It computes the same owner as every node: the ring
// is built from the member list the cluster reports, with the cluster's ring
// parameters.
package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/ringcache/ringcache/tlsconf"
	"github.com/ringcache/ringcache/transport"
)

// Sentinels of the SDK. Errors from nodes also match transport's sentinels
// (transport.ErrNotFound, transport.ErrOutOfRange, ...).
var (
	// ErrNotFound is transport.ErrNotFound: the file is not on the
	// under-store (a read's error matches it whichever node answered).
	ErrNotFound   = transport.ErrNotFound
	ErrConfig     = errors.New("client: invalid config")
	ErrNoMembers  = errors.New("client: no member could be reached")
	ErrClosed     = errors.New("client: closed")
	ErrBadRequest = errors.New("client: bad request")
)

// Client is safe for concurrent use.
type Client struct {
	cfg  Config
	log  *slog.Logger
	pool *transport.Client

	view    atomic.Pointer[view]
	refresh chan struct{} // a node reported another ring version
	jitter  *rand.Rand    // reconnect jitter; the watch loop's alone

	// ctx ends at Close; it bounds the watch loop and its stream, which
	// wg counts, so that Close returns only once they are gone.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// New connects to the cluster through the seeds and starts keeping the ring
// current.
func New(ctx context.Context, cfg Config) (*Client, error) {
	cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	seed := cfg.jitterSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	c := &Client{cfg: cfg, log: cfg.Logger, refresh: make(chan struct{}, 1), jitter: rand.New(rand.NewPCG(seed, seed>>1|1))}
	tcfg := cfg.TLS
	if cfg.TLSFiles.Enabled() {
		var err error
		if tcfg, err = tlsconf.LoadClient(cfg.TLSFiles); err != nil {
			return nil, err
		}
	}
	var err error
	if c.pool, err = transport.NewClient(transport.ClientConfig{Logger: cfg.Logger, TLS: tcfg}); err != nil {
		return nil, err
	}
	var errs []error
	for _, seed := range cfg.Seeds {
		if err := c.fetchMembers(ctx, seed); err != nil {
			if he := tlsError(seed, err); he != nil {
				// Every seed is dialled with the same settings: a
				// refused handshake would be refused again.
				c.pool.Close()
				return nil, he
			}
			errs = append(errs, fmt.Errorf("seed %s: %w", seed, err))
			continue
		}
		c.ctx, c.cancel = context.WithCancel(context.Background())
		c.wg.Add(1)
		go c.keepCurrent()
		return c, nil
	}
	if tcfg == nil {
		if he := c.probeTLS(ctx, cfg.Seeds); he != nil {
			c.pool.Close()
			return nil, he
		}
	}
	c.pool.Close()
	return nil, fmt.Errorf("%w: %w", ErrNoMembers, errors.Join(errs...))
}

// Close stops the ring watch, waits for it to end, and releases the
// connections.
func (c *Client) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.cancel()
	c.wg.Wait()
	return c.pool.Close()
}
