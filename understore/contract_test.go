package understore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/understore"
	"github.com/ringcache/ringcache/understore/s3test"
)

// backend is one kind of under-store the contract runs against.
type backend struct {
	name string
	// newBucket creates a fresh, empty bucket and returns its name.
	newBucket func(t *testing.T) string
	// open opens the store; scope is "" for the whole store or
	// "bucket/prefix" for a scoped S3 store.
	open func(t *testing.T, scope string) understore.Store
	s3   bool
	// etagRace: the server may answer a GET whose data is newer than the
	// ETag it reports while a PUT replaces the object (seen with versitygw
	// v1.8.0's posix backend, which reads the ETag xattr and the data
	// separately). Real S3 GETs are atomic; for such a server only the
	// "no mix inside one read" half of testNeverMixed can hold.
	etagRace bool
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func put(t *testing.T, st understore.Store, p string, data []byte) understore.ObjectInfo {
	t.Helper()
	info, err := st.Put(ctxT(t), p, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Put %s: %v", p, err)
	}
	return info
}

func localBackend() backend {
	var (
		mu   sync.Mutex
		dirs = map[*testing.T]string{}
	)
	dirOf := func(t *testing.T) string {
		mu.Lock()
		defer mu.Unlock()
		d, ok := dirs[t]
		if !ok {
			d = t.TempDir()
			dirs[t] = d
			t.Cleanup(func() { mu.Lock(); delete(dirs, t); mu.Unlock() })
		}
		return d
	}
	n := 0
	return backend{
		name: "local",
		newBucket: func(t *testing.T) string {
			mu.Lock()
			n++
			b := fmt.Sprintf("bucket%d", n)
			mu.Unlock()
			if err := os.Mkdir(filepath.Join(dirOf(t), b), 0o755); err != nil {
				t.Fatal(err)
			}
			return b
		},
		open: func(t *testing.T, scope string) understore.Store {
			if scope != "" {
				t.Fatal("local store has no scope")
			}
			st, err := understore.Open(ctxT(t), understore.Config{URL: "file://" + dirOf(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

func s3Backend(name, endpoint, ak, sk string) backend {
	var n atomic.Int64
	return backend{
		name: name,
		s3:   true,
		newBucket: func(t *testing.T) string {
			b := fmt.Sprintf("bucket%d", n.Add(1))
			s3test.CreateBucket(t, endpoint, ak, sk, b)
			return b
		},
		open: func(t *testing.T, scope string) understore.Store {
			st, err := understore.Open(ctxT(t), understore.Config{
				URL: "s3://" + scope, Endpoint: endpoint, PathStyle: true,
				AccessKey: ak, SecretKey: sk, PartSize: understore.MinPartSize,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

func TestContractLocal(t *testing.T) {
	runContract(t, localBackend())
}

// TestContractLocalPortable runs the contract on the os.Root ReadAt path
// that platforms without openat2 use.
func TestContractLocalPortable(t *testing.T) {
	b := localBackend()
	open := b.open
	b.open = func(t *testing.T, scope string) understore.Store {
		st := open(t, scope)
		understore.DisableFastRead(st)
		return st
	}
	runContract(t, b)
}

func TestContractGofakes3(t *testing.T) {
	ep, _ := s3test.StartGofakes3(t)
	runContract(t, s3Backend("gofakes3", ep, s3test.AccessKey, s3test.SecretKey))
}

func TestContractVersity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a versitygw process")
	}
	ep, ak, sk := s3test.StartVersity(t)
	b := s3Backend("versitygw", ep, ak, sk)
	b.etagRace = true
	runContract(t, b)
}

func runContract(t *testing.T, b backend) {
	t.Run("StatMissing", func(t *testing.T) { testStatMissing(t, b) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, b) })
	t.Run("Changed", func(t *testing.T) { testChanged(t, b) })
	t.Run("NeverMixed", func(t *testing.T) { testNeverMixed(t, b) })
	t.Run("List", func(t *testing.T) { testList(t, b) })
	t.Run("ListAfter", func(t *testing.T) { testListAfter(t, b) })
	t.Run("BadPaths", func(t *testing.T) { testBadPaths(t, b) })
	t.Run("PutSizeMismatch", func(t *testing.T) { testPutSizeMismatch(t, b) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, b) })
	t.Run("Buckets", func(t *testing.T) { testBuckets(t, b) })
	t.Run("ReadFirst", func(t *testing.T) { testReadFirst(t, b) })
	if b.s3 {
		t.Run("Scope", func(t *testing.T) { testScope(t, b) })
		t.Run("Multipart", func(t *testing.T) { testMultipart(t, b) })
	}
}

func testStatMissing(t *testing.T, b backend) {
	bucket := b.newBucket(t)
	st := b.open(t, "")
	ctx := ctxT(t)
	for _, p := range []string{bucket + "/nope", bucket + "/dir/nope", "nosuchbucket/x"} {
		if _, err := st.Stat(ctx, p); !errors.Is(err, understore.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want ErrNotFound", p, err)
		}
		buf := make([]byte, 4)
		if _, err := st.ReadAt(ctx, p, understore.ObjectInfo{}, buf, 0); !errors.Is(err, understore.ErrNotFound) {
			t.Errorf("ReadAt(%q) = %v, want ErrNotFound", p, err)
		}
	}
	// A "directory" is not an object.
	put(t, st, bucket+"/dir/file", []byte("x"))
	if _, err := st.Stat(ctx, bucket+"/dir"); !errors.Is(err, understore.ErrNotFound) {
		t.Errorf("Stat(dir) = %v, want ErrNotFound", err)
	}
}

// pageSize is a typical cache page size, for exact-multiple object sizes.
const pageSize = 64 << 10

func testRoundTrip(t *testing.T, b backend) {
	r := testseed.Rand(t)
	bucket := b.newBucket(t)
	st := b.open(t, "")
	ctx := ctxT(t)
	for _, size := range []int{0, 1, 4095, pageSize, 3 * pageSize, 3*pageSize + 17} {
		p := fmt.Sprintf("%s/rt/size-%d.bin", bucket, size)
		data := randBytes(r, size)
		info := put(t, st, p, data)
		if info.Path != p || info.Size != int64(size) || info.ETag == "" {
			t.Fatalf("Put info = %+v", info)
		}
		got, err := st.Stat(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Size != info.Size || got.ETag != info.ETag || got.ModTime.IsZero() || got.MetaFP == "" {
			t.Fatalf("Stat = %+v, Put = %+v", got, info)
		}
		type rg struct {
			off, n  int
			wantN   int
			wantEOF bool
		}
		cases := []rg{
			{0, size, size, false},
			{size, 1, 0, true},
			{size + 100, 10, 0, true},
		}
		if size > 0 {
			cases = append(cases,
				rg{size - 1, 1, 1, false},
				rg{max(0, size-10), 20, min(size, 10), true},
				rg{0, size + 1, size, true},
			)
			for range 5 {
				off := r.IntN(size)
				n := 1 + r.IntN(size-off)
				cases = append(cases, rg{off, n, n, false})
			}
		}
		for _, c := range cases {
			if c.n == 0 {
				continue
			}
			buf := make([]byte, c.n)
			n, err := st.ReadAt(ctx, p, info, buf, int64(c.off))
			if n != c.wantN || (c.wantEOF && err != io.EOF) || (!c.wantEOF && err != nil) {
				t.Fatalf("size %d: ReadAt(off %d, len %d) = %d, %v; want %d, eof=%v", size, c.off, c.n, n, err, c.wantN, c.wantEOF)
			}
			if n > 0 && !bytes.Equal(buf[:n], data[c.off:c.off+n]) {
				t.Fatalf("size %d: ReadAt(off %d, len %d): wrong bytes", size, c.off, c.n)
			}
		}
	}
	if _, err := st.ReadAt(ctx, bucket+"/rt/size-1.bin", understore.ObjectInfo{}, make([]byte, 1), -1); !errors.Is(err, understore.ErrBadRequest) {
		t.Errorf("negative offset: %v, want ErrBadRequest", err)
	}
}

func testChanged(t *testing.T, b backend) {
	r := testseed.Rand(t)
	bucket := b.newBucket(t)
	st := b.open(t, "")
	ctx := ctxT(t)
	p := bucket + "/t/part-0.parquet"
	v1 := randBytes(r, 10000)
	v2 := randBytes(r, 10000)
	i1 := put(t, st, p, v1)
	i2 := put(t, st, p, v2)
	if i1.ETag == i2.ETag {
		t.Fatalf("same ETag %q for different content", i1.ETag)
	}
	buf := make([]byte, 100)
	if n, err := st.ReadAt(ctx, p, i1, buf, 50); !errors.Is(err, understore.ErrChanged) || n != 0 {
		t.Fatalf("ReadAt old version = %d, %v; want 0, ErrChanged", n, err)
	}
	// Past EOF of a changed object is still ErrChanged, not EOF.
	if _, err := st.ReadAt(ctx, p, i1, buf, 20000); !errors.Is(err, understore.ErrChanged) {
		t.Fatalf("ReadAt old version past EOF = %v; want ErrChanged", err)
	}
	if _, err := st.ReadAt(ctx, p, i2, buf, 50); err != nil || !bytes.Equal(buf, v2[50:150]) {
		t.Fatalf("ReadAt new version = %v / wrong bytes", err)
	}
}

// testNeverMixed overwrites one object while readers read it; every read
// that succeeds must return bytes of exactly the version it asked for.
func testNeverMixed(t *testing.T, b backend) {
	bucket := b.newBucket(t)
	st := b.open(t, "")
	ctx := ctxT(t)
	p := bucket + "/hot.bin"
	const size = 3 * pageSize
	version := func(v uint64) []byte {
		d := make([]byte, size)
		for i := 0; i < size; i += 8 {
			binary.LittleEndian.PutUint64(d[i:], v)
		}
		return d
	}
	var mu sync.Mutex
	etags := map[string]uint64{}
	etags[put(t, st, p, version(0)).ETag] = 0
	const versions = 30
	done := make(chan error, 1)
	go func() {
		for v := uint64(1); v <= versions; v++ {
			info, err := st.Put(ctx, p, bytes.NewReader(version(v)), size)
			if err != nil {
				done <- err
				return
			}
			mu.Lock()
			etags[info.ETag] = v
			mu.Unlock()
		}
		done <- nil
	}()
	type obs struct {
		etag string
		v    uint64
	}
	var seen []obs
	r := testseed.Rand(t)
	var changed int
	for writing := true; writing; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			writing = false
		default:
		}
		info, err := st.Stat(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		off := r.IntN(size/8) * 8
		buf := make([]byte, min(size-off, 8*(1+r.IntN(size/8))))
		n, err := st.ReadAt(ctx, p, info, buf, int64(off))
		if errors.Is(err, understore.ErrChanged) {
			changed++
			continue
		}
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		v := binary.LittleEndian.Uint64(buf)
		for i := 0; i+8 <= n; i += 8 {
			if w := binary.LittleEndian.Uint64(buf[i:]); w != v {
				t.Fatalf("mixed versions in one read: %d and %d at +%d", v, w, i)
			}
		}
		seen = append(seen, obs{info.ETag, v})
	}
	for _, o := range seen {
		if b.etagRace {
			break
		}
		if want, ok := etags[o.etag]; !ok || want != o.v {
			t.Fatalf("read version %d for ETag %s (belongs to %d, known %v)", o.v, o.etag, want, ok)
		}
	}
	t.Logf("%d clean reads, %d ErrChanged", len(seen), changed)
}

func listAll(t *testing.T, st understore.Store, prefix, delim string, limit int) (objs, prefixes []string, pages int) {
	t.Helper()
	ctx := ctxT(t)
	token := ""
	for {
		pg, err := st.List(ctx, prefix, delim, token, limit)
		if err != nil {
			t.Fatalf("List(%q, %q, limit %d): %v", prefix, delim, limit, err)
		}
		pages++
		if limit > 0 && len(pg.Objects)+len(pg.Prefixes) > limit {
			t.Fatalf("page has %d entries > limit %d", len(pg.Objects)+len(pg.Prefixes), limit)
		}
		for _, o := range pg.Objects {
			if o.Size < 0 || o.ETag == "" {
				t.Fatalf("listed %+v", o)
			}
			objs = append(objs, o.Path)
		}
		prefixes = append(prefixes, pg.Prefixes...)
		if pg.NextToken == "" {
			return objs, prefixes, pages
		}
		if pages > 100 {
			t.Fatal("List does not terminate")
		}
		token = pg.NextToken
	}
}

func testList(t *testing.T, b backend) {
	bucket := b.newBucket(t)
	st := b.open(t, "")
	keys := []string{"a-b", "a/1", "a/2", "a/b/3", "c", "d/e/f", "z"}
	for _, k := range []string{"z", "a/b/3", "c", "a/1", "d/e/f", "a-b", "a/2"} {
		put(t, st, bucket+"/"+k, []byte(k))
	}
	full := func(ks ...string) []string {
		out := make([]string, len(ks))
		for i, k := range ks {
			out[i] = bucket + "/" + k
		}
		return out
	}
	check := func(name string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	for _, limit := range []int{0, 1, 2, 3, 1000} {
		objs, pfx, pages := listAll(t, st, bucket+"/", "", limit)
		check(fmt.Sprintf("flat limit %d", limit), objs, full(keys...))
		check("flat prefixes", pfx, nil)
		if limit == 1 && pages != len(keys) {
			t.Errorf("limit 1: %d pages for %d keys", pages, len(keys))
		}
		objs, pfx, _ = listAll(t, st, bucket+"/", "/", limit)
		check(fmt.Sprintf("delim limit %d objects", limit), objs, full("a-b", "c", "z"))
		check(fmt.Sprintf("delim limit %d prefixes", limit), pfx, full("a/", "d/"))
		objs, pfx, _ = listAll(t, st, bucket+"/a/", "/", limit)
		check("a/ objects", objs, full("a/1", "a/2"))
		check("a/ prefixes", pfx, full("a/b/"))
	}
	for _, limit := range []int{0, 1, 3} {
		objs, pfx, _ := listAll(t, st, bucket+"/", "-", limit)
		check("delimiter - objects", objs, full("a/1", "a/2", "a/b/3", "c", "d/e/f", "z"))
		check("delimiter - prefixes", pfx, full("a-"))
		objs, pfx, _ = listAll(t, st, bucket+"/a", "/", limit)
		check("a delim objects", objs, full("a-b"))
		check("a delim prefixes", pfx, full("a/"))
	}
	objs, _, _ := listAll(t, st, bucket+"/a", "", 2)
	check("prefix a", objs, full("a-b", "a/1", "a/2", "a/b/3"))
	objs, _, _ = listAll(t, st, bucket, "", 0)
	check("bucket without slash", objs, full(keys...))
	objs, _, _ = listAll(t, st, bucket+"/nothing/", "/", 0)
	check("no match", objs, nil)

	ctx := ctxT(t)
	if _, err := st.List(ctx, "nosuchbucket/", "", "", 0); !errors.Is(err, understore.ErrNotFound) {
		t.Errorf("List missing bucket = %v, want ErrNotFound", err)
	}
	if _, err := st.List(ctx, bucket+"/", "", "garbage!", 0); !errors.Is(err, understore.ErrBadRequest) {
		t.Errorf("List bad token = %v, want ErrBadRequest", err)
	}
}

// listAfterAll is ListAfter's first page followed by List pages to the end.
func listAfterAll(t *testing.T, st understore.Store, prefix, delim, after string, limit int) (objs, prefixes []string) {
	t.Helper()
	ctx := ctxT(t)
	pg, err := st.(understore.AfterLister).ListAfter(ctx, prefix, delim, after, limit)
	for pages := 1; ; pages++ {
		if err != nil {
			t.Fatalf("ListAfter(%q, %q, %q, limit %d) page %d: %v", prefix, delim, after, limit, pages, err)
		}
		if limit > 0 && len(pg.Objects)+len(pg.Prefixes) > limit {
			t.Fatalf("page has %d entries > limit %d", len(pg.Objects)+len(pg.Prefixes), limit)
		}
		for _, o := range pg.Objects {
			objs = append(objs, o.Path)
		}
		prefixes = append(prefixes, pg.Prefixes...)
		if pg.NextToken == "" {
			return objs, prefixes
		}
		if pages > 100 {
			t.Fatal("ListAfter does not terminate")
		}
		pg, err = st.List(ctx, prefix, delim, pg.NextToken, limit)
	}
}

// testListAfter: ListAfter lists strictly after a key, skips a common
// prefix the key falls inside of, and continues with List's tokens.
func testListAfter(t *testing.T, b backend) {
	bucket := b.newBucket(t)
	st := b.open(t, "")
	for _, k := range []string{"a-b", "a/1", "a/2", "a/b/3", "c", "d/e/f", "z"} {
		put(t, st, bucket+"/"+k, []byte(k))
	}
	full := func(ks ...string) []string {
		var out []string
		for _, k := range ks {
			out = append(out, bucket+"/"+k)
		}
		return out
	}
	for _, tc := range []struct {
		prefix, delim, after string
		objs, prefixes       []string
	}{
		{"", "", "", full("a-b", "a/1", "a/2", "a/b/3", "c", "d/e/f", "z"), nil},
		{"", "", "a/1", full("a/2", "a/b/3", "c", "d/e/f", "z"), nil},
		{"", "", "a/1x", full("a/2", "a/b/3", "c", "d/e/f", "z"), nil},
		{"", "/", "a/1", full("c", "z"), full("d/")},
		{"", "/", "a/", full("c", "z"), full("d/")},
		{"", "/", "a", full("a-b", "c", "z"), full("a/", "d/")},
		{"", "-", "a", full("a/1", "a/2", "a/b/3", "c", "d/e/f", "z"), full("a-")},
		{"a/", "", "0", full("a/1", "a/2", "a/b/3"), nil},
		{"a/", "", "b", nil, nil},
		{"a/", "/", "a/1", full("a/2"), full("a/b/")},
		{"", "", "zz", nil, nil},
		{"", "", "d/e/f", full("z"), nil},
	} {
		for _, limit := range []int{0, 1, 2} {
			objs, pfx := listAfterAll(t, st, bucket+"/"+tc.prefix, tc.delim, tc.after, limit)
			if !slices.Equal(objs, tc.objs) || !slices.Equal(pfx, tc.prefixes) {
				t.Errorf("prefix %q delim %q after %q limit %d: got %q %q, want %q %q",
					tc.prefix, tc.delim, tc.after, limit, objs, pfx, tc.objs, tc.prefixes)
			}
		}
	}
	al := st.(understore.AfterLister)
	ctx := ctxT(t)
	for _, after := range []string{"a\x00b", strings.Repeat("k", understore.MaxPathLen+1), "\xff"} {
		if _, err := al.ListAfter(ctx, bucket+"/", "", after, 0); !errors.Is(err, understore.ErrBadRequest) {
			t.Errorf("ListAfter after %q = %v, want ErrBadRequest", after, err)
		}
	}
	if _, err := al.ListAfter(ctx, "nosuchbucket/", "", "a", 0); !errors.Is(err, understore.ErrNotFound) {
		t.Errorf("ListAfter missing bucket = %v, want ErrNotFound", err)
	}
	if _, err := al.ListAfter(ctx, bucket+"/../", "", "a", 0); !errors.Is(err, understore.ErrBadPath) {
		t.Errorf("ListAfter bad prefix = %v, want ErrBadPath", err)
	}
}

var badPaths = []string{
	"", "/lake/x", "lake//x", "lake/./x", "lake/../x", "lake/x/..", "lake", "lake/x//",
	"lake/", "lake/x\x00y", "lake/\xff\xfe", "lake/" + strings.Repeat("k", understore.MaxPathLen),
}

func testBadPaths(t *testing.T, b backend) {
	b.newBucket(t)
	st := b.open(t, "")
	ctx := ctxT(t)
	for _, p := range badPaths {
		if _, err := st.Stat(ctx, p); !errors.Is(err, understore.ErrBadPath) {
			t.Errorf("Stat(%q) = %v", p, err)
		}
		if _, err := st.ReadAt(ctx, p, understore.ObjectInfo{}, make([]byte, 1), 0); !errors.Is(err, understore.ErrBadPath) {
			t.Errorf("ReadAt(%q) = %v", p, err)
		}
		if _, err := st.Put(ctx, p, strings.NewReader("x"), 1); !errors.Is(err, understore.ErrBadPath) {
			t.Errorf("Put(%q) = %v", p, err)
		}
		if err := st.Delete(ctx, p); !errors.Is(err, understore.ErrBadPath) {
			t.Errorf("Delete(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "/lake/", "lake/../", "lake//"} {
		if _, err := st.List(ctx, p, "", "", 0); !errors.Is(err, understore.ErrBadPath) {
			t.Errorf("List(%q) = %v", p, err)
		}
	}
}

func testPutSizeMismatch(t *testing.T, b backend) {
	bucket := b.newBucket(t)
	st := b.open(t, "")
	ctx := ctxT(t)
	p := bucket + "/sz"
	if _, err := st.Put(ctx, p, strings.NewReader("abc"), 4); !errors.Is(err, understore.ErrBadRequest) {
		t.Errorf("short body: %v", err)
	}
	if _, err := st.Put(ctx, p, strings.NewReader("abcde"), 4); !errors.Is(err, understore.ErrBadRequest) {
		t.Errorf("long body: %v", err)
	}
	if _, err := st.Stat(ctx, p); !errors.Is(err, understore.ErrNotFound) {
		t.Errorf("failed Put left an object: %v", err)
	}
	if _, err := st.Put(ctx, "nosuchbucket/x", strings.NewReader("a"), 1); !errors.Is(err, understore.ErrNotFound) {
		t.Errorf("Put into missing bucket: %v", err)
	}
	objs, _, _ := listAll(t, st, bucket+"/", "", 0)
	if len(objs) != 0 {
		t.Errorf("failed Puts left %q", objs)
	}
}

func testDelete(t *testing.T, b backend) {
	bucket := b.newBucket(t)
	st := b.open(t, "")
	ctx := ctxT(t)
	p := bucket + "/d/x"
	put(t, st, p, []byte("hello"))
	if err := st.Delete(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(ctx, p); !errors.Is(err, understore.ErrNotFound) {
		t.Errorf("Stat after Delete = %v", err)
	}
	if err := st.Delete(ctx, p); err != nil {
		t.Errorf("Delete missing = %v, want nil", err)
	}
}

func testBuckets(t *testing.T, b backend) {
	b1, b2 := b.newBucket(t), b.newBucket(t)
	st := b.open(t, "")
	got, err := st.Buckets(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, b1) || !slices.Contains(got, b2) || !slices.IsSorted(got) {
		t.Errorf("Buckets = %q, want sorted and containing %s, %s", got, b1, b2)
	}
}

func testScope(t *testing.T, b backend) {
	bucket, other := b.newBucket(t), b.newBucket(t)
	all := b.open(t, "")
	put(t, all, bucket+"/pre/x", []byte("in"))
	put(t, all, bucket+"/prex/y", []byte("out"))
	put(t, all, other+"/pre/x", []byte("out"))
	ctx := ctxT(t)
	for _, scope := range []string{bucket + "/pre", bucket + "/pre/"} {
		st := b.open(t, scope)
		if _, err := st.Stat(ctx, bucket+"/pre/x"); err != nil {
			t.Errorf("in scope: %v", err)
		}
		for _, p := range []string{bucket + "/prex/y", other + "/pre/x", bucket + "/pre", bucket + "/x"} {
			if _, err := st.Stat(ctx, p); !errors.Is(err, understore.ErrOutOfScope) {
				t.Errorf("scope %s: Stat(%q) = %v, want ErrOutOfScope", scope, p, err)
			}
			if _, err := st.Put(ctx, p+"z", strings.NewReader("a"), 1); !errors.Is(err, understore.ErrOutOfScope) {
				t.Errorf("scope %s: Put(%q) = %v, want ErrOutOfScope", scope, p, err)
			}
		}
		if _, err := st.List(ctx, bucket+"/", "", "", 0); !errors.Is(err, understore.ErrOutOfScope) {
			t.Errorf("List outside scope = %v", err)
		}
		objs, _, _ := listAll(t, st, bucket+"/pre", "", 0)
		if !slices.Equal(objs, []string{bucket + "/pre/x"}) {
			t.Errorf("List in scope = %q", objs)
		}
		if got, err := st.Buckets(ctx); err != nil || !slices.Equal(got, []string{bucket}) {
			t.Errorf("Buckets = %q, %v", got, err)
		}
	}
	st := b.open(t, bucket)
	if _, err := st.Stat(ctx, bucket+"/prex/y"); err != nil {
		t.Errorf("bucket scope: %v", err)
	}
	if _, err := st.Stat(ctx, other+"/pre/x"); !errors.Is(err, understore.ErrOutOfScope) {
		t.Errorf("bucket scope, other bucket: %v", err)
	}
}

func testMultipart(t *testing.T, b backend) {
	if testing.Short() {
		t.Skip("uploads 11 MiB")
	}
	r := testseed.Rand(t)
	bucket := b.newBucket(t)
	st := b.open(t, "") // PartSize = 5 MiB
	data := randBytes(r, 2*understore.MinPartSize+12345)
	p := bucket + "/big.bin"
	info := put(t, st, p, data)
	if info.Size != int64(len(data)) {
		t.Fatalf("size %d", info.Size)
	}
	buf := make([]byte, 1<<20)
	off := int64(understore.MinPartSize - 1000) // spans a part boundary
	if n, err := st.ReadAt(ctxT(t), p, info, buf, off); err != nil || !bytes.Equal(buf[:n], data[off:off+int64(n)]) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
}
