package node_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
	"github.com/ringcache/ringcache/understore/s3test"
)

// testPageSize keeps files of a few MiB many pages long.
const testPageSize = 256 << 10

// localStore is the under-store on a real directory.
func localStore(t testing.TB) understore.Store {
	t.Helper()
	dir := t.TempDir()
	for _, b := range []string{"lake", "other"} {
		if err := os.Mkdir(dir+"/"+b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s, err := understore.Open(context.Background(), understore.Config{URL: "file://" + dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// backends are the under-stores the cluster tests run against: a local
// directory, gofakes3 in-process, and a real versitygw server when its
// binary is installed (CI installs it).
func backends(t *testing.T) map[string]func(t *testing.T) understore.Store {
	return map[string]func(t *testing.T) understore.Store{
		"file": func(t *testing.T) understore.Store { return localStore(t) },
		"gofakes3": func(t *testing.T) understore.Store {
			ep, cleanup := s3test.StartGofakes3(t)
			t.Cleanup(cleanup)
			s3test.CreateBucket(t, ep, "test", "test", "lake")
			return s3Store(t, ep, "test", "test")
		},
		"versitygw": func(t *testing.T) understore.Store {
			if s3test.VersityBinary() == "" {
				t.Skip("versitygw not installed (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
			}
			ep, ak, sk := s3test.StartVersity(t)
			s3test.CreateBucket(t, ep, ak, sk, "lake")
			return s3Store(t, ep, ak, sk)
		},
	}
}

func s3Store(t testing.TB, endpoint, ak, sk string) understore.Store {
	s, err := understore.Open(context.Background(), understore.Config{URL: "s3://", Endpoint: endpoint, PathStyle: true, AccessKey: ak, SecretKey: sk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func startCluster(t testing.TB, nodes int, under understore.Store, tmpl node.Config) *node.LocalCluster {
	t.Helper()
	if tmpl.PageSize == 0 {
		tmpl.PageSize = testPageSize
	}
	if tmpl.Capacity == 0 {
		tmpl.Capacity = 1 << 30
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: nodes, BaseDir: t.TempDir(), UnderStore: under, Template: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func newClient(t testing.TB, c *node.LocalCluster, cfg client.Config) *client.Client {
	t.Helper()
	cfg.Seeds = c.GRPCAddrs()
	cl, err := client.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// putFiles writes count files of random sizes (0 B to 5 MiB, a share of
// them exact multiples of the page size) and returns their contents.
func putFiles(t testing.TB, rng *rand.Rand, under understore.Store, prefix string, count int) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for i := range count {
		var size int
		switch i % 5 {
		case 0:
			size = rng.IntN(21) * testPageSize // exact multiples, 0 included
		case 1:
			size = rng.IntN(4096)
		default:
			size = rng.IntN(5 << 20)
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		p := fmt.Sprintf("%s/f-%04d.bin", prefix, i)
		if _, err := under.Put(context.Background(), p, bytes.NewReader(data), int64(size)); err != nil {
			t.Fatalf("put %s: %v", p, err)
		}
		files[p] = data
	}
	return files
}

// metric sums the samples of a metric (with the given label, if any) that
// a node exports on /metrics.
func metric(t testing.TB, n *node.Node, name, label string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + n.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || (label != "" && !strings.Contains(line, label)) {
			continue
		}
		rest := strings.TrimPrefix(line, name)
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

func clusterMetric(t testing.TB, c *node.LocalCluster, name, label string) float64 {
	var sum float64
	for _, n := range c.Nodes {
		if n.Ready() {
			sum += metric(t, n, name, label)
		}
	}
	return sum
}

// checkRange reads [off, off+len) through the client and compares.
func checkRange(t testing.TB, cl *client.Client, p string, want []byte, off, length int64) {
	t.Helper()
	buf := make([]byte, length)
	n, err := cl.ReadAt(context.Background(), p, buf, off)
	end := min(off+length, int64(len(want)))
	if err != nil && !(errors.Is(err, io.EOF) && int64(n) == end-off) {
		t.Fatalf("read %s [%d,+%d): n=%d err=%v", p, off, length, n, err)
	}
	if !bytes.Equal(buf[:n], want[off:end]) {
		t.Fatalf("read %s [%d,+%d): wrong bytes", p, off, length)
	}
}

func TestClusterReadsExactBytes(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(testseed.New(t), 1))
			under := mk(t)
			count := 200
			if testing.Short() {
				count = 40
			}
			files := putFiles(t, rng, under, "lake/t", count)
			c := startCluster(t, 3, under, node.Config{})
			cl := newClient(t, c, client.Config{})

			paths := make([]string, 0, len(files))
			for p := range files {
				paths = append(paths, p)
			}
			// Random ranges through the client (owner routing) and through
			// random nodes directly (forwarding).
			peers, err := transport.NewClient(transport.ClientConfig{})
			if err != nil {
				t.Fatal(err)
			}
			defer peers.Close()
			for i := range 3 * count {
				p := paths[rng.IntN(len(paths))]
				want := files[p]
				off := rng.Int64N(int64(len(want)) + 1)
				length := rng.Int64N(int64(len(want)) - off + 1 + 1000)
				if i%2 == 0 {
					checkRange(t, cl, p, want, off, length)
					continue
				}
				addr := c.Nodes[rng.IntN(len(c.Nodes))].GRPCAddr()
				buf := make([]byte, length)
				res, err := peers.Read(context.Background(), addr, &transport.ReadRequest{Path: p, Offset: off, Length: length}, buf)
				if err != nil {
					t.Fatalf("read %s via %s: %v", p, addr, err)
				}
				if !bytes.Equal(buf[:res.N], want[off:min(off+length, int64(len(want)))]) {
					t.Fatalf("read %s via %s [%d,+%d): wrong bytes", p, addr, off, length)
				}
			}
			// Whole files: warms everything. A read returns before its
			// pages are on disk; Load returns once they are.
			for p, want := range files {
				checkRange(t, cl, p, want, 0, int64(len(want)))
			}
			if err := cl.Load(context.Background(), "lake/t/", false, nil); err != nil {
				t.Fatal(err)
			}
			before := clusterMetric(t, c, "ringcache_read_bytes_total", `source="understore"`)
			var st client.ReadStats
			for p, want := range files {
				buf := make([]byte, len(want))
				if _, err := cl.ReadAt(context.Background(), p, buf, 0, client.WithStats(&st)); err != nil && !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				if !bytes.Equal(buf, want) {
					t.Fatalf("second pass %s: wrong bytes", p)
				}
			}
			after := clusterMetric(t, c, "ringcache_read_bytes_total", `source="understore"`)
			if after != before || st.BytesUnderstore != 0 || st.PagesMissed != 0 {
				t.Fatalf("second pass fetched from the under-store: metric %v -> %v, stats %+v", before, after, st)
			}
			if st.BytesLocal == 0 {
				t.Fatalf("second pass served nothing from local pages: %+v", st)
			}
		})
	}
}

func TestConcurrentColdReadersFetchEachPageOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 2))
	under := localStore(t)
	data := make([]byte, 20*testPageSize+12345)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	const p = "lake/cold/big.bin"
	if _, err := under.Put(context.Background(), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, 3, under, node.Config{CoalescePages: 4})
	cl := newClient(t, c, client.Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, len(data))
			if _, err := cl.ReadAt(context.Background(), p, buf, 0); err != nil && !errors.Is(err, io.EOF) {
				errs <- err
				return
			}
			if !bytes.Equal(buf, data) {
				errs <- errors.New("wrong bytes")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	pages := float64((len(data) + testPageSize - 1) / testPageSize)
	reads := clusterMetric(t, c, "ringcache_understore_requests_total", `op="read"`)
	fetched := clusterMetric(t, c, "ringcache_read_bytes_total", `source="understore"`)
	if reads > pages || fetched != float64(len(data)) {
		t.Fatalf("32 readers of %v pages caused %v under-store reads fetching %v bytes (want <= %v reads, %d bytes)", pages, reads, fetched, pages, len(data))
	}
	t.Logf("%v pages, %v coalesced under-store reads, %v bytes fetched once", pages, reads, fetched)
}

func TestOverwriteServesNewVersionNeverAMix(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 3))
	under := localStore(t)
	const p = "lake/v/file.bin"
	mk := func(b byte) []byte { return bytes.Repeat([]byte{b}, 9*testPageSize+777) }
	v1, v2 := mk(1), mk(2)
	if _, err := under.Put(context.Background(), p, bytes.NewReader(v1), int64(len(v1))); err != nil {
		t.Fatal(err)
	}
	// A long sync interval: only invalidate makes the change visible.
	c := startCluster(t, 3, under, node.Config{SyncInterval: time.Hour})
	cl := newClient(t, c, client.Config{})
	checkRange(t, cl, p, v1, 0, int64(len(v1)))
	if _, err := under.Put(context.Background(), p, bytes.NewReader(v2), int64(len(v2))); err != nil {
		t.Fatal(err)
	}
	checkRange(t, cl, p, v1, 0, int64(len(v1))) // cached, within the sync interval
	if _, err := cl.Invalidate(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	checkRange(t, cl, p, v2, 0, int64(len(v2)))

	// Sync interval ~0: every read re-checks. Readers racing overwrites see
	// one version per read, never a mix.
	c2 := startCluster(t, 2, under, node.Config{SyncInterval: time.Nanosecond})
	cl2 := newClient(t, c2, client.Config{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, len(v1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				n, err := cl2.ReadAt(context.Background(), p, buf, 0)
				if err != nil && !errors.Is(err, io.EOF) {
					if errors.Is(err, transport.ErrChanged) {
						continue // the object changed mid-read: the reader retries
					}
					errs <- err
					return
				}
				first := buf[0]
				for i := range buf[:n] {
					if buf[i] != first {
						errs <- fmt.Errorf("mixed versions: byte %d is %d, byte 0 is %d", i, buf[i], first)
						return
					}
				}
			}
		}()
	}
	for i := range 20 {
		v := mk(byte(3 + i%2))
		if _, err := under.Put(context.Background(), p, bytes.NewReader(v), int64(len(v))); err != nil {
			t.Fatal(err)
		}
		checkRange(t, cl2, p, v, int64(rng.IntN(len(v))), int64(testPageSize))
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestRestartServesOldPagesAsHits(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 4))
	under := localStore(t)
	files := putFiles(t, rng, under, "lake/warm", 30)
	base := t.TempDir()
	ctx := context.Background()
	c, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: 1, BaseDir: base, UnderStore: under,
		Template: node.Config{PageSize: testPageSize}})
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, c, client.Config{})
	for p, want := range files {
		checkRange(t, cl, p, want, 0, int64(len(want)))
	}
	pagesBefore := metric(t, c.Nodes[0], "ringcache_cache_pages", "")
	cl.Close()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c, err = node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: 1, BaseDir: base, UnderStore: under,
		Template: node.Config{PageSize: testPageSize}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	cl = newClient(t, c, client.Config{})
	var st client.ReadStats
	for p, want := range files {
		buf := make([]byte, len(want))
		if _, err := cl.ReadAt(ctx, p, buf, 0, client.WithStats(&st)); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, want) {
			t.Fatalf("%s: wrong bytes after restart", p)
		}
	}
	total := st.PagesHit + st.PagesMissed
	if float64(st.PagesHit) < 0.99*float64(total) || float64(st.PagesHit) < 0.99*pagesBefore {
		t.Fatalf("after restart %d of %d pages were hits (%v cached before)", st.PagesHit, total, pagesBefore)
	}
	t.Logf("after restart: %d/%d pages hits, %v pages cached before", st.PagesHit, total, pagesBefore)
}

func TestOwnerFailureFailsOver(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 5))
	under := localStore(t)
	files := putFiles(t, rng, under, "lake/f", 40)
	c := startCluster(t, 3, under, node.Config{})
	cl := newClient(t, c, client.Config{AttemptTimeout: 2 * time.Second})
	for p, want := range files {
		checkRange(t, cl, p, want, 0, int64(len(want)))
	}
	victim := c.Nodes[1]
	victim.Crash() // no leave: its sockets just close, as on SIGKILL
	for p, want := range files {
		checkRange(t, cl, p, want, 0, int64(len(want)))
	}
	// The ring drops the node on every survivor.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range []*node.Node{c.Nodes[0], c.Nodes[2]} {
		for {
			v := n.RingVersion()
			if !slices.Contains(n.RingMembers(), victim.ID()) {
				break
			}
			if err := n.WaitRingChange(ctx, v); err != nil {
				t.Fatalf("the crashed node is still in %s's ring: %v", n.ID(), err)
			}
		}
	}
}

