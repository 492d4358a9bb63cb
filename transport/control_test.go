package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type fakeControl struct {
	UnimplementedControlServer
	ring      chan MembersResponse // WatchRing sends these after the current one
	flaky     atomic.Int32         // Stat of lake/flaky fails Unavailable while > 0
	statCalls atomic.Int32
}

var testMembers = MembersResponse{RingVersion: 42, Members: []MemberInfo{
	{ID: "a", GRPCAddr: "10.0.0.1:7100", HTTPAddr: "10.0.0.1:7180", Zone: "z1", State: "active", Share: 0.5, BytesCached: 1 << 30},
	{ID: "b", GRPCAddr: "10.0.0.2:7100", State: "suspect", Share: 0.5},
}}

func (f *fakeControl) Members(ctx context.Context, _ *MembersRequest) (*MembersResponse, error) {
	m := testMembers
	return &m, nil
}

func (f *fakeControl) WatchRing(_ *WatchRequest, s grpc.ServerStreamingServer[MembersResponse]) error {
	m := testMembers
	if err := s.Send(&m); err != nil {
		return err
	}
	for {
		select {
		case m := <-f.ring:
			if err := s.Send(&m); err != nil {
				return err
			}
		case <-s.Context().Done():
			return nil
		}
	}
}

func (f *fakeControl) Stat(ctx context.Context, r *StatRequest) (*StatResponse, error) {
	f.statCalls.Add(1)
	switch r.Path {
	case "lake/panic":
		panic("boom: secret internals")
	case "lake/flaky":
		if f.flaky.Add(-1) >= 0 {
			return nil, status.Error(codes.Unavailable, "try again")
		}
	}
	return &StatResponse{Path: r.Path, Size: 123, ETag: "e", ModTime: time.Unix(1700000000, 5).UTC(), Version: 2, Owner: "a", RingVersion: r.RingVersion}, nil
}

func (f *fakeControl) Load(r *LoadRequest, s grpc.ServerStreamingServer[LoadProgress]) error {
	for i := range int64(3) {
		if err := s.Send(&LoadProgress{FilesDone: i + 1, FilesTotal: 3, Path: r.Prefix + "f"}); err != nil {
			return err
		}
	}
	return nil
}

