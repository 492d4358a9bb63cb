package storage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

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
