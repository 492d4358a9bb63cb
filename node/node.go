package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringcache/ringcache/gateway"
	"github.com/ringcache/ringcache/node/internal/pagefetch"
	"github.com/ringcache/ringcache/node/internal/shadow"
	"github.com/ringcache/ringcache/node/membership"
	"github.com/ringcache/ringcache/ring"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/transport"
)

// handoffWindow is how long after a ring change a new owner asks the
// previous owner for pages it misses before going to the under-store.
const handoffWindow = 15 * time.Minute

// Node is one running ringcache node.
type Node struct {
	cfg Config
	id  string
	log *slog.Logger
	now func() time.Time

	store   *storage.Store
	under   UnderStore
	members *membership.Membership
	srv     *transport.Server
	peers   *transport.Client
	httpSrv *http.Server
	s3      *gateway.Gateway // nil without S3Addr
	metrics *metrics
	meta    *metaCache
	fetch   *pagefetch.Fetcher
	shadow  *shadow.Cache
	spool   *spool     // bodies of writes in flight (write_owner.go)
	writes  writeLocks // one write of a path at a time

	grpcLis, httpLis, s3Lis net.Listener
	grpcAddr                string // advertised
	httpAddr                string // advertised
	s3Addr                  string // advertised

	// prev is the ring before the latest change and when it changed: the
	// previous owner of a file may still hold its pages (warm handoff).
	prev struct {
		sync.Mutex
		ring *ring.Ring
		at   time.Time
	}
	// keyMu orders keyring changes on this node (file and memberlist
	// together); keyAnswers guards a fan-out's answers.
	keyMu      sync.Mutex
	keyAnswers sync.Mutex

	ready   atomic.Bool
	closing atomic.Bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

// ring is the node's current ring (never nil after Start).
func (n *Node) ring() *ring.Ring {
	if n.members == nil {
		return nil
	}
	return n.members.Ring()
}

// ID is the node's name in the cluster.
func (n *Node) ID() string { return n.id }

// GRPCAddr is the advertised address of control RPCs and the page stream.
func (n *Node) GRPCAddr() string { return n.grpcAddr }

// HTTPAddr is the advertised HTTP address ("" when disabled).
func (n *Node) HTTPAddr() string { return n.httpAddr }

// GossipAddr is the address other nodes join through.
func (n *Node) GossipAddr() string { return n.members.LocalAddr() }

// Ready reports whether the journal is replayed and the node is a member.
func (n *Node) Ready() bool { return n.ready.Load() && !n.closing.Load() }

// Store exposes the page store (tests and operators' tools).
func (n *Node) Store() *storage.Store { return n.store }

// Metrics serves the node's Prometheus metrics (what /metrics serves).
func (n *Node) Metrics() http.Handler { return n.metricsHandler() }

// S3Addr is the S3 gateway's advertised address ("" without a gateway).
func (n *Node) S3Addr() string { return n.s3Addr }

// Close leaves the cluster gracefully, finishes in-flight reads, syncs the
// journal and stops everything.
func (n *Node) Close(ctx context.Context) error {
	if !n.closing.CompareAndSwap(false, true) {
		return nil
	}
	n.ready.Store(false)
	// Long-lived streams (ring watches) end now; reads get to finish.
	n.stopOnce()
	var errs []error
	// S3 clients first: their GETs are reads of this node and its peers.
	if n.s3 != nil {
		if err := n.s3.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("node: s3 gateway: %w", err))
		}
	}
	if n.members != nil {
		// Leave gossips StateLeaving first, and returns at once when
		// nobody is left to hear it (the whole cluster stopping).
		if err := n.members.Leave(5 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if n.srv != nil {
		if err := n.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	// Pages fetched for reads that already returned are still being
	// written: let them land before the store closes.
	if n.fetch != nil {
		if err := n.fetch.Wait(ctx); err != nil {
			errs = append(errs, fmt.Errorf("node: waiting for page writes: %w", err))
		}
	}
	if n.httpSrv != nil {
		if err := n.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	n.teardown()
	return errors.Join(errs...)
}

// teardown releases everything without the graceful steps.
func (n *Node) teardown() {
	n.closing.Store(true)
	n.stopOnce()
	if n.members != nil {
		_ = n.members.Shutdown()
	}
	if n.srv != nil {
		n.srv.Close()
	}
	if n.httpSrv != nil {
		n.httpSrv.Close()
	}
	if n.s3 != nil {
		n.s3.Close()
	}
	for _, l := range []net.Listener{n.grpcLis, n.httpLis, n.s3Lis} {
		if l != nil {
			l.Close()
		}
	}
	n.wg.Wait()
	if n.peers != nil {
		n.peers.Close()
	}
	if n.store != nil {
		if err := n.store.Close(); err != nil {
			n.log.Error("close page store", "err", err)
		}
	}
}

func (n *Node) stopOnce() {
	select {
	case <-n.stop:
	default:
		close(n.stop)
	}
}

// Crash stops the node abruptly, as SIGKILL would from the cluster's point
// of view: no leave message, sockets just close. For failure tests.
func (n *Node) Crash() {
	n.ready.Store(false)
	n.teardown()
}

// RingMembers lists the members of the node's current ring.
func (n *Node) RingMembers() []string { return n.ring().Members() }

// RingVersion is the version of the node's current ring.
func (n *Node) RingVersion() uint64 { return n.ring().Version() }

// WaitRingChange blocks until the node's ring version is not from (read it
// with RingVersion before looking at the ring) or ctx ends.
func (n *Node) WaitRingChange(ctx context.Context, from uint64) error {
	w, cancel := n.members.Watch()
	defer cancel()
	for {
		select {
		case r, ok := <-w:
			// The first value is the ring at subscription: a change since
			// from that happened before Watch is seen here too.
			if !ok || r.Version() != from {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
