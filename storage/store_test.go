package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file holds the helpers of the store's tests and the tests of puts,
// versions, invalidation and concurrency; page reads are in
// pageread_test.go, replay and compaction in replay_test.go.

const testPage = 256 << 10 // 16 chunks (4 of format 1)

func testConfig(t testing.TB, root string) Config {
	t.Helper()
	return Config{
		Dirs:       []DirConfig{{Path: filepath.Join(root, "pages"), Capacity: 64 * testPage}},
		JournalDir: filepath.Join(root, "journal"),
		PageSize:   testPage,
		Sync:       SyncAlways,
	}
}

func mustOpen(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// pageBytes derives the bytes of a page from (seed, path, version, index),
// so a checker can recompute what a writer wrote.
func pageBytes(seed uint64, path string, version uint64, index uint32, n int) []byte {
	id := FileIDOf(path)
	lo, hi := id.lohi()
	r := rand.New(rand.NewPCG(seed^lo^version*31, hi^uint64(index)*1000003))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func fp(etag string, size int64) Fingerprint {
	return Fingerprint{ETag: etag, Size: size, ModTime: time.Unix(1700000000, 0).UTC()}
}

// putFile upserts a file and puts all of its pages.
func putFile(t testing.TB, s *Store, path, etag string, size int64, seed uint64) FileMeta {
	t.Helper()
	m, err := s.Upsert(path, fp(etag, size), "", "")
	if err != nil {
		t.Fatalf("Upsert %s: %v", path, err)
	}
	for i := uint32(0); int64(i)*s.PageSize() < size; i++ {
		n := min(s.PageSize(), size-int64(i)*s.PageSize())
		if err := s.PutPage(PageKey{m.ID, m.Version, i}, pageBytes(seed, path, m.Version, i, int(n))); err != nil {
			t.Fatalf("PutPage %s/%d: %v", path, i, err)
		}
	}
	return m
}

func readAllPage(t testing.TB, s *Store, k PageKey, n int) ([]byte, error) {
	t.Helper()
	buf := make([]byte, n)
	got, err := s.ReadPage(k, 0, buf)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:got], nil
}

func TestPutReadRoundTripAndReopen(t *testing.T) {
	root := t.TempDir()
	cfg := testConfig(t, root)
	s := mustOpen(t, cfg)
	const size = 2*testPage + 100_000
	m := putFile(t, s, "lake/t/a.parquet", "e1", size, 7)

	want := pageBytes(7, m.Path, 1, 2, 100_000)
	cases := []struct {
		name    string
		idx     uint32
		off     int64
		n       int
		wantN   int
		wantErr error
	}{
		{"whole last page", 2, 0, 100_000, 100_000, nil},
		{"unaligned middle", 2, 1000, 70_000, 70_000, nil},
		{"inside one chunk", 2, 65_536 + 5, 10, 10, nil},
		{"across the end", 2, 99_000, 5000, 1000, io.EOF},
		{"at the end", 2, 100_000, 10, 0, io.EOF},
		{"past the end", 2, 100_001, 10, 0, ErrOutOfRange},
		{"negative", 2, -1, 10, 0, ErrOutOfRange},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buf := make([]byte, c.n)
			n, err := s.ReadPage(PageKey{m.ID, 1, c.idx}, c.off, buf)
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if n != c.wantN {
				t.Fatalf("n = %d, want %d", n, c.wantN)
			}
			if n > 0 && !bytes.Equal(buf[:n], want[c.off:c.off+int64(n)]) {
				t.Fatalf("bytes differ")
			}
		})
	}
	st := s.Stats()
	if st.Pages != 3 || st.UsedBytes != size || st.Files != 1 {
		t.Fatalf("stats %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, cfg)
	defer s.Close()
	for i := uint32(0); i < 3; i++ {
		n := min(testPage, size-int(i)*testPage)
		got, err := readAllPage(t, s, PageKey{m.ID, 1, i}, n)
		if err != nil || !bytes.Equal(got, pageBytes(7, m.Path, 1, i, n)) {
			t.Fatalf("page %d after reopen: err %v", i, err)
		}
	}
	if st := s.Stats(); st.Pages != 3 || st.UsedBytes != size || st.ReplayDroppedPages != 0 || st.ReplayRemovedFiles != 0 {
		t.Fatalf("stats after reopen %+v", st)
	}
	got, ok := s.Lookup(m.Path)
	if !ok || got.Version != 1 || got.Size != size || got.Scope != "lake/t" || !got.Content.Equal(fp("e1", size)) {
		t.Fatalf("Lookup after reopen: %+v", got)
	}
}

func TestPutPageChecks(t *testing.T) {
	s := mustOpen(t, testConfig(t, t.TempDir()))
	defer s.Close()
	m, err := s.Upsert("lake/t/a", fp("e", testPage+10), "", "")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		key  PageKey
		n    int
		want error
	}{
		{"unknown file", PageKey{FileIDOf("lake/t/zz"), 1, 0}, testPage, ErrUnknownFile},
		{"future version", PageKey{m.ID, 2, 0}, testPage, ErrStaleVersion},
		{"index out of range", PageKey{m.ID, 1, 2}, 10, ErrOutOfRange},
		{"short page", PageKey{m.ID, 1, 0}, testPage - 1, ErrBadLength},
		{"long last page", PageKey{m.ID, 1, 1}, 11, ErrBadLength},
		{"good last page", PageKey{m.ID, 1, 1}, 10, nil},
		{"good first page", PageKey{m.ID, 1, 0}, testPage, nil},
		{"again (no-op)", PageKey{m.ID, 1, 0}, testPage, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.PutPage(c.key, make([]byte, c.n))
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := s.ReadPage(PageKey{FileIDOf("nope/x"), 1, 0}, 0, make([]byte, 1)); !errors.Is(err, ErrNotCached) || !errors.Is(err, ErrUnknownFile) {
		t.Fatalf("read of unknown file: %v", err)
	}
}

func countPageFiles(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestVersions(t *testing.T) {
	root := t.TempDir()
	cfg := testConfig(t, root)
	cfg.LazyDeleteInterval = 10 * time.Millisecond
	s := mustOpen(t, cfg)
	defer s.Close()
	m1 := putFile(t, s, "lake/t/a", "e1", 2*testPage, 1)
	// MetaFP-only change: same version, pages kept.
	m, err := s.Upsert("lake/t/a", fp("e1", 2*testPage), "mode=600", "")
	if err != nil || m.Version != 1 || m.MetaFP != "mode=600" || !s.HasPage(PageKey{m1.ID, 1, 1}) {
		t.Fatalf("meta-only change: %+v %v", m, err)
	}
	// New content: version 2, old pages refused at once, deleted lazily.
	m2, err := s.Upsert("lake/t/a", fp("e2", 2*testPage), "mode=600", "")
	if err != nil || m2.Version != 2 {
		t.Fatalf("content change: %+v %v", m2, err)
	}
	if _, err := s.ReadPage(PageKey{m1.ID, 1, 0}, 0, make([]byte, 10)); !errors.Is(err, ErrStaleVersion) {
		t.Fatalf("read old version: %v", err)
	}
	if err := s.PutPage(PageKey{m1.ID, 1, 0}, make([]byte, testPage)); !errors.Is(err, ErrStaleVersion) {
		t.Fatalf("put old version: %v", err)
	}
	if s.Stats().UsedBytes != 0 {
		t.Fatalf("old pages still counted: %+v", s.Stats())
	}
	// The files go first, then the pending count: wait for both.
	waitFor(t, "lazy deletion of old pages", func() bool {
		return countPageFiles(t, cfg.Dirs[0].Path) == 0 && s.Stats().PendingDeleteBytes == 0
	})
	putFile(t, s, "lake/t/a", "e2", 2*testPage, 2)
	// Invalidate forgets; re-adding continues the versions, so a page
	// write of the forgotten incarnation still in flight is refused.
	if err := s.Invalidate("lake/t/a"); err != nil {
		t.Fatal(err)
	}
	m3, err := s.Upsert("lake/t/a", fp("e3", 2*testPage), "", "")
	if err != nil || m3.Version != 3 {
		t.Fatalf("re-added after invalidate: %+v %v, want version 3", m3, err)
	}
	if err := s.PutPage(PageKey{m1.ID, 2, 0}, make([]byte, testPage)); !errors.Is(err, ErrStaleVersion) {
		t.Fatalf("late put of the forgotten version: %v, want ErrStaleVersion", err)
	}
	if err := s.Invalidate("lake/t/a"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup("lake/t/a"); ok {
		t.Fatal("file still known after Invalidate")
	}
	if err := s.Invalidate("lake/t/a"); err != nil {
		t.Fatalf("second Invalidate: %v", err)
	}
	waitFor(t, "lazy deletion after invalidate", func() bool { return countPageFiles(t, cfg.Dirs[0].Path) == 0 })
}

func TestInvalidatePrefixAndFiles(t *testing.T) {
	s := mustOpen(t, testConfig(t, t.TempDir()))
	defer s.Close()
	for _, p := range []string{"lake/a/1", "lake/a/2", "lake/ab/3", "lake/b/4"} {
		putFile(t, s, p, "e", 10, 1)
	}
	if got := s.Files("lake/a"); len(got) != 3 || got[0].Path != "lake/a/1" || got[2].Path != "lake/ab/3" {
		t.Fatalf("Files: %+v", got)
	}
	n, err := s.InvalidatePrefix("lake/a/")
	if err != nil || n != 2 {
		t.Fatalf("InvalidatePrefix = %d, %v", n, err)
	}
	if got := s.Files(""); len(got) != 2 {
		t.Fatalf("Files after: %+v", got)
	}
}

func TestCorruptionAndMissingFiles(t *testing.T) {
	root := t.TempDir()
	cfg := testConfig(t, root)
	s := mustOpen(t, cfg)
	defer s.Close()
	m := putFile(t, s, "lake/t/a", "e", 4*testPage, 3)
	names := map[uint32]string{}
	s.mu.RLock()
	for i := uint32(0); i < 4; i++ {
		names[i] = s.nameOf(s.slotOf(s.ftab[s.files[m.ID]], i))
	}
	s.mu.RUnlock()

	flip := func(name string, off int64) {
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		b := []byte{0}
		f.ReadAt(b, off)
		b[0] ^= 0x40
		f.WriteAt(b, off)
		f.Close()
	}
	// 0: a data byte flipped in chunk 2.
	flip(names[0], DataOffset+2*ChunkSize+17)
	// 1: a chunk CRC in the header flipped.
	flip(names[1], pageHeaderFixed+4)
	// 2: deleted behind our back.
	os.Remove(names[2])
	// 3: truncated.
	os.Truncate(names[3], DataOffset+100)

	buf := make([]byte, testPage)
	// Reading chunk 0 of page 0 is fine; chunk 2 is not.
	if _, err := s.ReadPage(PageKey{m.ID, 1, 0}, 0, buf[:ChunkSize]); err != nil {
		t.Fatalf("untouched chunk: %v", err)
	}
	for i, want := range map[uint32]error{0: ErrCorrupt, 1: ErrCorrupt, 2: ErrNotCached, 3: ErrCorrupt} {
		_, err := s.ReadPage(PageKey{m.ID, 1, i}, 0, buf)
		if !errors.Is(err, want) {
			t.Fatalf("page %d: err %v, want %v", i, err, want)
		}
		if s.HasPage(PageKey{m.ID, 1, i}) {
			t.Fatalf("page %d still indexed", i)
		}
		if _, err := s.ReadPage(PageKey{m.ID, 1, i}, 0, buf); !errors.Is(err, ErrNotCached) {
			t.Fatalf("page %d second read: %v", i, err)
		}
	}
	if st := s.Stats(); st.Pages != 0 || st.UsedBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
	if n := countPageFiles(t, cfg.Dirs[0].Path); n != 0 {
		t.Fatalf("%d page files left", n)
	}
	// Re-fetch works.
	putFile(t, s, "lake/t/a", "e", 4*testPage, 3)
	if got, err := readAllPage(t, s, PageKey{m.ID, 1, 0}, testPage); err != nil || !bytes.Equal(got, pageBytes(3, "lake/t/a", 1, 0, testPage)) {
		t.Fatalf("re-fetched page: %v", err)
	}
}

func TestConcurrentPutRead(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.PageSize = MinPageSize * 4
	cfg.Dirs = append(cfg.Dirs, DirConfig{Path: cfg.Dirs[0].Path + "2", Capacity: 40 * cfg.PageSize})
	cfg.Dirs[0].Capacity = 30 * cfg.PageSize
	s := mustOpen(t, cfg)
	defer s.Close()
	const files = 8
	metas := make([]FileMeta, files)
	for i := range metas {
		m, err := s.Upsert(fmt.Sprintf("lake/t/%d", i), fp("e", 20*cfg.PageSize), "", "")
		if err != nil {
			t.Fatal(err)
		}
		metas[i] = m
	}
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			buf := make([]byte, cfg.PageSize)
			for i := 0; i < 300; i++ {
				m := metas[r.IntN(files)]
				k := PageKey{m.ID, m.Version, uint32(r.IntN(20))}
				want := pageBytes(1, m.Path, 1, k.Index, int(cfg.PageSize))
				if r.IntN(2) == 0 {
					if err := s.PutPage(k, want); err != nil {
						errc <- err
						return
					}
					continue
				}
				n, err := s.ReadPage(k, 0, buf)
				if errors.Is(err, ErrNotCached) {
					continue
				}
				if err != nil || !bytes.Equal(buf[:n], want) {
					errc <- fmt.Errorf("read %v: %v", k, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	st := s.Stats()
	for _, d := range st.Dirs {
		if d.UsedBytes > d.CapacityBytes {
			t.Fatalf("dir over capacity: %+v", d)
		}
	}
	if st.Evictions == 0 {
		t.Fatalf("no evictions: %+v", st)
	}
}

func TestConfigValidate(t *testing.T) {
	good := testConfig(t, "/x")
	cases := map[string]func(*Config){
		"no dirs":        func(c *Config) { c.Dirs = nil },
		"zero capacity":  func(c *Config) { c.Dirs[0].Capacity = 0 },
		"dup dir":        func(c *Config) { c.Dirs = append(c.Dirs, c.Dirs[0]) },
		"no journal":     func(c *Config) { c.JournalDir = "" },
		"tiny page":      func(c *Config) { c.PageSize = 100 },
		"huge page":      func(c *Config) { c.PageSize = 1 << 30 },
		"bad sync":       func(c *Config) { c.Sync = -5 },
		"bad quota":      func(c *Config) { c.ScopeQuotas = map[string]int64{"a/": 0} },
		"empty prefix":   func(c *Config) { c.ScopeQuotas = map[string]int64{"": 10} },
		"tiny segments":  func(c *Config) { c.SegmentBytes = 10 },
		"negative delay": func(c *Config) { c.LazyDeleteInterval = -1 },
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, mod := range cases {
		c := testConfig(t, "/x")
		mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	if !strings.HasPrefix(ErrBadRecord.Error(), "storage: ") {
		t.Fatal("sentinel prefix")
	}
}
