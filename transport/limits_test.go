package transport

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/objpath"
)

// paddedStat is a StatRequest with an extra field the server's decoder
// skips: a message of any size that passes validation.
type paddedStat struct {
	Path string `msgpack:"path"`
	Pad  string `msgpack:"pad"`
}

// paddedTo returns a paddedStat whose msgpack encoding is exactly n bytes.
func paddedTo(t *testing.T, n int) *paddedStat {
	t.Helper()
	m := &paddedStat{Path: "lake/a", Pad: strings.Repeat("x", n-64)}
	b, err := msgpack.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	m.Pad += strings.Repeat("x", n-len(b))
	if b, _ := msgpack.Marshal(m); len(b) != n {
		t.Fatalf("padded message is %d bytes, want %d", len(b), n)
	}
	return m
}

// TestMessageSizeLimit: a message of MaxMessageSize bytes is served, one
// byte more is refused with ResourceExhausted (by the server, for a client
// that would send it; by our client, before sending), and the connection
// goes on serving.
func TestMessageSizeLimit(t *testing.T) {
	_, ts, _ := startControl(t, ServerConfig{})
	ctx := context.Background()
	// A client that sends anything, so that the server's limit is tested.
	raw, err := grpc.NewClient(ts.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(Codec{}), grpc.MaxCallSendMsgSize(2*MaxMessageSize)))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var out StatResponse
	if err := raw.Invoke(ctx, MethodStat, paddedTo(t, MaxMessageSize), &out); err != nil || out.Size != 123 {
		t.Fatalf("message of MaxMessageSize: %v (%+v)", err, out)
	}
	if err := raw.Invoke(ctx, MethodStat, paddedTo(t, MaxMessageSize+1), &out); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("message of MaxMessageSize+1: %v, want ResourceExhausted", err)
	}
	if err := raw.Invoke(ctx, MethodStat, &StatRequest{Path: "lake/a"}, &out); err != nil {
		t.Fatalf("after an oversized message: %v", err)
	}
	// Our own client refuses to send it at all.
	c := newTestClient(t, ClientConfig{RetryMax: -1})
	conn, err := c.Control(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	big := &AffinityRequest{Paths: []string{"lake/" + strings.Repeat("p", MaxMessageSize)}}
	if _, err := conn.Affinity(ctx, big); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("client sending MaxMessageSize+: %v, want ResourceExhausted", err)
	}
}

// TestConcurrentStreamsLimit: one connection carries at most
// MaxConcurrentStreams RPCs at once; the next one waits for a slot (here
// until its context ends) and starts as soon as one stream ends.
func TestConcurrentStreamsLimit(t *testing.T) {
	_, _, cc := startControl(t, ServerConfig{})
	ctx, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	cancels := make([]context.CancelFunc, 0, MaxConcurrentStreams)
	for i := range MaxConcurrentStreams {
		sctx, cancel := context.WithCancel(ctx)
		cancels = append(cancels, cancel)
		w, err := cc.WatchRing(sctx, &WatchRequest{})
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		if _, err := w.Recv(); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
	}
	// The connection is full: a new RPC waits for a slot.
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond) // a bound on the wait we expect
	_, err := cc.Members(wctx, &MembersRequest{})
	cancel()
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("RPC %d on a full connection: %v, want it to wait (DeadlineExceeded)", MaxConcurrentStreams+1, err)
	}
	// One stream ends: the waiting RPC gets its slot.
	done := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := cc.Members(wctx, &MembersRequest{})
		done <- err
	}()
	cancels[0]()
	if err := <-done; err != nil {
		t.Fatalf("RPC after a stream ended: %v", err)
	}
}

// TestKeepalivePingFlood: a client that pings more often than
// KeepaliveMinPing gets GOAWAY (ENHANCE_YOUR_CALM) and loses its
// connection, while other clients are served.
func TestKeepalivePingFlood(t *testing.T) {
	_, ts, cc := startControl(t, ServerConfig{})
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a bound, not a wait
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, bufio.NewReader(conn))
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var goAway *http2.GoAwayFrame
	pings := 0
	for goAway == nil {
		if pings < 100 {
			if err := fr.WritePing(false, [8]byte{byte(pings)}); err != nil {
				break // closed after the GOAWAY
			}
			pings++
		}
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("connection ended without GOAWAY after %d pings: %v", pings, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.GoAwayFrame:
			goAway = f
		}
	}
	if goAway.ErrCode != http2.ErrCodeEnhanceYourCalm {
		t.Fatalf("GOAWAY %v after %d pings, want ENHANCE_YOUR_CALM", goAway.ErrCode, pings)
	}
	t.Logf("GOAWAY after %d pings: %s", pings, goAway.DebugData())
	if _, err := cc.Members(context.Background(), &MembersRequest{}); err != nil {
		t.Fatalf("another client after the flood: %v", err)
	}
}

