package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/ringcache/ringcache/storage/fb"
)

// writeSyntheticJournal writes a journal of files x pagesPerFile PagePut
// records (plus one File record per file) as one segment, without page
// files, and returns the record count.
func writeSyntheticJournal(t testing.TB, dir string, files, pagesPerFile int, pageSize int64) int {
	b := newBuilder()
	buf := []byte(segmentMagic)
	n := 0
	gen := uint64(0)
	for f := 0; f < files; f++ {
		path := fmt.Sprintf("lake/db/t%d/part-%05d.parquet", f%100, f)
		size := int64(pagesPerFile) * pageSize
		fr := record{kind: fb.KindFile, file: FileIDOf(path), version: 1, path: path, etag: "\"0123456789abcdef\"",
			size: size, mtimeNs: 1700000000e9, scope: filepath.Dir(path), lastAccess: 1700000000e9}
		buf = appendFrame(buf, b, &fr)
		n++
		for i := 0; i < pagesPerFile; i++ {
			gen++
			pr := record{kind: fb.KindPagePut, file: fr.file, version: 1, index: uint32(i), length: uint32(pageSize), crc: uint32(gen * 2654435761), gen: gen}
			buf = appendFrame(buf, b, &pr)
			n++
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(segName(dir, 1), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkReplay1M replays a journal of 1,000,000 page records (and 1,000
// file records) into an empty index: the journal part of Open (reading,
// CRC, FlatBuffers decode, index build). Reconcile with the page files is
// measured by BenchmarkOpen.
func BenchmarkReplay1M(b *testing.B) {
	dir := b.TempDir()
	n := writeSyntheticJournal(b, dir, 1000, 1000, DefaultPageSize)
	cfg := Config{Dirs: []DirConfig{{Path: dir, Capacity: 1 << 40}}, JournalDir: dir, FS: noSyncFS{}}.withDefaults()
	st, _ := os.Stat(segName(dir, 1))
	b.SetBytes(st.Size())
	b.ResetTimer()
	var s *Store
	for i := 0; i < b.N; i++ {
		s = newStore(cfg)
		if _, _, err := s.replay(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if int(s.replayRecords) != n || len(s.recs) != 1_000_000 {
		b.Fatalf("replayed %d records, %d pages", s.replayRecords, len(s.recs))
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(n)/sec, "records/s")
	b.ReportMetric(sec, "s/replay")
}

// BenchmarkOpen measures a whole Open (replay + reconcile with real page
// files + start) of a store holding 50,000 pages (sparse files of the right
// size: reconcile checks names and sizes, not data).
func BenchmarkOpen(b *testing.B) {
	root := b.TempDir()
	const files, per = 50, 1000
	jdir := filepath.Join(root, "journal")
	n := writeSyntheticJournal(b, jdir, files, per, MinPageSize)
	cfg := Config{Dirs: []DirConfig{{Path: filepath.Join(root, "pages"), Capacity: 1 << 40}}, JournalDir: jdir, PageSize: MinPageSize}
	s := mustOpen(b, Config{Dirs: cfg.Dirs, JournalDir: b.TempDir(), PageSize: MinPageSize}) // creates the subdirs
	s.Close()
	gen := uint64(0)
	for f := 0; f < files; f++ {
		id := FileIDOf(fmt.Sprintf("lake/db/t%d/part-%05d.parquet", f%100, f))
		for i := 0; i < per; i++ {
			gen++
			name := pageFileName(cfg.Dirs[0].Path, PageKey{id, 1, uint32(i)}, gen)
			fh, err := os.Create(name)
			if err != nil {
				b.Fatal(err)
			}
			fh.Truncate(DataOffset + MinPageSize)
			fh.Close()
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if st := s.Stats(); st.Pages != files*per {
			b.Fatalf("open: %+v", st)
		}
		s.Close()
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(sec, "s/open")
	b.ReportMetric(float64(files*per)/sec, "pages/s")
	_ = n
}

const benchPages = 64

// BenchmarkReadPage compares ReadPage of whole 1 MiB pages (CRC-verified,
// open+header+pread+close per call) with a raw pread loop over the same
// files kept open, both from a warm page cache.
func BenchmarkReadPage(b *testing.B) {
	root := b.TempDir()
	cfg := Config{Dirs: []DirConfig{{Path: filepath.Join(root, "pages"), Capacity: 1 << 30}}, JournalDir: filepath.Join(root, "j"), Sync: SyncAlways}
	s := mustOpen(b, cfg)
	defer s.Close()
	m := putFile(b, s, "lake/t/bench", "e", benchPages*DefaultPageSize, 1)
	buf := make([]byte, DefaultPageSize)
	// Warm the page cache.
	for i := 0; i < benchPages; i++ {
		if _, err := s.ReadPage(PageKey{m.ID, 1, uint32(i)}, 0, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("store", func(b *testing.B) {
		b.SetBytes(DefaultPageSize)
		for i := 0; i < b.N; i++ {
			if _, err := s.ReadPage(PageKey{m.ID, 1, uint32(i % benchPages)}, 0, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store-parallel", func(b *testing.B) {
		b.SetBytes(DefaultPageSize)
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, DefaultPageSize)
			i := 0
			for pb.Next() {
				if _, err := s.ReadPage(PageKey{m.ID, 1, uint32(i % benchPages)}, 0, buf); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
	// The byte-stream path: OpenPage (header verified) + pread of the data;
	// the remote reader verifies the chunk CRCs.
	b.Run("openpage-pread", func(b *testing.B) {
		b.SetBytes(DefaultPageSize)
		for i := 0; i < b.N; i++ {
			h, err := s.OpenPage(PageKey{m.ID, 1, uint32(i % benchPages)})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := h.File.ReadAt(buf, h.DataOffset); err != nil {
				b.Fatal(err)
			}
			h.Close()
		}
	})
	// The CRC32C of 1 MiB alone: the floor ReadPage adds to a raw pread.
	b.Run("crc32c-only", func(b *testing.B) {
		b.SetBytes(DefaultPageSize)
		for i := 0; i < b.N; i++ {
			for o := 0; o < len(buf); o += ChunkSize {
				crc32c(buf[o : o+ChunkSize])
			}
		}
	})
	var fs []*os.File
	s.mu.RLock()
	for i := 0; i < benchPages; i++ {
		f, err := os.Open(s.nameOf(s.slotOf(s.ftab[s.files[m.ID]], uint32(i))))
		if err != nil {
			b.Fatal(err)
		}
		fs = append(fs, f)
	}
	s.mu.RUnlock()
	defer func() {
		for _, f := range fs {
			f.Close()
		}
	}()
	b.Run("raw-pread", func(b *testing.B) {
		b.SetBytes(DefaultPageSize)
		for i := 0; i < b.N; i++ {
			if _, err := fs[i%benchPages].ReadAt(buf, DataOffset); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-pread-parallel", func(b *testing.B) {
		b.SetBytes(DefaultPageSize)
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, DefaultPageSize)
			i := 0
			for pb.Next() {
				if _, err := fs[i%benchPages].ReadAt(buf, DataOffset); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// BenchmarkPutPage compares PutPage of 1 MiB pages with a raw sequential
// write of the same bytes under the same fsync policy: SyncAlways vs
// write+fsync per MiB; the default 10ms group commit vs plain writes.
func BenchmarkPutPage(b *testing.B) {
	data := pageBytes(1, "x", 1, 0, DefaultPageSize)
	for _, pol := range []struct {
		name string
		sync SyncPolicy
	}{{"always", SyncAlways}, {"interval10ms", 0}} {
		b.Run("store/"+pol.name, func(b *testing.B) {
			root := b.TempDir()
			cfg := Config{Dirs: []DirConfig{{Path: filepath.Join(root, "pages"), Capacity: 1 << 40}}, JournalDir: filepath.Join(root, "j"), Sync: pol.sync}
			s := mustOpen(b, cfg)
			defer s.Close()
			m, err := s.Upsert("lake/t/w", fp("e", int64(b.N)*DefaultPageSize), "", "")
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(DefaultPageSize)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.PutPage(PageKey{m.ID, 1, uint32(i)}, data); err != nil {
					b.Fatal(err)
				}
			}
		})
		// 16 concurrent writers: journal fsyncs are shared (group commit).
		b.Run("store-parallel16/"+pol.name, func(b *testing.B) {
			root := b.TempDir()
			cfg := Config{Dirs: []DirConfig{{Path: filepath.Join(root, "pages"), Capacity: 1 << 40}}, JournalDir: filepath.Join(root, "j"), Sync: pol.sync}
			s := mustOpen(b, cfg)
			defer s.Close()
			m, err := s.Upsert("lake/t/w", fp("e", int64(b.N+64)*DefaultPageSize), "", "")
			if err != nil {
				b.Fatal(err)
			}
			var next atomic.Uint32
			b.SetBytes(DefaultPageSize)
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.PutPage(PageKey{m.ID, 1, next.Add(1) - 1}, data); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("raw/"+pol.name, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(DefaultPageSize)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := f.Write(data); err != nil {
					b.Fatal(err)
				}
				if pol.sync == SyncAlways {
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// indexMemoryPerPage builds an index of files x per pages through the
// replay and reconcile code paths (no disk) and returns the heap growth per
// page.
func indexMemoryPerPage(t testing.TB, files, per int) float64 {
	cfg := Config{Dirs: []DirConfig{{Path: "/nonexistent", Capacity: 1 << 50}}, JournalDir: "/nonexistent", FS: noSyncFS{}}.withDefaults()
	recs := make([]record, 0, files*(per+1))
	for f := 0; f < files; f++ {
		path := fmt.Sprintf("lake/db/t%d/part-%05d.parquet", f%100, f)
		id := FileIDOf(path)
		recs = append(recs, record{kind: fb.KindFile, file: id, version: 1, path: path, size: int64(per) * DefaultPageSize, scope: filepath.Dir(path)})
		for i := 0; i < per; i++ {
			recs = append(recs, record{kind: fb.KindPagePut, file: id, version: 1, index: uint32(i), length: DefaultPageSize, gen: uint64(len(recs))})
		}
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := newStore(cfg)
	for i := range recs {
		s.apply(&recs[i])
	}
	for id := range s.recs {
		s.recs[id].setDir(0)
		s.account(int32(id), s.ftab[s.recs[id].file], true)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	pages := len(s.recs)
	if pages != files*per {
		t.Fatalf("%d pages indexed", pages)
	}
	perPage := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(pages)
	runtime.KeepAlive(s)
	runtime.KeepAlive(recs)
	return perPage
}

func TestIndexMemoryPerPage(t *testing.T) {
	perPage := indexMemoryPerPage(t, 200, 1000)
	t.Logf("index memory: %.1f bytes per cached page (200,000 pages, file metadata included)", perPage)
	if perPage > 128 {
		t.Fatalf("%.1f bytes per page, goal <= 128", perPage)
	}
}

func BenchmarkIndexMemory1M(b *testing.B) {
	var perPage float64
	for i := 0; i < b.N; i++ {
		perPage = indexMemoryPerPage(b, 1000, 1000)
	}
	b.ReportMetric(perPage, "B/page")
}
