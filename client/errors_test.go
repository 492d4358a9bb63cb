package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/transport"
)

// TestMissingFileErrorSaysItOnce: reading a file the under-store does not
// have, through a real node, fails with a message that names the path, the
// status and the root cause once each (it used to repeat the path five
// times over five layers), and that still matches the not-found sentinels
// across the page stream (and gRPC, for Stat).
func TestMissingFileErrorSaysItOnce(t *testing.T) {
	_, c, cl := setup(t, 1)
	const path = "lake/missing/x.bin"
	ctx := context.Background()
	_, readErr := cl.ReadAt(ctx, path, make([]byte, 10), 0)
	_, openErr := cl.Open(ctx, path)
	_, statErr := cl.Stat(ctx, path) // a gRPC call, not the page stream
	if status.Code(statErr) != codes.NotFound {
		t.Fatalf("Stat of a missing file: %v, want gRPC NotFound", statErr)
	}
	for name, err := range map[string]error{"ReadAt": readErr, "Open": openErr, "Stat": statErr} {
		if !errors.Is(err, client.ErrNotFound) || !errors.Is(err, transport.ErrNotFound) {
			t.Fatalf("%s of a missing file: %v, want ErrNotFound", name, err)
		}
		msg := err.Error()
		t.Logf("%s: %s", name, msg)
		for _, once := range []string{path, "not found", c.Nodes[0].GRPCAddr(), "no such file or directory"} {
			if n := strings.Count(msg, once); n != 1 {
				t.Errorf("%s: %q says %q %d times, want once", name, msg, once, n)
			}
		}
		if name != "Stat" && !strings.HasPrefix(msg, path+": ") {
			t.Errorf("%s: %q does not start with the path", name, msg)
		}
	}
}