// TestMessageFieldLimits: every request's field limits, just inside and
// just outside, through the Validate the validation interceptor calls.
func TestMessageFieldLimits(t *testing.T) {
	okPath := "lake/" + strings.Repeat("p", objpath.MaxLen-len("lake/"))
	longPath := okPath + "p"
	paths := func(n int) []string {
		p := make([]string, n)
		for i := range p {
			p[i] = "lake/f"
		}
		return p
	}
	splits := func(n int) []Split {
		s := make([]Split, n)
		for i := range s {
			s[i] = Split{Path: "lake/f", Length: 1}
		}
		return s
	}
	type validator interface{ Validate() error }
	cases := []struct {
		name string
		msg  validator
		ok   bool
	}{
		{"stat path of MaxLen", &StatRequest{Path: okPath}, true},
		{"stat path over MaxLen", &StatRequest{Path: longPath}, false},
		{"invalidate prefix of MaxLen", &InvalidateRequest{Prefix: okPath}, true},
		{"invalidate prefix over MaxLen", &InvalidateRequest{Prefix: longPath}, false},
		{"invalidate path and prefix", &InvalidateRequest{Path: "lake/a", Prefix: "lake/"}, false},
		{"load scope of MaxLen", &LoadRequest{Prefix: "lake/", Scope: strings.Repeat("s", objpath.MaxLen)}, true},
		{"load scope over MaxLen", &LoadRequest{Prefix: "lake/", Scope: strings.Repeat("s", objpath.MaxLen+1)}, false},
		{"load path over MaxLen", &LoadRequest{Path: longPath}, false},
		{"pin prefix over MaxLen", &PinRequest{Prefix: longPath}, false},
		{"affinity MaxAffinityPaths", &AffinityRequest{Paths: paths(MaxAffinityPaths)}, true},
		{"affinity MaxAffinityPaths+1", &AffinityRequest{Paths: paths(MaxAffinityPaths + 1)}, false},
		{"affinity no paths", &AffinityRequest{}, false},
		{"affinity n MaxAffinityNodes", &AffinityRequest{Paths: paths(1), N: MaxAffinityNodes}, true},
		{"affinity n MaxAffinityNodes+1", &AffinityRequest{Paths: paths(1), N: MaxAffinityNodes + 1}, false},
		{"affinity negative n", &AffinityRequest{Paths: paths(1), N: -1}, false},
		{"affinity results at the limit", &AffinityRequest{Paths: paths(MaxAffinityResults / 10), N: 10}, true},
		{"affinity results over the limit", &AffinityRequest{Paths: paths(MaxAffinityResults/10 + 1), N: 10}, false},
		{"affinity path over MaxLen", &AffinityRequest{Paths: []string{longPath}}, false},
		{"assign MaxAssignSplits", &AssignRequest{Splits: splits(MaxAssignSplits)}, true},
		{"assign MaxAssignSplits+1", &AssignRequest{Splits: splits(MaxAssignSplits + 1)}, false},
		{"assign split path over MaxLen", &AssignRequest{Splits: []Split{{Path: longPath}}}, false},
		{"members", &MembersRequest{}, true},
		{"watch", &WatchRequest{}, true},
	}
	for _, tc := range cases {
		err := tc.msg.Validate()
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadRequest)) {
			t.Errorf("%s: %v, want ok=%v (or ErrBadRequest)", tc.name, err, tc.ok)
		}
	}
}

// TestAffinityLimitOverGRPC: the validation interceptor answers a request
// over a limit with InvalidArgument; one at the limit reaches the service
// (here Unimplemented).
func TestAffinityLimitOverGRPC(t *testing.T) {
	_, _, cc := startControl(t, ServerConfig{})
	ctx := context.Background()
	_, err := cc.Affinity(ctx, &AffinityRequest{Paths: []string{"lake/a"}, N: MaxAffinityNodes})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("n at the limit: %v, want it to reach the service", err)
	}
	_, err = cc.Affinity(ctx, &AffinityRequest{Paths: []string{"lake/a"}, N: MaxAffinityNodes + 1})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("n over the limit: %v, want InvalidArgument", err)
	}
}

