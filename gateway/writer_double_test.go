package gateway_test

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringcache/ringcache/gateway"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// This file holds the test doubles of the write tests: storeWriter stands
// in for *node.Node's write path (gateway.Writer) and storeCluster for its
// read path (gateway.Cluster), both straight over a real local-directory
// understore.Store, with multipart staging in real files. They are not the
// node: routing to the owner, filling its cache and telling every node are
// tested where the node implements Writer; these tests are about the
// gateway's S3 side of each write.

// storeWriter is the gateway.Writer test double.
type storeWriter struct {
	st      understore.Store
	staging string // one directory per upload: "path" file, part files "<n>"

	mu      sync.Mutex
	uploads map[string]uploadState // by id
	puts    []string               // the paths PutObject was called with
}

type uploadState struct {
	path      string
	initiated time.Time
}

var _ gateway.Writer = (*storeWriter)(nil)

func (w *storeWriter) PutObject(ctx context.Context, p string, body io.Reader, size int64) (understore.ObjectInfo, error) {
	w.mu.Lock()
	w.puts = append(w.puts, p)
	w.mu.Unlock()
	return w.st.Put(ctx, p, body, size)
}

// storeReaderAt reads one pinned version of an object.
type storeReaderAt struct {
	ctx  context.Context
	st   understore.Store
	path string
	want understore.ObjectInfo
}

func (r storeReaderAt) ReadAt(p []byte, off int64) (int, error) {
	return r.st.ReadAt(r.ctx, r.path, r.want, p, off)
}

func (w *storeWriter) CopyObject(ctx context.Context, src, dst string, want understore.ObjectInfo) (understore.ObjectInfo, error) {
	cur, err := w.st.Stat(ctx, src)
	if err != nil {
		return understore.ObjectInfo{}, err
	}
	if want.ETag != "" && want.ETag != cur.ETag {
		return understore.ObjectInfo{}, fmt.Errorf("copy %s: %w", src, understore.ErrChanged)
	}
	r := io.NewSectionReader(storeReaderAt{ctx, w.st, src, cur}, 0, cur.Size)
	return w.st.Put(ctx, dst, r, cur.Size)
}

func (w *storeWriter) DeleteObject(ctx context.Context, p string) error { return w.st.Delete(ctx, p) }

func (w *storeWriter) CreateUpload(ctx context.Context, p string) (string, error) {
	bucket, _, _ := strings.Cut(p, "/")
	if _, err := w.st.List(ctx, bucket+"/", "/", "", 1); err != nil {
		return "", err // no such bucket
	}
	var b [8]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	if err := os.Mkdir(filepath.Join(w.staging, id), 0o755); err != nil {
		return "", err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.uploads == nil {
		w.uploads = map[string]uploadState{}
	}
	w.uploads[id] = uploadState{path: p, initiated: time.Now()}
	return id, nil
}

// upload returns the staging directory of the upload id of path p.
func (w *storeWriter) upload(p, id string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	u, ok := w.uploads[id]
	if !ok || u.path != p {
		return "", fmt.Errorf("upload %q of %s: %w", id, p, understore.ErrNoSuchUpload)
	}
	return filepath.Join(w.staging, id), nil
}

func (w *storeWriter) UploadPart(ctx context.Context, p, id string, num int, body io.Reader, size int64) (understore.PartInfo, error) {
	dir, err := w.upload(p, id)
	if err != nil {
		return understore.PartInfo{}, err
	}
	f, err := os.CreateTemp(dir, ".tmp")
	if err != nil {
		return understore.PartInfo{}, err
	}
	defer os.Remove(f.Name())
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return understore.PartInfo{}, err
	}
	if n != size {
		return understore.PartInfo{}, fmt.Errorf("part of %d bytes, want %d: %w", n, size, understore.ErrBadRequest)
	}
	etag := hex.EncodeToString(h.Sum(nil))
	if err := os.Rename(f.Name(), filepath.Join(dir, strconv.Itoa(num)+"."+etag)); err != nil {
		return understore.PartInfo{}, err
	}
	// A part uploaded again replaces the earlier one.
	old, _ := filepath.Glob(filepath.Join(dir, strconv.Itoa(num)+".*"))
	for _, o := range old {
		if !strings.HasSuffix(o, "."+etag) {
			os.Remove(o)
		}
	}
	return understore.PartInfo{Number: num, Size: size, ETag: etag, ModTime: time.Now()}, nil
}

