package gateway_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ringcache/ringcache/gateway"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/understore"
)

// Test credentials of the gateways (not the under-store's).
const (
	testAccess = "gwaccess"
	testSecret = "gwsecret"
	pageSize   = 256 << 10
)

// cluster is a running set of nodes with gateways and their under-store.
type cluster struct {
	t     testing.TB
	lc    *node.LocalCluster
	dir   string     // the local under-store's directory ("" for S3)
	raw   *s3.Client // the S3 under-store itself (nil for a directory)
	store *countingStore
	ca    string // with TLS: the CA certificate (PEM file) the gateways' certificates chain to
}

// countingStore counts the under-store requests the cluster makes (and
// the bytes its reads return), keeping each call so that a failed count
// can say which calls it saw.
type countingStore struct {
	understore.Store
	mu    sync.Mutex
	calls []storeCall
	// fault, when set, picks the writes the under-store fails (see
	// failWrites).
	fault func(op, path string) error
}

// failWrites makes the under-store fail the writes for which pick returns
// an error, as an S3 server answering 500 at the commit does: a Put or
// UploadPart takes the whole body first, then fails. nil stops failing.
func (c *countingStore) failWrites(pick func(op, path string) error) {
	c.mu.Lock()
	c.fault = pick
	c.mu.Unlock()
}

// injected is the fault (if any) for a write op of path, recorded as a
// call either way.
func (c *countingStore) injected(op, path string, n int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, storeCall{op, path, n})
	if c.fault == nil {
		return nil
	}
	return c.fault(op, path)
}

// storeCall is one under-store request.
type storeCall struct {
	op, path string
	bytes    int64
}

func (c *countingStore) record(op, path string, n int) {
	c.mu.Lock()
	c.calls = append(c.calls, storeCall{op, path, int64(n)})
	c.mu.Unlock()
}

func (c *countingStore) Stat(ctx context.Context, p string) (understore.ObjectInfo, error) {
	c.record("Stat", p, 0)
	return c.Store.Stat(ctx, p)
}

func (c *countingStore) ReadAt(ctx context.Context, p string, want understore.ObjectInfo, b []byte, off int64) (int, error) {
	n, err := c.Store.ReadAt(ctx, p, want, b, off)
	c.record("ReadAt", p, n)
	return n, err
}

// ReadFirst keeps the one-request cold read (the node asks for it by
// interface) and counts it as a read.
func (c *countingStore) ReadFirst(ctx context.Context, p string, b []byte, off int64) (understore.ObjectInfo, int, error) {
	info, n, err := c.Store.(interface {
		ReadFirst(context.Context, string, []byte, int64) (understore.ObjectInfo, int, error)
	}).ReadFirst(ctx, p, b, off)
	c.record("ReadFirst", p, n)
	return info, n, err
}

func (c *countingStore) List(ctx context.Context, prefix, delim, token string, limit int) (understore.ListPage, error) {
	c.record("List", prefix, 0)
	return c.Store.List(ctx, prefix, delim, token, limit)
}

// ListAfter keeps start-after and marker at one call (both under-stores
// implement it) and counts it as a List.
func (c *countingStore) ListAfter(ctx context.Context, prefix, delim, after string, limit int) (understore.ListPage, error) {
	c.record("ListAfter", prefix, 0)
	return c.Store.(understore.AfterLister).ListAfter(ctx, prefix, delim, after, limit)
}

// DirectoryMarkers passes the wrapped store's answer through (the local
// store's directories are markers; S3's are not).
func (c *countingStore) DirectoryMarkers() bool {
	ds, ok := c.Store.(interface{ DirectoryMarkers() bool })
	return ok && ds.DirectoryMarkers()
}

func (c *countingStore) Buckets(ctx context.Context) ([]string, error) {
	c.record("Buckets", "", 0)
	return c.Store.Buckets(ctx)
}

// The write side is passed through, counted, so that the nodes see the
// wrapped store's writes, multipart uploads and copies (they ask for them
// by interface).

func (c *countingStore) Put(ctx context.Context, p string, r io.Reader, size int64) (understore.ObjectInfo, error) {
	if err := c.injected("Put", p, size); err != nil {
		if _, cerr := io.CopyN(io.Discard, r, size); cerr != nil {
			return understore.ObjectInfo{}, cerr
		}
		return understore.ObjectInfo{}, err
	}
	return c.Store.Put(ctx, p, r, size)
}

func (c *countingStore) Delete(ctx context.Context, p string) error {
	if err := c.injected("Delete", p, 0); err != nil {
		return err
	}
	return c.Store.Delete(ctx, p)
}

func (c *countingStore) multiparter() understore.Multiparter { return c.Store.(understore.Multiparter) }

func (c *countingStore) CreateUpload(ctx context.Context, p string) (string, error) {
	if err := c.injected("CreateUpload", p, 0); err != nil {
		return "", err
	}
	return c.multiparter().CreateUpload(ctx, p)
}

func (c *countingStore) UploadPart(ctx context.Context, p, id string, num int, r io.Reader, size int64) (understore.PartInfo, error) {
	if err := c.injected("UploadPart", p, size); err != nil {
		if _, cerr := io.CopyN(io.Discard, r, size); cerr != nil {
			return understore.PartInfo{}, cerr
		}
		return understore.PartInfo{}, err
	}
	return c.multiparter().UploadPart(ctx, p, id, num, r, size)
}

