package node_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/transport"
)

// logRecord is one captured log line: the node that wrote it, its message
// and its read id.
type logRecord struct{ node, msg, readID string }

// captureHandler keeps every record of every node of a local cluster.
type captureHandler struct {
	mu    *sync.Mutex
	recs  *[]logRecord
	attrs []slog.Attr
}

func (h captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{msg: r.Message}
	take := func(a slog.Attr) bool {
		switch a.Key {
		case "node":
			rec.node = a.Value.String()
		case "read_id":
			rec.readID = a.Value.String()
		}
		return true
	}
	for _, a := range h.attrs {
		take(a)
	}
	r.Attrs(take)
	h.mu.Lock()
	*h.recs = append(*h.recs, rec)
	h.mu.Unlock()
	return nil
}
func (h captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return h
}
func (h captureHandler) WithGroup(string) slog.Handler { return h }

// TestReadIDFollowsTheRead: a read sent to a node that does not own the
// file is logged with its id by that node (forwarded), by the owner
// (served) and with the owner's under-store request, so one grep of the id
// follows it across the nodes' logs.
func TestReadIDFollowsTheRead(t *testing.T) {
	store := localStore(t)
	var mu sync.Mutex
	var recs []logRecord
	log := slog.New(captureHandler{mu: &mu, recs: &recs})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lc, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: 3, BaseDir: t.TempDir(), UnderStore: store, Logger: log,
		Template: node.Config{PageSize: testPageSize, Capacity: 64 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close(context.Background())
	const path = "lake/logs/f.bin"
	data := make([]byte, 3*testPageSize)
	if _, err := store.Put(ctx, path, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}

	st, err := lc.Nodes[0].StatObject(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var via *node.Node
	for _, n := range lc.Nodes {
		if n.ID() != st.Owner {
			via = n
			break
		}
	}
	tc, err := transport.NewClient(transport.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	const id = uint64(0xABCDEF0123456789)
	buf := make([]byte, 2*testPageSize)
	if _, err := tc.Read(ctx, via.GRPCAddr(), &transport.ReadRequest{Path: path, Offset: 100, Length: int64(len(buf)), ReadID: id}, buf); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%016X", id)
	seen := map[string]bool{}
	mu.Lock()
	for _, r := range recs {
		if r.readID == want {
			seen[r.node+" "+r.msg] = true
		}
	}
	mu.Unlock()
	for _, w := range []string{via.ID() + " read forwarded", st.Owner + " read served", st.Owner + " under-store request"} {
		if !seen[w] {
			t.Errorf("no %q log line with read_id %s; lines with it: %v", w, want, seen)
		}
	}
}
