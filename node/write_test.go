package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// nonOwner is a node of c that does not own p: a write taken there goes
// through the owner.
func nonOwner(t *testing.T, c *node.LocalCluster, cl *client.Client, p string) *node.Node {
	t.Helper()
	owner := cl.Preferred(p, 1)[0].ID
	for _, n := range c.Nodes {
		if n.ID() != owner {
			return n
		}
	}
	t.Fatal("no node but the owner")
	return nil
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func underBytes(t *testing.T, under understore.Store, p string) []byte {
	t.Helper()
	info, err := under.Stat(context.Background(), p)
	if err != nil {
		t.Fatalf("stat %s at the under-store: %v", p, err)
	}
	buf := make([]byte, info.Size)
	if k, err := under.ReadAt(context.Background(), p, info, buf, 0); err != nil && !(errors.Is(err, io.EOF) && int64(k) == info.Size) {
		t.Fatalf("read %s at the under-store: %v", p, err)
	}
	return buf
}

// TestWriteThroughFillsTheOwner: a Put taken by a node that does not own
// the file reaches the under-store byte for byte, and the first read after
// it, on every node, is served from the owner's pages (no under-store
// bytes), with a sync interval that would otherwise hide the change for an
// hour.
func TestWriteThroughFillsTheOwner(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 13))
	under := localStore(t)
	c := startCluster(t, 3, under, node.Config{SyncInterval: time.Hour})
	cl := newClient(t, c, client.Config{})
	ctx := context.Background()
	const p = "lake/w/part-0.bin"
	v1 := randBytes(rng, 5*testPageSize+123)
	gw := nonOwner(t, c, cl, p)
	info, err := gw.PutObject(ctx, p, bytes.NewReader(v1), int64(len(v1)))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(v1)) || info.ETag == "" {
		t.Fatalf("put returned %+v", info)
	}
	if !bytes.Equal(underBytes(t, under, p), v1) {
		t.Fatal("under-store holds other bytes than were put")
	}
	before := clusterMetric(t, c, "ringcache_read_bytes_total", `source="understore"`)
	checkRange(t, cl, p, v1, 0, int64(len(v1)))
	if d := clusterMetric(t, c, "ringcache_read_bytes_total", `source="understore"`) - before; d != 0 {
		t.Fatalf("first read after the write fetched %v under-store bytes, want 0 (a hit on the owner)", d)
	}

	// An overwrite (read cached everywhere first) is visible at once.
	for _, n := range c.Nodes {
		st, err := n.StatObject(ctx, p)
		if err != nil || st.ETag != info.ETag {
			t.Fatalf("node %s stat: %+v %v", n.ID(), st, err)
		}
	}
	v2 := randBytes(rng, 3*testPageSize)
	info2, err := c.Nodes[0].PutObject(ctx, p, bytes.NewReader(v2), int64(len(v2)))
	if err != nil {
		t.Fatal(err)
	}
	checkRange(t, cl, p, v2, 0, int64(len(v2)))
	for _, n := range c.Nodes {
		st, err := n.StatObject(ctx, p)
		if err != nil || st.ETag != info2.ETag || st.Size != int64(len(v2)) {
			t.Fatalf("node %s sees %+v %v after the overwrite, want ETag %s", n.ID(), st, err, info2.ETag)
		}
	}
	if d := clusterMetric(t, c, "ringcache_read_bytes_total", `source="understore"`) - before; d != 0 {
		t.Fatalf("reads after the overwrite fetched %v under-store bytes, want 0", d)
	}
	if w := clusterMetric(t, c, "ringcache_write_bytes_total", ""); w != float64(len(v1)+len(v2)) {
		t.Fatalf("write_bytes_total %v, want %d", w, len(v1)+len(v2))
	}

	// A delete makes every node answer not found at once.
	if err := gw.DeleteObject(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		if _, err := n.StatObject(ctx, p); !errors.Is(err, transport.ErrNotFound) {
			t.Fatalf("node %s after delete: %v, want not found", n.ID(), err)
		}
	}
	if _, err := cl.ReadAt(ctx, p, make([]byte, 1), 0); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("read after delete: %v", err)
	}
}