// rawStream is a page-stream connection that sends frames the SDK never
// would.
type rawStream struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialRawStream(t *testing.T, addr string) *rawStream {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a bound, not a wait
	if _, err := conn.Write(appendPreface(nil)); err != nil {
		t.Fatal(err)
	}
	return &rawStream{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// status sends b (request frames) and returns the header's status of one
// response, reading up to its trailer.
func (r *rawStream) status(b []byte) Status {
	r.t.Helper()
	if _, err := r.conn.Write(b); err != nil {
		r.t.Fatal(err)
	}
	h, body, err := readFrame(r.br, nil)
	if err != nil || h.typ != frameHeader {
		r.t.Fatalf("response: %v (frame type %d)", err, h.typ)
	}
	_, hdr, err := parseHeader(body, false)
	if err != nil {
		r.t.Fatal(err)
	}
	if h, _, err := readFrame(r.br, nil); err != nil || h.typ != frameTrailer {
		r.t.Fatalf("trailer: %v (frame type %d)", err, h.typ)
	}
	return hdr.Status
}

// closed reports whether the server closes the connection (rather than
// leaving it open until the test's bound).
func (r *rawStream) closed() bool {
	_, err := io.Copy(io.Discard, r.br)
	return err == nil || !errors.Is(err, os.ErrDeadlineExceeded)
}

// TestStreamLimits: a request at each limit of the page stream is served,
// one over it is refused with the status the package doc names (and the
// connection stays usable), and a frame over MaxFrameBody closes it.
func TestStreamLimits(t *testing.T) {
	const maxLen = 1 << 20
	ts := startServer(t, ServerConfig{MaxRequestLength: maxLen}, nil, &testHandler{objects: map[string]*testObject{}})
	okPath := "lake/" + strings.Repeat("p", MaxPathLength-len("lake/"))
	r := dialRawStream(t, ts.addr)
	cases := []struct {
		name string
		req  ReadRequest
		want Status
	}{
		{"path of MaxPathLength", ReadRequest{Path: okPath, Length: 1}, StatusNotFound},
		{"path over MaxPathLength", ReadRequest{Path: okPath + "p", Length: 1}, StatusBadRequest},
		{"scope over MaxPathLength", ReadRequest{Path: "lake/a", Scope: okPath + "p", Length: 1}, StatusBadRequest},
		{"etag over MaxPathLength", ReadRequest{Path: "lake/a", ETag: okPath + "p", Length: 1}, StatusBadRequest},
		{"length MaxRequestLength", ReadRequest{Path: "lake/a", Length: maxLen}, StatusNotFound},
		{"length over MaxRequestLength", ReadRequest{Path: "lake/a", Length: maxLen + 1}, StatusTooLarge},
		{"negative offset", ReadRequest{Path: "lake/a", Offset: -1, Length: 1}, StatusBadRequest},
		{"empty path", ReadRequest{Length: 1}, StatusBadRequest},
	}
	for i, tc := range cases {
		if got := r.status(appendRequest(nil, uint64(i+1), &tc.req, 0)); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	// A frame body of exactly MaxFrameBody is read (its ETag is then too
	// long: StatusBadRequest); one byte more closes the connection.
	fill := ReadRequest{Path: "lake/a", ETag: strings.Repeat("e", MaxFrameBody-requestFixed-len("lake/a"))}
	if got := r.status(appendRequest(nil, 99, &fill, 0)); got != StatusBadRequest {
		t.Fatalf("frame of MaxFrameBody: status %d, want %d", got, StatusBadRequest)
	}
	fill.ETag += "e"
	if _, err := r.conn.Write(appendRequest(nil, 100, &fill, 0)); err != nil {
		t.Fatal(err)
	}
	if !r.closed() {
		t.Fatal("frame over MaxFrameBody: connection left open")
	}
}

// TestStreamIdleTimeout: a stream connection that sends nothing, or only
// half a request frame, is closed after at most IdleTimeout (and not
// before IdleTimeout/2); the client's pooled connection that was closed
// that way is redialled on its next read.
func TestStreamIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	objs := objects(t)
	ts := startServer(t, ServerConfig{IdleTimeout: idle}, nil, &testHandler{objects: objs})
	half := appendRequest(nil, 1, &ReadRequest{Path: "lake/obj-c", Length: 10}, 0)
	for name, send := range map[string][]byte{"silent": nil, "half a frame": half[:len(half)/2]} {
		r := dialRawStream(t, ts.addr)
		start := time.Now()
		if _, err := r.conn.Write(send); err != nil {
			t.Fatal(err)
		}
		if !r.closed() {
			t.Fatalf("%s: connection left open", name)
		}
		if el := time.Since(start); el < idle/2 {
			t.Fatalf("%s: closed after %v, before IdleTimeout/2", name, el)
		}
	}
	c := newTestClient(t, ClientConfig{})
	dst := make([]byte, 10)
	req := &ReadRequest{Path: "lake/obj-c", Length: 10}
	if _, err := c.Read(context.Background(), ts.addr, req, dst); err != nil {
		t.Fatal(err)
	}
	// Wait (on the condition, with a bound) for the server to close the
	// client's idle connection, then read again on the pool.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ts.srv.mu.Lock()
		n := len(ts.srv.streams)
		ts.srv.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle connection never closed by the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := c.Read(context.Background(), ts.addr, req, dst); err != nil {
		t.Fatalf("read after the server closed the idle connection: %v", err)
	}
}

// rawCodec sends []byte as the message, for messages our codec would
// never encode.
type rawCodec struct{ Codec }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}

// TestMalformedMessageOverGRPC: a 13-byte AssignRequest claiming 4G
// splits is refused before msgpack allocates for them (Internal: grpc-go
// answers every decoding error so), and the server goes on serving.
func TestMalformedMessageOverGRPC(t *testing.T) {
	_, ts, cc := startControl(t, ServerConfig{})
	raw, err := grpc.NewClient(ts.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	msg := []byte{0x81, 0xa6, 's', 'p', 'l', 'i', 't', 's', 0xdd, 0xff, 0xff, 0xff, 0xff}
	var out AssignResponse
	err = raw.Invoke(context.Background(), MethodAssign, msg, &out)
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("4G splits in 13 bytes: %v, want Internal (malformed)", err)
	}
	if _, err := cc.Members(context.Background(), &MembersRequest{}); err != nil {
		t.Fatalf("after a malformed message: %v", err)
	}
}