// parts lists the staged parts of an upload, by number.
func (w *storeWriter) parts(dir string) ([]understore.PartInfo, map[int]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var parts []understore.PartInfo
	files := map[int]string{}
	for _, e := range ents {
		numS, etag, ok := strings.Cut(e.Name(), ".")
		num, err := strconv.Atoi(numS)
		if !ok || err != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, nil, err
		}
		parts = append(parts, understore.PartInfo{Number: num, Size: fi.Size(), ETag: etag, ModTime: fi.ModTime()})
		files[num] = filepath.Join(dir, e.Name())
	}
	slices.SortFunc(parts, func(a, b understore.PartInfo) int { return a.Number - b.Number })
	return parts, files, nil
}

func (w *storeWriter) CompleteUpload(ctx context.Context, p, id string, want []understore.CompletedPart) (understore.ObjectInfo, error) {
	dir, err := w.upload(p, id)
	if err != nil {
		return understore.ObjectInfo{}, err
	}
	have, files, err := w.parts(dir)
	if err != nil {
		return understore.ObjectInfo{}, err
	}
	byNum := map[int]understore.PartInfo{}
	for _, h := range have {
		byNum[h.Number] = h
	}
	var readers []io.Reader
	var total int64
	for i, c := range want {
		if i > 0 && c.Number <= want[i-1].Number {
			return understore.ObjectInfo{}, understore.ErrInvalidPartOrder
		}
		h, ok := byNum[c.Number]
		if !ok || h.ETag != c.ETag {
			return understore.ObjectInfo{}, fmt.Errorf("part %d: %w", c.Number, understore.ErrInvalidPart)
		}
		if i < len(want)-1 && h.Size < understore.MinPartSize {
			return understore.ObjectInfo{}, fmt.Errorf("part %d of %d bytes: %w", c.Number, h.Size, understore.ErrEntityTooSmall)
		}
		f, err := os.Open(files[c.Number])
		if err != nil {
			return understore.ObjectInfo{}, err
		}
		defer f.Close()
		readers = append(readers, f)
		total += h.Size
	}
	info, err := w.st.Put(ctx, p, io.MultiReader(readers...), total)
	if err != nil {
		return info, err
	}
	w.forget(id, dir)
	return info, nil
}

func (w *storeWriter) forget(id, dir string) {
	w.mu.Lock()
	delete(w.uploads, id)
	w.mu.Unlock()
	os.RemoveAll(dir)
}

func (w *storeWriter) AbortUpload(ctx context.Context, p, id string) error {
	dir, err := w.upload(p, id)
	if err != nil {
		return err
	}
	w.forget(id, dir)
	return nil
}

func (w *storeWriter) ListParts(ctx context.Context, p, id string, marker, limit int) (understore.PartsPage, error) {
	dir, err := w.upload(p, id)
	if err != nil {
		return understore.PartsPage{}, err
	}
	have, _, err := w.parts(dir)
	if err != nil {
		return understore.PartsPage{}, err
	}
	var page understore.PartsPage
	for _, h := range have {
		if h.Number <= marker {
			continue
		}
		if len(page.Parts) == limit {
			page.Truncated = true
			break
		}
		page.Parts = append(page.Parts, h)
		page.NextMarker = h.Number
	}
	return page, nil
}

