package storage

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ringcache/ringcache/storage/fb"
)

// faultFS is an errorfs-style FS: it passes every operation to the real
// filesystem unless the injection rule returns an error for it.
type faultFS struct {
	OSFS
	mu   sync.Mutex
	rule func(op, name string) error
	hits int
}

func (f *faultFS) inject(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rule == nil {
		return nil
	}
	err := f.rule(op, name)
	if err != nil {
		f.hits++
	}
	return err
}

func (f *faultFS) set(rule func(op, name string) error) {
	f.mu.Lock()
	f.rule, f.hits = rule, 0
	f.mu.Unlock()
}

func (f *faultFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if err := f.inject("create", name); err != nil {
		return nil, err
	}
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name}, nil
}

func (f *faultFS) Rename(o, n string) error {
	if err := f.inject("rename", n); err != nil {
		return err
	}
	return f.OSFS.Rename(o, n)
}

func (f *faultFS) SyncDir(d string) error {
	if err := f.inject("syncdir", d); err != nil {
		return err
	}
	return f.OSFS.SyncDir(d)
}

type faultFile struct {
	File
	fs   *faultFS
	name string
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.inject("write", f.name); err != nil {
		// A short write, like a full disk.
		n, _ := f.File.Write(p[:len(p)/2])
		return n, err
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if err := f.fs.inject("sync", f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func isPage(name string) bool {
	return strings.HasSuffix(name, pageExt+tmpExt) || strings.HasSuffix(name, pageExt)
}
func isJournal(name string) bool { return strings.Contains(name, "journal") }

func TestPageWriteFaults(t *testing.T) {
	enospc := &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}
	eio := &os.PathError{Op: "fsync", Path: "x", Err: syscall.EIO}
	cases := []struct {
		name string
		rule func(op, name string) error
		want error
	}{
		// ENOSPC (twice: PutPage tries once more after evicting) also
		// lowers the effective capacity; see the checks below.
		{"ENOSPC on write", func(op, n string) error {
			if op == "write" && isPage(n) {
				return enospc
			}
			return nil
		}, ErrNoSpace},
		{"ENOSPC on create", func(op, n string) error {
			if op == "create" && isPage(n) {
				return enospc
			}
			return nil
		}, ErrNoSpace},
		{"EIO on fsync", func(op, n string) error {
			if op == "sync" && isPage(n) {
				return eio
			}
			return nil
		}, syscall.EIO},
		{"EIO on rename", func(op, n string) error {
			if op == "rename" && isPage(n) {
				return eio
			}
			return nil
		}, syscall.EIO},
		{"EIO on dir fsync", func(op, n string) error {
			if op == "syncdir" && !isJournal(n) {
				return eio
			}
			return nil
		}, syscall.EIO},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ffs := &faultFS{}
			cfg := testConfig(t, t.TempDir())
			cfg.FS = ffs
			s := mustOpen(t, cfg)
			defer s.Close()
			m := putFile(t, s, "lake/t/a", "e", 2*testPage, 1)
			k := PageKey{m.ID, 1, 0}
			if err := s.DropPage(k); err != nil {
				t.Fatal(err)
			}
			journalBefore := s.Stats().JournalBytes
			ffs.set(c.rule)
			err := s.PutPage(k, pageBytes(1, m.Path, 1, 0, testPage))
			ffs.set(nil)
			if !errors.Is(err, c.want) {
				t.Fatalf("PutPage = %v, want %v", err, c.want)
			}
			if s.HasPage(k) {
				t.Fatal("failed page indexed")
			}
			full := errors.Is(c.want, ErrNoSpace)
			wantFiles, wantUsed := 1, int64(2*testPage)
			if full {
				checkCapacityLoweredAndBack(t, s)
				wantFiles, wantUsed = 0, testPage // page 1 was evicted
			}
			if got := s.Stats().JournalBytes; !full && got != journalBefore { // (full: page 1's eviction is journaled)
				t.Fatalf("journal grew from %d to %d on a failed put", journalBefore, got)
			}
			// No temp or page file left behind for page 0.
			if n := countPageFiles(t, cfg.Dirs[0].Path); n != wantFiles {
				t.Fatalf("%d page files on disk, want %d", n, wantFiles)
			}
			// Still usable.
			if err := s.PutPage(k, pageBytes(1, m.Path, 1, 0, testPage)); err != nil {
				t.Fatalf("PutPage after the fault: %v", err)
			}
			if got, err := readAllPage(t, s, k, testPage); err != nil || !bytes.Equal(got, pageBytes(1, m.Path, 1, 0, testPage)) {
				t.Fatalf("read after the fault: %v", err)
			}
			if st := s.Stats(); st.UsedBytes != wantUsed {
				t.Fatalf("usage %+v, want %d used", st, wantUsed)
			}
		})
	}
}

