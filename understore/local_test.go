package understore_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ringcache/ringcache/understore"
)

func openLocal(t *testing.T, dir string) understore.Store {
	t.Helper()
	st, err := understore.Open(t.Context(), understore.Config{URL: "file://" + dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLocalNoEscape: nothing outside the directory is reachable, neither by
// path nor through symlinks; links that stay inside work.
func TestLocalNoEscape(t *testing.T) {
	t.Run("openat2", func(t *testing.T) { testLocalNoEscape(t, false) })
	t.Run("os.Root", func(t *testing.T) { testLocalNoEscape(t, true) })
}

func testLocalNoEscape(t *testing.T, portable bool) {
	outer := t.TempDir()
	dir := filepath.Join(outer, "lake")
	write(t, filepath.Join(outer, "secret"), []byte("secret"))
	write(t, filepath.Join(dir, "b", "real"), []byte("real"))
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(outer, "secret"), filepath.Join(dir, "b", "abs")))
	must(os.Symlink("../../secret", filepath.Join(dir, "b", "rel")))
	must(os.Symlink(outer, filepath.Join(dir, "b", "dirlink")))
	must(os.Symlink(outer, filepath.Join(dir, "escbucket")))
	must(os.Symlink("real", filepath.Join(dir, "b", "inside")))
	st := openLocal(t, dir)
	if portable {
		understore.DisableFastRead(st)
	}
	ctx := t.Context()
	for _, p := range []string{"b/abs", "b/rel", "b/dirlink/secret", "escbucket/secret"} {
		if info, err := st.Stat(ctx, p); err == nil {
			t.Errorf("Stat(%q) = %+v, want an error", p, info)
		}
		buf := make([]byte, 6)
		if n, err := st.ReadAt(ctx, p, understore.ObjectInfo{}, buf, 0); !errors.Is(err, understore.ErrBadPath) || n != 0 {
			t.Errorf("ReadAt(%q) = %d %q, %v; want an error", p, n, buf[:n], err)
		}
	}
	if _, err := st.Put(ctx, "b/dirlink/secret", bytes.NewReader([]byte("x")), 1); err == nil {
		t.Error("Put through an escaping symlink succeeded")
	}
	if got, _ := os.ReadFile(filepath.Join(outer, "secret")); string(got) != "secret" {
		t.Fatalf("outside file changed: %q", got)
	}
	info, err := st.Stat(ctx, "b/inside")
	if err != nil || info.Size != 4 {
		t.Fatalf("Stat(inside link) = %+v, %v", info, err)
	}
	buf := make([]byte, 4)
	if n, err := st.ReadAt(ctx, "b/inside", info, buf, 0); err != nil || string(buf[:n]) != "real" {
		t.Fatalf("ReadAt(inside link) = %q, %v", buf[:n], err)
	}
	pg, err := st.List(ctx, "b/", "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range pg.Objects {
		got = append(got, o.Path)
	}
	if want := []string{"b/inside", "b/real"}; !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
	bs, err := st.Buckets(ctx)
	if err != nil || !slices.Equal(bs, []string{"b"}) {
		t.Errorf("Buckets = %q, %v", bs, err)
	}
}

// TestLocalHidesTempFiles: the temporary file of an in-progress Put is not
// an object, and its name cannot be written.
func TestLocalHidesTempFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "b", "x"), []byte("x"))
	write(t, filepath.Join(dir, "b", "d", ".ringcache-put-0123"), []byte("partial"))
	write(t, filepath.Join(dir, "b", ".ringcache-put-77"), []byte("partial"))
	write(t, filepath.Join(dir, "notabucket"), []byte("file at top level"))
	write(t, filepath.Join(dir, "b", "tmponly", ".ringcache-put-5"), []byte("partial"))
	if err := os.MkdirAll(filepath.Join(dir, "b", "empty", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	st := openLocal(t, dir)
	ctx := t.Context()
	pg, err := st.List(ctx, "b/", "", "", 0)
	if err != nil || len(pg.Objects) != 1 || pg.Objects[0].Path != "b/x" {
		t.Fatalf("List = %+v, %v", pg, err)
	}
	// Directories without objects are not common prefixes.
	pg, err = st.List(ctx, "b/", "/", "", 0)
	if err != nil || len(pg.Objects) != 1 || len(pg.Prefixes) != 0 {
		t.Fatalf("List with delimiter = %+v, %v", pg, err)
	}
	if _, err := st.Stat(ctx, "b/d/.ringcache-put-0123"); !errors.Is(err, understore.ErrNotFound) {
		t.Errorf("Stat(temp) = %v", err)
	}
	if _, err := st.Put(ctx, "b/.ringcache-put-1", bytes.NewReader([]byte("x")), 1); !errors.Is(err, understore.ErrBadPath) {
		t.Errorf("Put(temp name) = %v", err)
	}
	if bs, _ := st.Buckets(ctx); !slices.Equal(bs, []string{"b"}) {
		t.Errorf("Buckets = %q", bs)
	}
}

// TestLocalMetaOnlyChange: chmod changes MetaFP, not the ETag.
func TestLocalMetaOnlyChange(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "b", "x"), []byte("content"))
	st := openLocal(t, dir)
	a, err := st.Stat(t.Context(), "b/x")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "b", "x"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := st.Stat(t.Context(), "b/x")
	if err != nil {
		t.Fatal(err)
	}
	if a.ETag != b.ETag || a.MetaFP == b.MetaFP {
		t.Errorf("after chmod: ETag %s -> %s, MetaFP %s -> %s", a.ETag, b.ETag, a.MetaFP, b.MetaFP)
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		cfg understore.Config
		ok  bool
	}{
		{understore.Config{URL: "file://" + dir}, true},
		{understore.Config{URL: "s3://"}, true},
		{understore.Config{URL: "s3://lake"}, true},
		{understore.Config{URL: "s3://lake/warehouse/t", Endpoint: "http://127.0.0.1:9000"}, true},
		{understore.Config{}, false},
		{understore.Config{URL: "file://rel/dir"}, false},
		{understore.Config{URL: "file:relative"}, false},
		{understore.Config{URL: "http://x"}, false},
		{understore.Config{URL: "s3://lake/../x"}, false},
		{understore.Config{URL: "s3://lake", Endpoint: "ftp://x"}, false},
		{understore.Config{URL: "s3://lake", PartSize: 1 << 20}, false},
		{understore.Config{URL: "s3://lake", AccessKey: "a"}, false},
		{understore.Config{URL: "s3://lake", ListLimit: -1}, false},
	} {
		if err := c.cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", c.cfg, err, c.ok)
		}
	}
	if _, err := understore.Open(t.Context(), understore.Config{URL: "file://" + filepath.Join(dir, "missing")}); err == nil {
		t.Error("Open of a missing directory succeeded")
	}
}

func TestLocalPutUnderObject(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "b", "a"), []byte("x"))
	st := openLocal(t, dir)
	if _, err := st.Put(t.Context(), "b/a/b", bytes.NewReader([]byte("y")), 1); !errors.Is(err, understore.ErrBadRequest) {
		t.Errorf("Put under an object = %v, want ErrBadRequest", err)
	}
}