// ListUploads lists by (key, upload id); keyMarker and the next markers
// are keys relative to the bucket.
func (w *storeWriter) ListUploads(ctx context.Context, prefix, delimiter, keyMarker, idMarker string, limit int) (understore.UploadsPage, error) {
	bucket, _, _ := strings.Cut(prefix, "/")
	w.mu.Lock()
	var all []understore.UploadInfo
	for id, u := range w.uploads {
		if strings.HasPrefix(u.path, prefix) {
			all = append(all, understore.UploadInfo{Path: u.path, UploadID: id, Initiated: u.initiated})
		}
	}
	w.mu.Unlock()
	slices.SortFunc(all, func(a, b understore.UploadInfo) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.UploadID, b.UploadID)
	})
	var page understore.UploadsPage
	seen := map[string]bool{}
	for _, u := range all {
		key := strings.TrimPrefix(u.Path, bucket+"/")
		if keyMarker != "" && (key < keyMarker || (key == keyMarker && (idMarker == "" || u.UploadID <= idMarker))) {
			continue
		}
		cp := ""
		if delimiter != "" {
			rest := strings.TrimPrefix(u.Path, prefix)
			if i := strings.Index(rest, delimiter); i >= 0 {
				cp = prefix + rest[:i+len(delimiter)]
			}
		}
		if cp != "" && seen[cp] {
			continue
		}
		if len(page.Uploads)+len(page.Prefixes) == limit {
			page.Truncated = true
			break
		}
		if cp != "" {
			seen[cp] = true
			page.Prefixes = append(page.Prefixes, cp)
			page.NextKeyMarker, page.NextUploadIDMarker = strings.TrimPrefix(cp, bucket+"/"), ""
			continue
		}
		page.Uploads = append(page.Uploads, u)
		page.NextKeyMarker, page.NextUploadIDMarker = key, u.UploadID
	}
	if !page.Truncated {
		page.NextKeyMarker, page.NextUploadIDMarker = "", ""
	}
	return page, nil
}

// storeCluster is the gateway.Cluster test double: reads straight from
// the store (no cache, no owner), so a read after a write sees the write.
type storeCluster struct{ st understore.Store }

func (c storeCluster) ServeRead(ctx context.Context, req *transport.ReadRequest, w transport.ResponseWriter) error {
	info, err := c.st.Stat(ctx, req.Path)
	if err != nil {
		return err
	}
	if req.ETag != "" && req.ETag != info.ETag {
		return transport.Errorf(transport.StatusChanged, "%s changed", req.Path)
	}
	if req.Offset > info.Size {
		return transport.Errorf(transport.StatusOutOfRange, "offset %d > %d", req.Offset, info.Size)
	}
	if err := w.WriteHeader(transport.ReadHeader{Size: info.Size, ETag: info.ETag, ModTime: info.ModTime}); err != nil {
		return err
	}
	n := min(info.Size, req.Offset+req.Length) - req.Offset
	if n <= 0 {
		return nil
	}
	buf := make([]byte, n)
	got, err := c.st.ReadAt(ctx, req.Path, info, buf, req.Offset)
	if err != nil && !(errors.Is(err, io.EOF) && int64(got) == n) {
		return err
	}
	return w.WriteSegment(req.Offset, buf)
}

func (c storeCluster) StatObject(ctx context.Context, p string) (transport.StatResponse, error) {
	info, err := c.st.Stat(ctx, p)
	if err != nil {
		return transport.StatResponse{}, err
	}
	return transport.StatResponse{Path: p, Size: info.Size, ETag: info.ETag, ModTime: info.ModTime}, nil
}

// writeEnv is a gateway with the write doubles, serving on a real
// loopback listener, over a local-directory under-store holding the
// bucket "lake".
type writeEnv struct {
	dir      string // the under-store's directory
	st       understore.Store
	w        *storeWriter
	g        *gateway.Gateway
	reg      *prometheus.Registry
	endpoint string
}

func newWriteEnv(t testing.TB, auth string) *writeEnv {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lake"), 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := understore.Open(context.Background(), understore.Config{URL: "file://" + dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &writeEnv{dir: dir, st: st, w: &storeWriter{st: st, staging: t.TempDir()}, reg: prometheus.NewRegistry()}
	// Listings cached for an hour: a test sees a write in a listing only
	// if the write dropped the cached pages.
	cfg := gateway.Config{Auth: auth, Keys: map[string]string{testAccess: testSecret}, SyncInterval: time.Hour, Registerer: e.reg}
	if e.g, err = gateway.New(cfg, storeCluster{st}, st, gateway.WithWriter(e.w)); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.g.Serve(l) }()
	t.Cleanup(func() {
		e.g.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	e.endpoint = "http://" + l.Addr().String()
	return e
}

// file is the under-store's bytes of path, read from its directory.
func (e *writeEnv) file(t testing.TB, path string) ([]byte, error) {
	t.Helper()
	return os.ReadFile(filepath.Join(e.dir, filepath.FromSlash(path)))
}

// metric is the value of the series name with the given labels (0 when
// absent).
func (e *writeEnv) metric(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