// checkCapacityLoweredAndBack checks the store after a put failed with
// ENOSPC: the disk "holds" no more than the store had, so it lowered the
// effective capacity (and evicted to make room). The real disk has room: the
// background check raises it back to the configured capacity.
func checkCapacityLoweredAndBack(t *testing.T, s *Store) {
	t.Helper()
	st := s.Stats()
	if st.EffectiveCapacityBytes >= st.CapacityBytes || st.UsedBytes > st.EffectiveCapacityBytes {
		t.Fatalf("after ENOSPC: %+v", st)
	}
	s.recheckCapacity()
	if st := s.Stats(); st.EffectiveCapacityBytes != st.CapacityBytes {
		t.Fatalf("after the re-check: %+v", st)
	}
}

func TestJournalFaultsFailTheStoreCleanly(t *testing.T) {
	for _, op := range []string{"write", "sync"} {
		t.Run(op, func(t *testing.T) {
			ffs := &faultFS{}
			cfg := testConfig(t, t.TempDir())
			cfg.FS = ffs
			s := mustOpen(t, cfg)
			m := putFile(t, s, "lake/t/a", "e", 2*testPage, 1)
			ffs.set(func(o, n string) error {
				if o == op && isJournal(n) {
					return syscall.EIO
				}
				return nil
			})
			k := PageKey{m.ID, 1, 1}
			s.DropPage(k) // may fail: the journal is failing
			err := s.PutPage(k, pageBytes(1, m.Path, 1, 1, testPage))
			if err == nil {
				t.Fatal("PutPage succeeded with a failing journal")
			}
			ffs.set(nil)
			// The store refuses mutations after a journal failure, still serves reads.
			if _, err := s.Upsert("lake/t/b", fp("e", 1), "", ""); err == nil {
				t.Fatal("Upsert accepted after a journal failure")
			}
			if got, err := readAllPage(t, s, PageKey{m.ID, 1, 0}, testPage); err != nil || !bytes.Equal(got, pageBytes(1, m.Path, 1, 0, testPage)) {
				t.Fatalf("read after journal failure: %v", err)
			}
			s.Close()
			// Reopen: consistent; what is indexed reads back right.
			s = mustOpen(t, cfg)
			defer s.Close()
			for i := uint32(0); i < 2; i++ {
				k := PageKey{m.ID, 1, i}
				if !s.HasPage(k) {
					continue
				}
				if got, err := readAllPage(t, s, k, testPage); err != nil || !bytes.Equal(got, pageBytes(1, m.Path, 1, i, testPage)) {
					t.Fatalf("page %d after reopen: %v", i, err)
				}
			}
			if n := countPageFiles(t, cfg.Dirs[0].Path); int64(n) != s.Stats().Pages {
				t.Fatalf("%d page files, %d indexed", n, s.Stats().Pages)
			}
		})
	}
}

func TestSnapshotFaultKeepsJournal(t *testing.T) {
	ffs := &faultFS{}
	cfg := testConfig(t, t.TempDir())
	cfg.FS = ffs
	s := mustOpen(t, cfg)
	putFile(t, s, "lake/t/a", "e", 2*testPage, 1)
	ffs.set(func(op, n string) error {
		if op == "sync" && strings.HasSuffix(n, snapExt+tmpExt) {
			return syscall.EIO
		}
		return nil
	})
	if err := s.Compact(); err == nil {
		t.Fatal("Compact succeeded with a failing snapshot fsync")
	}
	ffs.set(nil)
	putFile(t, s, "lake/t/b", "e", testPage, 2)
	s.Close()
	jf, _ := listJournal(OSFS{}, cfg.JournalDir)
	if len(jf.snaps) != 0 || len(jf.tmps) != 0 {
		t.Fatalf("failed snapshot left files: %+v", jf)
	}
	s = mustOpen(t, cfg)
	defer s.Close()
	if st := s.Stats(); st.Pages != 3 || st.Files != 2 {
		t.Fatalf("after reopen %+v", st)
	}
}

// TestGroupCommitSharesFsync holds the journal's first fsync, queues many
// appends behind it and checks that they all become durable with one more
// fsync.
func TestGroupCommitSharesFsync(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	syncs := 0
	hold := make(chan struct{})
	armed := false
	ffs := &faultFS{}
	j, err := openJournal(ffs, dir, 1, SyncAlways, DefaultSegmentBytes, map[uint64]int64{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	ffs.set(func(op, name string) error {
		if op != "sync" {
			return nil
		}
		mu.Lock()
		syncs++
		first := !armed
		armed = true
		mu.Unlock()
		if first {
			<-hold
		}
		return nil
	})
	frame := appendFrame(nil, newBuilder(), &record{kind: fb.KindForget})
	const writers = 20
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	write := func() {
		defer wg.Done()
		seq, err := j.append(frame)
		if err == nil {
			err = j.wait(seq)
		}
		errs <- err
	}
	wg.Add(1)
	go write()
	waitFor(t, "the first fsync to start", func() bool { mu.Lock(); defer mu.Unlock(); return armed })
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go write()
	}
	waitFor(t, "all appends queued", func() bool { j.mu.Lock(); defer j.mu.Unlock(); return j.appended == writers+1 })
	close(hold)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if syncs != 2 {
		t.Fatalf("%d fsyncs for %d appends, want 2 (group commit)", syncs, writers+1)
	}
}
