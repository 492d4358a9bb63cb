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
	"sync/atomic"
	"testing"
	"time"
)

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

func TestOpenPage(t *testing.T) {
	s := mustOpen(t, testConfig(t, t.TempDir()))
	defer s.Close()
	m := putFile(t, s, "lake/t/a", "e", testPage+70_000, 5)
	h, err := s.OpenPage(PageKey{m.ID, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Length != 70_000 || h.ChunkSize != ChunkSize || len(h.ChunkCRCs) != (70_000+ChunkSize-1)/ChunkSize || h.DataOffset != DataOffset {
		t.Fatalf("handle %+v", h)
	}
	data := make([]byte, h.Length)
	if _, err := h.File.ReadAt(data, h.DataOffset); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, pageBytes(5, m.Path, 1, 1, 70_000)) {
		t.Fatal("data differs")
	}
	for i, c := range h.ChunkCRCs {
		if crc32c(data[i*ChunkSize:min((i+1)*ChunkSize, len(data))]) != c {
			t.Fatalf("chunk %d CRC", i)
		}
	}
	if err := s.DropPage(PageKey{m.ID, 1, 1}); err != nil || s.HasPage(PageKey{m.ID, 1, 1}) {
		t.Fatalf("DropPage: %v", err)
	}
	if _, err := s.OpenPage(PageKey{m.ID, 1, 1}); !errors.Is(err, ErrNotCached) {
		t.Fatalf("OpenPage after drop: %v", err)
	}
}

// TestOpenPageMapped: a cached open page comes with its data mapped (the
// same bytes as the file), unless NoMmap; a page file found truncated when
// it is opened is a clean ErrCorrupt and the page is dropped, so neither a
// writev from the mapping nor sendfile ever runs past its end.
func TestOpenPageMapped(t *testing.T) {
	for _, noMmap := range []bool{false, true} {
		cfg := testConfig(t, t.TempDir())
		cfg.NoMmap = noMmap
		s := mustOpen(t, cfg)
		m := putFile(t, s, "lake/t/m", "e", 2*testPage+70_000, 6)
		h, err := s.OpenPage(PageKey{m.ID, 1, 2})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case noMmap && h.Mapped != nil:
			t.Fatal("NoMmap: page mapped anyway")
		case !noMmap && !bytes.Equal(h.Mapped, pageBytes(6, m.Path, 1, 2, 70_000)):
			t.Fatalf("mapped bytes differ from the page (%d bytes mapped)", len(h.Mapped))
		}
		h.Close()

		s.mu.RLock()
		name := s.nameOf(s.slotOf(s.ftab[s.files[m.ID]], 1))
		s.mu.RUnlock()
		if err := os.Truncate(name, DataOffset+testPage/2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.OpenPage(PageKey{m.ID, 1, 1}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated page file: %v, want ErrCorrupt", err)
		}
		if s.HasPage(PageKey{m.ID, 1, 1}) {
			t.Fatal("truncated page still indexed")
		}
		s.Close()
	}
}

func TestReplayReconcilesDisk(t *testing.T) {
	root := t.TempDir()
	cfg := testConfig(t, root)
	s := mustOpen(t, cfg)
	m := putFile(t, s, "lake/t/a", "e", 3*testPage, 4)
	s.mu.RLock()
	fe := s.ftab[s.files[m.ID]]
	n0, n1 := s.nameOf(s.slotOf(fe, 0)), s.nameOf(s.slotOf(fe, 1))
	s.mu.RUnlock()
	s.Close()

	os.Remove(n0)                          // missing: entry dropped
	os.Truncate(n1, DataOffset+testPage-1) // wrong size: dropped and deleted
	sub := filepath.Dir(n0)
	strayTmp := filepath.Join(sub, "x.pg.tmp")
	strayPage := pageFileName(cfg.Dirs[0].Path, PageKey{m.ID, 1, 2}, 999) // unvouched generation
	other := filepath.Join(sub, "README")                                 // not ours: kept
	for _, f := range []string{strayTmp, strayPage, other} {
		os.WriteFile(f, []byte("x"), 0o644)
	}
	s = mustOpen(t, cfg)
	defer s.Close()
	st := s.Stats()
	if st.Pages != 1 || st.ReplayDroppedPages != 2 || st.ReplayRemovedFiles != 3 {
		t.Fatalf("stats %+v", st)
	}
	for _, f := range []string{strayTmp, strayPage, n1} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Fatalf("%s not removed", f)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("foreign file removed: %v", err)
	}
	if got, err := readAllPage(t, s, PageKey{m.ID, 1, 2}, testPage); err != nil || !bytes.Equal(got, pageBytes(4, m.Path, 1, 2, testPage)) {
		t.Fatalf("surviving page: %v", err)
	}
}