// failingBody returns good bytes, then fails: a client gone mid-upload,
// or a digest that did not match (the verifier fails the last read).
type failingBody struct {
	r     io.Reader
	after int64
	err   error
}

func (f *failingBody) Read(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, f.err
	}
	p = p[:min(int64(len(p)), f.after)]
	k, err := f.r.Read(p)
	f.after -= int64(k)
	return k, err
}

// TestFailedWriteLeavesTheOldObject: a body that fails half-way or at its
// last byte, through the owner or forwarded to it, leaves the under-store
// object and every cached byte as they were.
func TestFailedWriteLeavesTheOldObject(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 14))
	under := localStore(t)
	c := startCluster(t, 3, under, node.Config{SyncInterval: time.Hour})
	cl := newClient(t, c, client.Config{})
	ctx := context.Background()
	const p = "lake/w/keep.bin"
	old := randBytes(rng, 4*testPageSize+5)
	if _, err := under.Put(ctx, p, bytes.NewReader(old), int64(len(old))); err != nil {
		t.Fatal(err)
	}
	checkRange(t, cl, p, old, 0, int64(len(old)))
	owner := cl.Preferred(p, 1)[0].ID
	bad := errors.New("BadDigest: the body is not what its checksum says")
	for _, n := range c.Nodes {
		for _, cut := range []int64{0, 2*testPageSize + 1, int64(len(old)) - 1} {
			t.Run(fmt.Sprintf("via-%s-owner=%v-cut=%d", n.ID(), n.ID() == owner, cut), func(t *testing.T) {
				nb := randBytes(rng, len(old))
				_, err := n.PutObject(ctx, p, &failingBody{r: bytes.NewReader(nb), after: cut, err: bad}, int64(len(nb)))
				if err == nil {
					t.Fatal("a failed body was written")
				}
				if !bytes.Equal(underBytes(t, under, p), old) {
					t.Fatal("the under-store object changed")
				}
				checkRange(t, cl, p, old, 0, int64(len(old)))
			})
		}
	}
	// A short body (the client declared more than it sent).
	if _, err := c.Nodes[0].PutObject(ctx, p, bytes.NewReader(old[:10]), int64(len(old))); err == nil {
		t.Fatal("a short body was written")
	}
	if !bytes.Equal(underBytes(t, under, p), old) {
		t.Fatal("the under-store object changed after a short body")
	}
}

// TestWriteWhenOwnerIsDown: with the owner gone, the node that takes the
// write writes through itself and every node serves the new bytes.
func TestWriteWhenOwnerIsDown(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 15))
	under := localStore(t)
	c := startCluster(t, 3, under, node.Config{SyncInterval: time.Hour, GossipProfile: "local"})
	cl := newClient(t, c, client.Config{})
	ctx := context.Background()
	const p = "lake/w/down.bin"
	owner := cl.Preferred(p, 1)[0].ID
	var gw *node.Node
	for _, n := range c.Nodes {
		if n.ID() == owner {
			if err := n.Close(ctx); err != nil {
				t.Fatal(err)
			}
		} else if gw == nil {
			gw = n
		}
	}
	v := randBytes(rng, 2*testPageSize+9)
	if _, err := gw.PutObject(ctx, p, bytes.NewReader(v), int64(len(v))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(underBytes(t, under, p), v) {
		t.Fatal("under-store holds other bytes")
	}
	checkRange(t, cl, p, v, 0, int64(len(v)))
}

