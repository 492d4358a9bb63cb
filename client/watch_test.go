package client_test

import (
	"context"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/ring"
	"github.com/ringcache/ringcache/transport"
)

// goingNode is a real transport.Server (real gRPC on a loopback socket)
// whose control service counts WatchRing calls. While up it answers like a
// node; once down() it answers like a node that is shutting down: every
// WatchRing ends at once with Unavailable (the node's own answer after
// stop), while Members still answers (it does until the node's gRPC server
// stops), which is what made the client spin.
type goingNode struct {
	transport.UnimplementedControlServer
	addr    string
	members transport.MembersResponse
	watches atomic.Int64
	gone    chan struct{} // closed by down
}

func startGoingNode(t *testing.T) *goingNode {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &goingNode{addr: l.Addr().String(), gone: make(chan struct{})}
	r, err := ring.New(ring.Config{}, []string{"n1"})
	if err != nil {
		t.Fatal(err)
	}
	g.members = transport.MembersResponse{RingVersion: r.Version(), RingMembers: []string{"n1"},
		Members: []transport.MemberInfo{{ID: "n1", GRPCAddr: g.addr, State: "active"}}}
	srv, err := transport.NewServer(transport.ServerConfig{NodeID: "n1"}, g, transport.ReadHandlerFunc(
		func(context.Context, *transport.ReadRequest, transport.ResponseWriter) error {
			return transport.Errorf(transport.StatusUnavailable, "no reads here")
		}))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return g
}

func (g *goingNode) isDown() bool {
	select {
	case <-g.gone:
		return true
	default:
		return false
	}
}

func (g *goingNode) down() { close(g.gone) }

func (g *goingNode) Members(context.Context, *transport.MembersRequest) (*transport.MembersResponse, error) {
	m := g.members
	return &m, nil
}

func (g *goingNode) WatchRing(_ *transport.WatchRequest, s grpc.ServerStreamingServer[transport.MembersResponse]) error {
	g.watches.Add(1)
	if g.isDown() {
		return status.Error(codes.Unavailable, "node shutting down")
	}
	m := g.members
	if err := s.Send(&m); err != nil {
		return err
	}
	select {
	case <-g.gone:
		return status.Error(codes.Unavailable, "node shutting down")
	case <-s.Context().Done():
		return nil
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newWatchingClient(t *testing.T, g *goingNode) *client.Client {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("jitter seed %d", seed)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := client.New(ctx, client.WithJitterSeed(client.Config{Seeds: []string{g.addr}}, seed))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	waitFor(t, "first WatchRing call", 5*time.Second, func() bool { return g.watches.Load() >= 1 })
	return cl
}

// TestWatchBacksOffWhileTheClusterIsGone: a node that ends every WatchRing
// at once (shutting down) sees the client's reconnects back off: 100 ms
// doubling to 5 s with equal jitter is at most 6 calls in 2 s (the first
// delays add up to at least 50+100+200+400+800 ms); the tight loop this
// replaces made thousands.
func TestWatchBacksOffWhileTheClusterIsGone(t *testing.T) {
	g := startGoingNode(t)
	newWatchingClient(t, g)
	before := g.watches.Load()
	g.down()
	const window = 2 * time.Second
	time.Sleep(window) // a measured window, not a wait for a condition
	calls := g.watches.Load() - before
	t.Logf("WatchRing calls in the %v after the node went away: %d", window, calls)
	if calls > 10 {
		t.Fatalf("%d WatchRing calls in %v: reconnects do not back off", calls, window)
	}
	if calls < 2 {
		t.Fatalf("%d WatchRing calls in %v: the watch does not reconnect at all", calls, window)
	}
}

// TestCloseStopsTheWatch: Close ends the watch loop and its stream and
// waits for them: no goroutine of the watch is left and the node sees no
// more WatchRing calls, also while the client was backing off.
func TestCloseStopsTheWatch(t *testing.T) {
	for _, backingOff := range []bool{false, true} {
		g := startGoingNode(t)
		cl := newWatchingClient(t, g)
		if backingOff {
			g.down()
			waitFor(t, "a reconnect", 5*time.Second, func() bool { return g.watches.Load() >= 2 })
		}
		if err := cl.Close(); err != nil {
			t.Fatal(err)
		}
		// Close waited for them; a goroutine may still be between its
		// wg.Done and its return for a moment.
		waitFor(t, "watch goroutines gone after Close", time.Second, func() bool { return watchGoroutines() == "" })
		at := g.watches.Load()
		// Absence can only be watched for a while: longer than the
		// first reconnect delays.
		time.Sleep(300 * time.Millisecond)
		if n := g.watches.Load(); n != at {
			t.Fatalf("backing off %v: %d WatchRing calls after Close", backingOff, n-at)
		}
	}
}

// watchGoroutines returns the stacks of goroutines still in the client's
// watch loop or stream ("" when none).
func watchGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "client.(*Client).keepCurrent") || strings.Contains(g, "client.(*Client).watch") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