func lastSegment(t testing.TB, dir string) string {
	t.Helper()
	jf, err := listJournal(OSFS{}, dir)
	if err != nil || len(jf.segs) == 0 {
		t.Fatalf("no segments: %v", err)
	}
	return segName(dir, jf.segs[len(jf.segs)-1])
}

func TestTornTailIsCut(t *testing.T) {
	tails := map[string]func(valid []byte) []byte{
		"zeros":         func([]byte) []byte { return make([]byte, 4096) },
		"partial frame": func(v []byte) []byte { return v[:len(v)/2] },
		"bad crc":       func(v []byte) []byte { c := bytes.Clone(v); c[len(c)-1] ^= 1; return c },
		"huge length":   func([]byte) []byte { return []byte{0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5} },
	}
	for name, tail := range tails {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			cfg := testConfig(t, root)
			s := mustOpen(t, cfg)
			m := putFile(t, s, "lake/t/a", "e", testPage, 1)
			s.Close()
			seg := lastSegment(t, cfg.JournalDir)
			before, _ := os.ReadFile(seg)
			r := record{kind: 3, file: m.ID, version: 1, index: 0, length: 5, gen: 77}
			valid := appendFrame(nil, newBuilder(), &r)
			f, _ := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
			f.Write(tail(valid))
			f.Close()
			s = mustOpen(t, cfg)
			defer s.Close()
			if !s.HasPage(PageKey{m.ID, 1, 0}) {
				t.Fatal("page lost")
			}
			after, _ := os.ReadFile(seg)
			if !bytes.Equal(after, before) {
				t.Fatalf("tail not cut: %d bytes, want %d", len(after), len(before))
			}
		})
	}
}

func TestCorruptionInTheMiddleIsReported(t *testing.T) {
	root := t.TempDir()
	cfg := testConfig(t, root)
	s := mustOpen(t, cfg)
	putFile(t, s, "lake/t/a", "e", 3*testPage, 1)
	s.Close()
	seg := lastSegment(t, cfg.JournalDir)
	b, _ := os.ReadFile(seg)
	b[fileMagicSize+frameHeaderSize+3] ^= 0x10 // first record's payload
	os.WriteFile(seg, b, 0o644)
	_, err := Open(cfg)
	var ce *CorruptionError
	if !errors.As(err, &ce) || !errors.Is(err, ErrBadRecord) || ce.Offset != fileMagicSize || ce.File != seg {
		t.Fatalf("Open = %v, want CorruptionError at %d in %s", err, fileMagicSize, seg)
	}
}