func startControl(t *testing.T, cfg ServerConfig) (*fakeControl, *testServer, ControlClient) {
	f := &fakeControl{ring: make(chan MembersResponse)}
	ts := startServer(t, cfg, f, &testHandler{objects: map[string]*testObject{}})
	c := newTestClient(t, ClientConfig{RetryBackoff: time.Millisecond})
	cc, err := c.Control(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	return f, ts, cc
}

func TestControlRoundTrip(t *testing.T) {
	_, ts, cc := startControl(t, ServerConfig{})
	ctx := context.Background()
	m, err := cc.Members(ctx, &MembersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if m.RingVersion != 42 || len(m.Members) != 2 || m.Members[0] != testMembers.Members[0] {
		t.Fatalf("members: %+v", m)
	}
	st, err := cc.Stat(ctx, &StatRequest{Path: "lake/a/b", RingVersion: 9})
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != 123 || st.RingVersion != 9 || !st.ModTime.Equal(time.Unix(1700000000, 5)) {
		t.Fatalf("stat: %+v", st)
	}
	// The page stream answers on the same port.
	c := newTestClient(t, ClientConfig{})
	if _, err := c.Read(ctx, ts.addr, &ReadRequest{Path: "lake/none", Length: 1}, make([]byte, 1)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stream on the gRPC port: %v", err)
	}
	// Unimplemented methods say so.
	if _, err := cc.Assign(ctx, &AssignRequest{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("assign: %v", err)
	}
	stream, err := cc.Load(ctx, &LoadRequest{Prefix: "lake/dir/"})
	if err != nil {
		t.Fatal(err)
	}
	var got []LoadProgress
	for {
		p, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, *p)
	}
	if len(got) != 3 || got[2].FilesDone != 3 || got[2].Path != "lake/dir/f" {
		t.Fatalf("load progress: %+v", got)
	}
}

func TestWatchRing(t *testing.T) {
	f, _, cc := startControl(t, ServerConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := cc.WatchRing(ctx, &WatchRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := w.Recv()
	if err != nil || first.RingVersion != 42 {
		t.Fatalf("first: %+v %v", first, err)
	}
	for v := uint64(43); v < 46; v++ {
		f.ring <- MembersResponse{RingVersion: v, Members: testMembers.Members[:1]}
		m, err := w.Recv()
		if err != nil || m.RingVersion != v || len(m.Members) != 1 {
			t.Fatalf("change %d: %+v %v", v, m, err)
		}
	}
	cancel()
	if _, err := w.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("after cancel: %v", err)
	}
}

func TestShutdownEndsWatches(t *testing.T) {
	f := &fakeControl{ring: make(chan MembersResponse)}
	srv, err := NewServer(ServerConfig{}, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	c := newTestClient(t, ClientConfig{})
	cc, err := c.Control(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	w, err := cc.WatchRing(context.Background(), &WatchRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with an open watch: %v", err)
	}
	if _, err := w.Recv(); err == nil {
		t.Fatal("watch still open after shutdown")
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

func TestControlValidation(t *testing.T) {
	f, _, cc := startControl(t, ServerConfig{})
	ctx := context.Background()
	for _, p := range []string{"", "../etc/passwd", "lake//x", "/lake/x", "lake", "lake/./x", "lake/x\x00"} {
		_, err := cc.Stat(ctx, &StatRequest{Path: p})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("stat %q: %v, want InvalidArgument", p, err)
		}
	}
	if n := f.statCalls.Load(); n != 0 {
		t.Fatalf("handler called %d times for invalid requests", n)
	}
	s, err := cc.Load(ctx, &LoadRequest{Path: "lake/a", Prefix: "lake/"})
	if err == nil {
		_, err = s.Recv()
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("load with path and prefix: %v", err)
	}
}

func TestControlPanic(t *testing.T) {
	var logBuf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logBuf, mu: &mu}, nil))
	_, _, cc := startControl(t, ServerConfig{Logger: log})
	_, err := cc.Stat(context.Background(), &StatRequest{Path: "lake/panic"})
	if status.Code(err) != codes.Internal {
		t.Fatalf("got %v, want Internal", err)
	}
	msg := status.Convert(err).Message()
	if strings.Contains(msg, "goroutine") || strings.Contains(msg, ".go:") || strings.Contains(msg, "secret") {
		t.Fatalf("panic details sent to the caller: %q", msg)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logBuf.String(), "goroutine") {
		t.Fatalf("stack not logged locally: %s", logBuf.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestControlRetryUnavailable(t *testing.T) {
	f, _, cc := startControl(t, ServerConfig{})
	f.flaky.Store(2)
	st, err := cc.Stat(context.Background(), &StatRequest{Path: "lake/flaky"})
	if err != nil || st.Size != 123 {
		t.Fatalf("got %+v %v", st, err)
	}
	if n := f.statCalls.Load(); n != 3 {
		t.Fatalf("%d calls, want 3 (two Unavailable, one success)", n)
	}
	f.flaky.Store(10) // more than the retries
	f.statCalls.Store(0)
	if _, err := cc.Stat(context.Background(), &StatRequest{Path: "lake/flaky"}); status.Code(err) != codes.Unavailable {
		t.Fatalf("got %v, want Unavailable", err)
	}
	if n := f.statCalls.Load(); n != 1+DefaultRetryMax {
		t.Fatalf("%d calls, want %d", n, 1+DefaultRetryMax)
	}
}

func TestControlMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv, err := NewServer(ServerConfig{}, &fakeControl{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := reg.Register(srv.Metrics()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "grpc_server_started_total" {
			found = true
		}
	}
	if !found {
		t.Fatalf("grpc server metrics missing from the node's registry")
	}
	// Two servers in one process each have their own metrics.
	srv2, err := NewServer(ServerConfig{}, &fakeControl{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	if err := prometheus.NewRegistry().Register(srv2.Metrics()); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (ServerConfig{}).Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (ServerConfig{MaxRequestLength: -1}).Validate(); !errors.Is(err, ErrBadConfig) {
		t.Fatal(err)
	}
	if err := (ClientConfig{}).Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (ClientConfig{MaxIdlePerAddr: -1}).Validate(); !errors.Is(err, ErrBadConfig) {
		t.Fatal(err)
	}
}