func TestBadReadRequests(t *testing.T) {
	under := localStore(t)
	if _, err := under.Put(context.Background(), "lake/x/a.bin", bytes.NewReader([]byte("hello")), 5); err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, 1, under, node.Config{MaxReadLength: 1 << 20})
	peers, err := transport.NewClient(transport.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer peers.Close()
	addr := c.Nodes[0].GRPCAddr()
	cases := []struct {
		req  transport.ReadRequest
		want error
	}{
		{transport.ReadRequest{Path: "lake/x/a.bin", Offset: -1, Length: 1}, transport.ErrBadRequest},
		{transport.ReadRequest{Path: "lake/x/a.bin", Offset: 0, Length: 2 << 20}, transport.ErrBadRequest},
		{transport.ReadRequest{Path: "lake/../etc/passwd", Length: 1}, transport.ErrBadRequest},
		{transport.ReadRequest{Path: "lake/x//a.bin", Length: 1}, transport.ErrBadRequest},
		{transport.ReadRequest{Path: "lake/x/missing.bin", Length: 1}, transport.ErrNotFound},
		{transport.ReadRequest{Path: "lake/x/a.bin", Offset: 6, Length: 1}, transport.ErrOutOfRange},
	}
	for _, tc := range cases {
		_, err := peers.Read(context.Background(), addr, &tc.req, make([]byte, min(tc.req.Length, 16)))
		if !errors.Is(err, tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.req, err, tc.want)
		} else if !strings.Contains(err.Error(), tc.req.Path) && tc.want == transport.ErrNotFound {
			t.Errorf("%+v: error %q does not name the path", tc.req, err)
		}
	}
	// Offset equal to the size is 0 bytes, not an error.
	res, err := peers.Read(context.Background(), addr, &transport.ReadRequest{Path: "lake/x/a.bin", Offset: 5, Length: 10}, make([]byte, 10))
	if err != nil || res.N != 0 {
		t.Fatalf("read at EOF: n=%d err=%v", res.N, err)
	}
}