func (c *countingStore) CompleteUpload(ctx context.Context, p, id string, parts []understore.CompletedPart) (understore.ObjectInfo, error) {
	if err := c.injected("CompleteUpload", p, 0); err != nil {
		return understore.ObjectInfo{}, err
	}
	return c.multiparter().CompleteUpload(ctx, p, id, parts)
}

func (c *countingStore) AbortUpload(ctx context.Context, p, id string) error {
	if err := c.injected("AbortUpload", p, 0); err != nil {
		return err
	}
	return c.multiparter().AbortUpload(ctx, p, id)
}

func (c *countingStore) ListParts(ctx context.Context, p, id string, marker, limit int) (understore.PartsPage, error) {
	c.record("ListParts", p, 0)
	return c.multiparter().ListParts(ctx, p, id, marker, limit)
}

func (c *countingStore) ListUploads(ctx context.Context, prefix, delim, keyMarker, idMarker string, limit int) (understore.UploadsPage, error) {
	c.record("ListUploads", prefix, 0)
	return c.multiparter().ListUploads(ctx, prefix, delim, keyMarker, idMarker, limit)
}

func (c *countingStore) Copy(ctx context.Context, src, dst string, want understore.ObjectInfo) (understore.ObjectInfo, error) {
	if err := c.injected("Copy", dst, 0); err != nil {
		return understore.ObjectInfo{}, err
	}
	return c.Store.(understore.Copier).Copy(ctx, src, dst, want)
}

var (
	_ understore.Multiparter = (*countingStore)(nil)
	_ understore.Copier      = (*countingStore)(nil)
)

func (c *countingStore) requests() int64 { return c.since(counts{}).requests() }

// counts is what the store was asked for in some span of the test, for
// "this cost N requests"; at is where the span starts in the call log.
type counts struct {
	stats, reads, lists, buckets, readBytes int64
	writes                                  int64 // not in requests(): the read tests count reads
	calls                                   []storeCall
	at                                      int
}

// snapshot marks now; since(snapshot) is what was asked after it.
func (c *countingStore) snapshot() counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return counts{at: len(c.calls)}
}

// since is what the store was asked for after the snapshot s.
func (c *countingStore) since(s counts) counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := counts{calls: slices.Clone(c.calls[s.at:]), at: len(c.calls)}
	for _, call := range n.calls {
		switch call.op {
		case "Stat":
			n.stats++
		case "ReadAt", "ReadFirst":
			n.reads++
			n.readBytes += call.bytes
		case "List", "ListAfter":
			n.lists++
		case "Buckets":
			n.buckets++
		case "Put", "Delete", "CreateUpload", "UploadPart", "CompleteUpload", "AbortUpload", "Copy":
			n.writes++
		}
	}
	return n
}

func (n counts) requests() int64 { return n.stats + n.reads + n.lists + n.buckets }

// localCluster starts n nodes with gateways over a local-directory
// under-store holding the bucket "lake".
func localCluster(t testing.TB, n int, auth string) *cluster {
	t.Helper()
	return localClusterWith(t, n, auth, nil)
}

// localClusterWith is localCluster with the nodes' Config changed by tweak.
func localClusterWith(t testing.TB, n int, auth string, tweak func(*node.Config)) *cluster {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lake"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := understore.Open(context.Background(), understore.Config{URL: "file://" + dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &cluster{t: t, dir: dir, store: &countingStore{Store: s}}
	c.start(n, auth, tweak)
	return c
}

func (c *cluster) start(n int, auth string, tweak func(*node.Config)) {
	t := c.t
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tmpl := node.Config{PageSize: pageSize, Capacity: 256 << 20, SyncInterval: time.Minute, S3Addr: "127.0.0.1:0",
		// Pieces of 1 MiB (the least) so that GETs of a few MiB are
		// served as several pinned reads, as 64 MiB pieces serve big ones.
		S3: gateway.Config{Auth: auth, Keys: map[string]string{testAccess: testSecret}, ReadPiece: 1 << 20}}
	if tweak != nil {
		tweak(&tmpl)
	}
	lc, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: n, BaseDir: t.TempDir(), UnderStore: c.store, Template: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := lc.Close(ctx); err != nil {
			t.Errorf("close cluster: %v", err)
		}
	})
	c.lc = lc
}

// endpoint is node i's gateway URL (https:// on a cluster with TLS).
func (c *cluster) endpoint(i int) string {
	if c.ca != "" {
		return "https://" + c.lc.Nodes[i].S3Addr()
	}
	return "http://" + c.lc.Nodes[i].S3Addr()
}

// put writes an object straight into the under-store (its directory, or
// the S3 server with PutObject), behind the nodes' back.
func (c *cluster) put(t testing.TB, path string, data []byte) {
	t.Helper()
	if c.raw != nil {
		c.putS3(t, path, data)
		return
	}
	p := filepath.Join(c.dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sdk is an aws-sdk-go-v2 S3 client with its default settings, path-style,
// against one gateway.
func sdk(endpoint, access, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(access, secret, ""),
	})
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func readAll(t testing.TB, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustEqual(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d expected", what, len(got), len(want))
	}
}