// TestSDKPut: the Go SDK writes through the same path; a large object goes
// up as a multipart upload and is cached on its owner too.
func TestSDKPut(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 16))
	under := localStore(t)
	c := startCluster(t, 3, under, node.Config{SyncInterval: time.Hour})
	cl := newClient(t, c, client.Config{PutPartSize: client.MinPutPartSize})
	ctx := context.Background()
	for _, size := range []int{0, 1, testPageSize, 3*testPageSize + 17, 2*client.MinPutPartSize + 12345} {
		p := fmt.Sprintf("lake/sdk/f-%d.bin", size)
		data := randBytes(rng, size)
		v, err := cl.Put(ctx, p, bytes.NewReader(data), int64(size))
		if err != nil {
			t.Fatalf("put %d bytes: %v", size, err)
		}
		if v.Size != int64(size) || v.ETag == "" {
			t.Fatalf("put %d bytes returned %+v", size, v)
		}
		if !bytes.Equal(underBytes(t, under, p), data) {
			t.Fatalf("under-store holds other bytes for %s", p)
		}
		before := clusterMetric(t, c, "ringcache_read_bytes_total", `source="understore"`)
		if size > 0 {
			checkRange(t, cl, p, data, 0, int64(size))
		}
		if d := clusterMetric(t, c, "ringcache_read_bytes_total", `source="understore"`) - before; d != 0 {
			t.Fatalf("read after put of %d bytes fetched %v under-store bytes, want 0", size, d)
		}
	}
	if _, err := cl.Put(ctx, "lake/sdk/short.bin", bytes.NewReader(make([]byte, 10)), 20); err == nil {
		t.Fatal("a short body was written")
	}
	if _, err := under.Stat(ctx, "lake/sdk/short.bin"); !errors.Is(err, understore.ErrNotFound) {
		t.Fatalf("short body left an object: %v", err)
	}
}

// failingCommit is the local under-store, except that Put takes the whole
// body and then fails, and CompleteUpload fails: an under-store that
// answers 500 on the final commit.
type failingCommit struct {
	understore.Store
	mp understore.Multiparter
}

var errCommit = fmt.Errorf("%w: 500 on commit (test)", understore.ErrUnavailable)

func (f failingCommit) Put(ctx context.Context, p string, r io.Reader, size int64) (understore.ObjectInfo, error) {
	if _, err := io.CopyN(io.Discard, r, size); err != nil {
		return understore.ObjectInfo{}, err
	}
	return understore.ObjectInfo{}, errCommit
}

func (f failingCommit) CreateUpload(ctx context.Context, p string) (string, error) {
	return f.mp.CreateUpload(ctx, p)
}

func (f failingCommit) UploadPart(ctx context.Context, p, id string, num int, r io.Reader, size int64) (understore.PartInfo, error) {
	return f.mp.UploadPart(ctx, p, id, num, r, size)
}

func (f failingCommit) CompleteUpload(ctx context.Context, p, id string, parts []understore.CompletedPart) (understore.ObjectInfo, error) {
	return understore.ObjectInfo{}, errCommit
}

func (f failingCommit) AbortUpload(ctx context.Context, p, id string) error {
	return f.mp.AbortUpload(ctx, p, id)
}

func (f failingCommit) ListParts(ctx context.Context, p, id string, marker, limit int) (understore.PartsPage, error) {
	return f.mp.ListParts(ctx, p, id, marker, limit)
}

func (f failingCommit) ListUploads(ctx context.Context, prefix, delim, km, um string, limit int) (understore.UploadsPage, error) {
	return f.mp.ListUploads(ctx, prefix, delim, km, um, limit)
}