func TestCompaction(t *testing.T) {
	root := t.TempDir()
	cfg := testConfig(t, root)
	cfg.PageSize = MinPageSize
	cfg.Dirs[0].Capacity = 1 << 30
	cfg.CompactEvery = 64 << 10
	cfg.SegmentBytes = 16 << 10
	cfg.Sync = 0
	s := mustOpen(t, cfg)
	// Churn: many versions of a few files.
	for v := 0; v < 40; v++ {
		for f := 0; f < 5; f++ {
			putFile(t, s, fmt.Sprintf("lake/t/f%d", f), fmt.Sprint("e", v), 5*MinPageSize, uint64(v))
		}
	}
	waitFor(t, "background compaction", func() bool { return s.Stats().Compactions > 0 && !s.compacting.Load() })
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.JournalBytes > cfg.CompactEvery {
		t.Fatalf("journal %d bytes after compaction", st.JournalBytes)
	}
	jf, _ := listJournal(OSFS{}, cfg.JournalDir)
	if len(jf.snaps) != 1 || len(jf.segs) > 2 {
		t.Fatalf("journal files after compaction: %+v", jf)
	}
	// One more change after the snapshot, then reopen.
	putFile(t, s, "lake/t/f0", "final", 3*MinPageSize, 99)
	s.Close()
	s = mustOpen(t, cfg)
	defer s.Close()
	if got := s.Stats(); got.Pages != 4*5+3 || got.Files != 5 || got.ReplayDroppedPages != 0 || got.ReplayRecords > 100 {
		t.Fatalf("after reopen %+v", got)
	}
	m, _ := s.Lookup("lake/t/f0")
	if got, err := readAllPage(t, s, PageKey{m.ID, m.Version, 2}, MinPageSize); err != nil || !bytes.Equal(got, pageBytes(99, m.Path, m.Version, 2, MinPageSize)) {
		t.Fatalf("page after compaction+reopen: %v", err)
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

func TestSecondOpenOfTheSameJournalIsRefused(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	s := mustOpen(t, cfg)
	if _, err := Open(cfg); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("second Open = %v", err)
	}
	s.Close()
	s = mustOpen(t, cfg) // the lock is released by Close
	s.Close()
}

func TestMissingSegmentIsCorruption(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	s := mustOpen(t, cfg)
	putFile(t, s, "lake/t/a", "e", testPage, 1)
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = mustOpen(t, cfg) // starts the next segment
	putFile(t, s, "lake/t/b", "e", testPage, 1)
	s.Close()
	jf, _ := listJournal(OSFS{}, cfg.JournalDir)
	if len(jf.snaps) != 1 || len(jf.segs) < 2 {
		t.Fatalf("journal: %+v", jf)
	}
	os.Remove(segName(cfg.JournalDir, jf.segs[0]))
	var ce *CorruptionError
	if _, err := Open(cfg); !errors.As(err, &ce) || !errors.Is(err, ErrBadRecord) {
		t.Fatalf("Open with a missing segment = %v", err)
	}
}

func TestOpenPageCache(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.OpenPages = 2
	s := mustOpen(t, cfg)
	defer s.Close()
	m := putFile(t, s, "lake/t/c", "e", 3*testPage, 9)
	key := func(i uint32) PageKey { return PageKey{m.ID, 1, i} }
	h1, err := s.OpenPage(key(0))
	if err != nil {
		t.Fatal(err)
	}
	h2, err := s.OpenPage(key(0))
	if err != nil {
		t.Fatal(err)
	}
	if h1.File != h2.File {
		t.Fatal("a hot page was opened twice")
	}
	// Dropped while a handle is out: the handle still reads the page's
	// bytes; a new OpenPage says it is gone.
	if err := s.DropPage(key(0)); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 100)
	if _, err := h1.File.ReadAt(data, h1.DataOffset); err != nil || !bytes.Equal(data, pageBytes(9, m.Path, 1, 0, testPage)[:100]) {
		t.Fatalf("handle after drop: %v", err)
	}
	h1.Close()
	h2.Close()
	if _, err := h2.File.ReadAt(data, 0); err == nil {
		t.Fatal("the last handle of a dropped page left its file open")
	}
	if _, err := s.OpenPage(key(0)); !errors.Is(err, ErrNotCached) {
		t.Fatalf("OpenPage after drop: %v", err)
	}
	// At most OpenPages files stay open: the least recently used closes
	// once no handle holds it.
	var first *os.File
	for i := uint32(1); i < 3; i++ {
		h, err := s.OpenPage(key(i))
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			first = h.File
		}
		h.Close()
	}
	m2 := putFile(t, s, "lake/t/d", "e", testPage, 9)
	h, err := s.OpenPage(PageKey{m2.ID, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if _, err := first.ReadAt(data, 0); err == nil {
		t.Fatal("the least recently used page file is still open beyond OpenPages")
	}
}

// TestReadsFormat1Pages: page files written by the previous format (64 KiB
// chunks) survive an upgrade: after a reopen they are read and verified
// with their own chunk size, next to format-2 pages, and corruption in them
// is still caught.
func TestReadsFormat1Pages(t *testing.T) {
	root := t.TempDir()
	cfg := testConfig(t, root)
	s := mustOpen(t, cfg)
	size := int64(testPage + 70_000)
	s.writeFormat1 = true
	old := putFile(t, s, "lake/t/old", "e", size, 7)
	s.writeFormat1 = false
	cur := putFile(t, s, "lake/t/new", "e", size, 8)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, cfg)
	defer s.Close()
	for _, c := range []struct {
		m     FileMeta
		seed  uint64
		chunk int
	}{{old, 7, legacyChunkSize}, {cur, 8, ChunkSize}} {
		for i := uint32(0); i < 2; i++ {
			n := int(min(testPage, size-int64(i)*testPage))
			want := pageBytes(c.seed, c.m.Path, c.m.Version, i, n)
			// Unaligned ranges make ReadPage verify partial chunks too.
			for _, off := range []int{0, 1, c.chunk - 1, n / 2} {
				buf := make([]byte, n-off)
				if _, err := s.ReadPage(PageKey{c.m.ID, c.m.Version, i}, int64(off), buf); err != nil && !errors.Is(err, io.EOF) {
					t.Fatalf("%s page %d at %d: %v", c.m.Path, i, off, err)
				}
				if !bytes.Equal(buf, want[off:]) {
					t.Fatalf("%s page %d at %d: wrong bytes", c.m.Path, i, off)
				}
			}
			h, err := s.OpenPage(PageKey{c.m.ID, c.m.Version, i})
			if err != nil {
				t.Fatal(err)
			}
			if h.ChunkSize != c.chunk || len(h.ChunkCRCs) != (n+c.chunk-1)/c.chunk {
				t.Fatalf("%s page %d: handle with %d-byte chunks, %d CRCs", c.m.Path, i, h.ChunkSize, len(h.ChunkCRCs))
			}
			for j, crc := range h.ChunkCRCs {
				if crc32c(want[j*c.chunk:min((j+1)*c.chunk, n)]) != crc {
					t.Fatalf("%s page %d chunk %d: CRC does not match the bytes", c.m.Path, i, j)
				}
			}
			h.Close()
		}
	}
	// A flipped byte in the last 64 KiB chunk of a format-1 page.
	names := pageFilesOf(t, cfg.Dirs[0].Path, old.ID)
	if len(names) == 0 {
		t.Fatal("no page files of the format-1 file")
	}
	f, err := os.OpenFile(names[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if _, err := f.ReadAt(b[:], DataOffset+legacyChunkSize+5); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b[:], DataOffset+legacyChunkSize+5); err != nil {
		t.Fatal(err)
	}
	f.Close()
	k, _, _ := parsePageName(filepath.Base(names[0]))
	if _, err := s.ReadPage(k, 0, make([]byte, testPage)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped byte in a format-1 page: %v, want ErrCorrupt", err)
	}
}

// pageFilesOf lists the page files of one file under dir.
func pageFilesOf(t testing.TB, dir string, id FileID) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(pageSubdir(dir, id), id.String()+"_*"+pageExt))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// countingFS counts Open calls (page files are opened for reading with Open).
type countingFS struct {
	OSFS
	opens atomic.Int64
}

func (c *countingFS) Open(name string) (*os.File, error) {
	c.opens.Add(1)
	return c.OSFS.Open(name)
}

// TestOpenPageConcurrentOpensOnce: callers that miss the open cache for the
// same page at once (the pieces of a split read) share one open, header
// check and mapping, and all get the same file.
func TestOpenPageConcurrentOpensOnce(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	fs := &countingFS{}
	cfg.FS = fs
	s := mustOpen(t, cfg)
	defer s.Close()
	m := putFile(t, s, "lake/t/o", "e", testPage, 4)
	before := fs.opens.Load()
	const callers = 16
	hs := make([]*PageHandle, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := s.OpenPage(PageKey{m.ID, 1, 0})
			if err != nil {
				t.Error(err)
				return
			}
			hs[i] = h
		}()
	}
	wg.Wait()
	if got := fs.opens.Load() - before; got != 1 {
		t.Errorf("%d opens of one page file by %d concurrent callers, want 1", got, callers)
	}
	for _, h := range hs {
		if h == nil || h.File != hs[0].File {
			t.Fatal("concurrent callers got different files")
		}
		h.Close()
	}
}