func TestBadControlRequests(t *testing.T) {
	under := localStore(t)
	c := startCluster(t, 1, under, node.Config{})
	peers, err := transport.NewClient(transport.ClientConfig{RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer peers.Close()
	cc, err := peers.Control(c.Nodes[0].GRPCAddr())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range []string{"", "lake/../x", "/lake/x", "lake//x", "lake"} {
		if _, err := cc.Stat(ctx, &transport.StatRequest{Path: p}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("stat %q: %v, want InvalidArgument", p, err)
		}
	}
	if _, err := cc.Stat(ctx, &transport.StatRequest{Path: "lake/none/x.bin"}); status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), "lake/none/x.bin") {
		t.Errorf("stat of a missing file: %v, want NotFound naming the path", err)
	}
	if _, err := cc.Invalidate(ctx, &transport.InvalidateRequest{Path: "lake/a", Prefix: "lake/"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("invalidate with path and prefix: %v", err)
	}
	if _, err := cc.Assign(ctx, &transport.AssignRequest{Splits: []transport.Split{{Path: "lake/a/b"}}, MaxLoad: 0.5}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("assign with max load 0.5: %v", err)
	}
}

func TestCorruptPageOnDiskIsNeverServed(t *testing.T) {
	under := localStore(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 6*testPageSize/16)
	const p = "lake/c/x.bin"
	if _, err := under.Put(context.Background(), p, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	ctx := context.Background()
	c, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: 1, BaseDir: base, UnderStore: under,
		Template: node.Config{PageSize: testPageSize}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	cl := newClient(t, c, client.Config{})
	if err := cl.Load(ctx, p, false, nil); err != nil {
		t.Fatal(err)
	}
	// Flip bytes in the data of every page file behind the node's back.
	var pages []string
	err = filepath.WalkDir(filepath.Join(base, "node-0", "pages"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".pg") {
			pages = append(pages, path)
		}
		return err
	})
	if err != nil || len(pages) != 6 {
		t.Fatalf("page files: %v %v", pages, err)
	}
	for _, pg := range pages {
		f, err := os.OpenFile(pg, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("CORRUPT!"), 4096+1000); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	var st client.ReadStats
	checkRange(t, cl, p, data, 0, int64(len(data)))
	buf := make([]byte, len(data))
	if _, err := cl.ReadAt(ctx, p, buf, 0, client.WithStats(&st)); err != nil || !bytes.Equal(buf, data) {
		t.Fatalf("after the re-fetch: %v", err)
	}
	if st.PagesHit != 6 {
		t.Fatalf("re-fetched pages are not cached again: %+v", st)
	}
}

func TestPinAndScopeQuotaThroughTheNode(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 6))
	under := localStore(t)
	put := func(p string, pages int) []byte {
		data := make([]byte, pages*testPageSize)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		if _, err := under.Put(context.Background(), p, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		return data
	}
	hot := put("lake/pin/hot.bin", 4)
	quoted := put("lake/q/big.bin", 6)
	var others []string
	for i := range 6 {
		p := fmt.Sprintf("lake/scan/%d.bin", i)
		put(p, 4)
		others = append(others, p)
	}
	base := t.TempDir()
	ctx := context.Background()
	cfg := node.LocalClusterConfig{Nodes: 1, BaseDir: base, UnderStore: under, Template: node.Config{
		PageSize: testPageSize, Capacity: 10 * testPageSize, ScopeQuotas: map[string]int64{"lake/q/": 2 * testPageSize}}}
	c, err := node.StartLocalCluster(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, c, client.Config{})
	if err := cl.Load(ctx, "lake/pin/", true, nil); err != nil {
		t.Fatal(err)
	}
	// A scan of 24 pages through a 10-page cache, and a 6-page file under
	// a 2-page quota.
	for _, p := range others {
		if err := cl.Load(ctx, p, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	checkRange(t, cl, "lake/q/big.bin", quoted, 0, int64(len(quoted)))
	st, err := cl.Stat(ctx, "lake/pin/hot.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Pinned || st.CachedPages != 4 {
		t.Fatalf("pinned file after a scan: %+v", st)
	}
	q, err := cl.Stat(ctx, "lake/q/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if q.CachedBytes > 2*testPageSize {
		t.Fatalf("file under a 2-page quota holds %d bytes", q.CachedBytes)
	}
	// The pin survives a restart.
	cl.Close()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c, err = node.StartLocalCluster(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	cl = newClient(t, c, client.Config{})
	st, err = cl.Stat(ctx, "lake/pin/hot.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Pinned || st.CachedPages != 4 {
		t.Fatalf("pinned file after a restart: %+v", st)
	}
	checkRange(t, cl, "lake/pin/hot.bin", hot, 0, int64(len(hot)))
	if _, err := cl.SetPinned(ctx, "lake/pin/", false); err != nil {
		t.Fatal(err)
	}
	if st, _ = cl.Stat(ctx, "lake/pin/hot.bin"); st.Pinned {
		t.Fatal("unpin of the prefix left the file pinned")
	}
}

// TestStartFailsCleanly: a node that cannot start (here: its gossip address
// is taken) returns the error, and releases what it had opened, so the same
// data dir starts at once when the address is free.
func TestStartFailsCleanly(t *testing.T) {
	under := localStore(t)
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tcpTaken, err := net.Listen("tcp", taken.LocalAddr().String())
	if err != nil {
		t.Skipf("port %s not free for TCP too: %v", taken.LocalAddr(), err)
	}
	defer tcpTaken.Close()
	dir := t.TempDir()
	cfg := node.Config{ID: "n", DataDir: dir, UnderStore: under, PageSize: testPageSize, Capacity: 1 << 30,
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", GossipAddr: taken.LocalAddr().String(), GossipProfile: "local"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := node.Start(ctx, cfg)
	if err == nil {
		n.Close(ctx)
		t.Fatal("started on a taken gossip address")
	}
	t.Logf("start failed as expected: %v", err)
	cfg.GossipAddr = "127.0.0.1:0"
	n, err = node.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("the same data dir after a failed start: %v", err)
	}
	n.Close(ctx)
}