// TestFailedCommitServesTheOldVersion: the under-store took every byte and
// then failed the commit (a Put, a CompleteUpload): the write fails, the
// under-store keeps the old object, and no node serves the bytes that
// passed through (they were spooled, never pages).
func TestFailedCommitServesTheOldVersion(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 17))
	base := localStore(t)
	under := failingCommit{Store: base, mp: base.(understore.Multiparter)}
	c := startCluster(t, 3, under, node.Config{SyncInterval: time.Hour})
	cl := newClient(t, c, client.Config{})
	ctx := context.Background()
	const p = "lake/w/commit.bin"
	old := randBytes(rng, 3*testPageSize+1)
	if _, err := base.Put(ctx, p, bytes.NewReader(old), int64(len(old))); err != nil {
		t.Fatal(err)
	}
	checkRange(t, cl, p, old, 0, int64(len(old)))
	for _, n := range c.Nodes {
		nb := randBytes(rng, len(old))
		if _, err := n.PutObject(ctx, p, bytes.NewReader(nb), int64(len(nb))); !errors.Is(err, understore.ErrUnavailable) {
			t.Fatalf("put through %s: %v, want the commit's failure", n.ID(), err)
		}
		checkRange(t, cl, p, old, 0, int64(len(old)))
		id, err := n.CreateUpload(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		part := randBytes(rng, 6<<20)
		pi, err := n.UploadPart(ctx, p, id, 1, bytes.NewReader(part), int64(len(part)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.CompleteUpload(ctx, p, id, []understore.CompletedPart{{Number: 1, ETag: pi.ETag}}); !errors.Is(err, understore.ErrUnavailable) {
			t.Fatalf("complete through %s: %v, want the commit's failure", n.ID(), err)
		}
		if err := n.AbortUpload(ctx, p, id); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(underBytes(t, base, p), old) {
			t.Fatal("the under-store object changed")
		}
		checkRange(t, cl, p, old, 0, int64(len(old)))
	}
}

// TestMultipartThroughEveryNode: parts taken by different nodes all go
// through the owner; Complete fills its cache; errors keep their kind
// across the hop; an aborted upload is gone.
func TestMultipartThroughEveryNode(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 18))
	under := localStore(t)
	c := startCluster(t, 3, under, node.Config{SyncInterval: time.Hour})
	cl := newClient(t, c, client.Config{})
	ctx := context.Background()
	const p = "lake/mp/big.bin"
	id, err := c.Nodes[0].CreateUpload(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	var parts []understore.CompletedPart
	for i, size := range []int{5 << 20, 5 << 20, 777} {
		b := randBytes(rng, size)
		want = append(want, b...)
		pi, err := c.Nodes[i%3].UploadPart(ctx, p, id, i+1, bytes.NewReader(b), int64(size))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, understore.CompletedPart{Number: i + 1, ETag: pi.ETag})
	}
	lp, err := c.Nodes[1].ListParts(ctx, p, id, 0, 0)
	if err != nil || len(lp.Parts) != 3 {
		t.Fatalf("list parts: %+v %v", lp, err)
	}
	rev := []understore.CompletedPart{parts[1], parts[0], parts[2]}
	if _, err := c.Nodes[2].CompleteUpload(ctx, p, id, rev); !errors.Is(err, understore.ErrInvalidPartOrder) {
		t.Fatalf("complete out of order: %v, want ErrInvalidPartOrder", err)
	}
	bad := append([]understore.CompletedPart(nil), parts...)
	bad[1].ETag = "0123456789abcdef0123456789abcdef"
	if _, err := c.Nodes[2].CompleteUpload(ctx, p, id, bad); !errors.Is(err, understore.ErrInvalidPart) {
		t.Fatalf("complete with a wrong ETag: %v, want ErrInvalidPart", err)
	}
	info, err := c.Nodes[2].CompleteUpload(ctx, p, id, parts)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(want)) || !bytes.Equal(underBytes(t, under, p), want) {
		t.Fatalf("completed object: %+v", info)
	}
	before := clusterMetric(t, c, "ringcache_read_bytes_total", `source="understore"`)
	checkRange(t, cl, p, want, 0, int64(len(want)))
	if d := clusterMetric(t, c, "ringcache_read_bytes_total", `source="understore"`) - before; d != 0 {
		t.Fatalf("read after complete fetched %v under-store bytes, want 0", d)
	}
	id2, err := c.Nodes[1].CreateUpload(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Nodes[0].AbortUpload(ctx, p, id2); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Nodes[2].UploadPart(ctx, p, id2, 1, bytes.NewReader([]byte("x")), 1); !errors.Is(err, understore.ErrNoSuchUpload) {
		t.Fatalf("part of an aborted upload: %v, want ErrNoSuchUpload", err)
	}
	checkRange(t, cl, p, want, 0, int64(len(want)))
}
