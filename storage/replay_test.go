package storage

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

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
