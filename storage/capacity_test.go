package storage

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// smallDiskFS simulates a small filesystem under root: writes of files
// under it fail with ENOSPC (after a short write, as a full disk does) once
// size bytes are used, removals give the bytes back, and freeBytes reports
// what is left. Other files (the journal) are not counted.
type smallDiskFS struct {
	OSFS
	root string
	mu   sync.Mutex
	size int64
	used int64
}

func (f *smallDiskFS) under(name string) bool { return strings.HasPrefix(name, f.root+"/") }

func (f *smallDiskFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil || !f.under(name) {
		return file, err
	}
	return &smallDiskFile{File: file, fs: f, name: name}, nil
}

func (f *smallDiskFS) Remove(name string) error {
	var size int64
	if fi, err := os.Stat(name); err == nil && f.under(name) && !fi.IsDir() {
		size = fi.Size()
	}
	if err := f.OSFS.Remove(name); err != nil {
		return err
	}
	f.mu.Lock()
	f.used -= size
	f.mu.Unlock()
	return nil
}

func (f *smallDiskFS) freeBytes(dir string) (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return max(f.size-f.used, 0), true
}

// shrink takes n bytes away, as other data written to a shared disk does.
func (f *smallDiskFS) shrink(n int64) {
	f.mu.Lock()
	f.size -= n
	f.mu.Unlock()
}

type smallDiskFile struct {
	File
	fs   *smallDiskFS
	name string
}

func (w *smallDiskFile) Write(p []byte) (int, error) {
	w.fs.mu.Lock()
	n := int(min(int64(len(p)), max(w.fs.size-w.fs.used, 0)))
	w.fs.used += int64(n)
	w.fs.mu.Unlock()
	if n < len(p) {
		m, _ := w.File.Write(p[:n])
		return m, &os.PathError{Op: "write", Path: w.name, Err: syscall.ENOSPC}
	}
	return w.File.Write(p)
}

const (
	diskTestPage = 64 << 10
	diskTestSize = 8 << 20
)

// diskTestConfig is a store whose configured capacity (1 GiB) is far above
// the disk it runs on.
func diskTestConfig(pages, journal string) Config {
	return Config{
		Dirs:       []DirConfig{{Path: pages, Capacity: 1 << 30}},
		JournalDir: journal,
		PageSize:   diskTestPage,
	}
}

// checkNewHotSetCached fills the disk with hot set A (more pages than it
// holds), then writes hot set B: B must be cached (every read hits) and A
// evicted to make room; at most one ENOSPC may surface (none does with the
// retry, but the first one is what teaches the store its real capacity).
// shared, if not nil, is run after Open: other data taking space.
func checkNewHotSetCached(t *testing.T, cfg Config, diskSize int64, shared func()) {
	s := mustOpen(t, cfg)
	t.Cleanup(func() { s.Close() })
	atOpen := s.Stats().EffectiveCapacityBytes
	if shared != nil {
		shared()
	}
	full := 0
	put := func(path string, pages int) FileMeta {
		m, err := s.Upsert(path, fp("e", int64(pages)*diskTestPage), "", "")
		if err != nil {
			t.Fatal(err)
		}
		for i := uint32(0); i < uint32(pages); i++ {
			err := s.PutPage(PageKey{m.ID, m.Version, i}, pageBytes(1, path, m.Version, i, diskTestPage))
			switch {
			case errors.Is(err, ErrNoSpace):
				full++
				t.Logf("%s page %d: %v", path, i, err)
			case err != nil:
				t.Fatalf("%s page %d: %v", path, i, err)
			}
		}
		return m
	}
	cached := func(m FileMeta, pages int) int {
		n := 0
		for i := uint32(0); i < uint32(pages); i++ {
			if s.HasPage(PageKey{m.ID, m.Version, i}) {
				n++
			}
		}
		return n
	}
	const aPages, bPages = 200, 40 // A: 12.5 MiB, more than the disk; B: 2.5 MiB
	a := put("lake/a/hot", aPages)
	st := s.Stats()
	aBefore := cached(a, aPages)
	t.Logf("after A: %d A pages cached, used %d, effective capacity %d (configured %d)",
		aBefore, st.UsedBytes, st.EffectiveCapacityBytes, st.CapacityBytes)
	if st.EffectiveCapacityBytes >= diskSize || st.UsedBytes > st.EffectiveCapacityBytes {
		t.Fatalf("effective capacity %d not below the %d-byte disk (used %d)", st.EffectiveCapacityBytes, diskSize, st.UsedBytes)
	}
	if shared != nil && st.EffectiveCapacityBytes >= atOpen {
		t.Fatalf("effective capacity %d not lowered from %d by the disk filling up", st.EffectiveCapacityBytes, atOpen)
	}
	if aBefore == 0 {
		t.Fatal("no page of A cached")
	}
	fullAfterA := full
	b := put("lake/b/hot", bPages)
	if full > fullAfterA || full > 1 {
		t.Fatalf("%d ENOSPC errors surfaced (%d while writing B)", full, full-fullAfterA)
	}
	for i := uint32(0); i < bPages; i++ {
		k := PageKey{b.ID, b.Version, i}
		got, err := readAllPage(t, s, k, diskTestPage)
		if err != nil || !bytes.Equal(got, pageBytes(1, b.Path, b.Version, i, diskTestPage)) {
			t.Fatalf("read of B page %d: %v (a miss: the new hot set was not cached)", i, err)
		}
	}
	aAfter := cached(a, aPages)
	st = s.Stats()
	t.Logf("after B: %d A pages cached, %d B, used %d, effective %d, evictions %d",
		aAfter, cached(b, bPages), st.UsedBytes, st.EffectiveCapacityBytes, st.Evictions)
	if aAfter > aBefore-bPages+spaceMarginPages {
		t.Fatalf("A kept %d of %d pages after B's %d came in: not evicted", aAfter, aBefore, bPages)
	}
}

// TestFullSimulatedDiskNewHotSetGetsCached runs the full-disk scenario on a
// simulated small disk, so it runs everywhere (see capacity_linux_test.go
// for a real tmpfs).
func TestFullSimulatedDiskNewHotSetGetsCached(t *testing.T) {
	for _, shared := range []bool{false, true} {
		name := map[bool]string{false: "small disk", true: "shared disk filled after Open"}[shared]
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			sfs := &smallDiskFS{root: filepath.Join(root, "disk"), size: diskTestSize}
			cfg := diskTestConfig(filepath.Join(sfs.root, "pages"), filepath.Join(root, "journal"))
			cfg.FS = sfs
			var fill func()
			if shared {
				fill = func() { sfs.shrink(diskTestSize / 2) }
			}
			checkNewHotSetCached(t, cfg, diskTestSize, fill)
		})
	}
}

// TestOpenWarnsWhenCapacityExceedsFreeSpace checks that Open starts with an
// effective capacity the data dir's filesystem can hold, and says so.
func TestOpenWarnsWhenCapacityExceedsFreeSpace(t *testing.T) {
	root := t.TempDir()
	var logs bytes.Buffer
	sfs := &smallDiskFS{root: filepath.Join(root, "disk"), size: diskTestSize}
	cfg := diskTestConfig(filepath.Join(sfs.root, "pages"), filepath.Join(root, "journal"))
	cfg.FS = sfs
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s := mustOpen(t, cfg)
	defer s.Close()
	st := s.Stats()
	// 8 MiB hold 120 pages of 64 KiB with their 4 KiB headers; less the
	// margin of 4 pages.
	if want := int64(116 * diskTestPage); st.EffectiveCapacityBytes != want || st.Dirs[0].EffectiveCapacityBytes != want {
		t.Errorf("effective capacity %d (dir %d), want %d", st.EffectiveCapacityBytes, st.Dirs[0].EffectiveCapacityBytes, want)
	}
	if st.CapacityBytes != 1<<30 {
		t.Errorf("configured capacity %d", st.CapacityBytes)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "capacity exceeds the free space") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}

	// Space coming back raises it again, up to the configured capacity.
	sfs.shrink(-1 << 40)
	s.recheckCapacity()
	if st := s.Stats(); st.EffectiveCapacityBytes != 1<<30 {
		t.Errorf("after the disk grew: effective capacity %d, want %d", st.EffectiveCapacityBytes, 1<<30)
	}

	// On the real disk: 1 PiB is more than this machine's free space.
	cfg = diskTestConfig(filepath.Join(root, "real", "pages"), filepath.Join(root, "real", "journal"))
	cfg.Dirs[0].Capacity = 1 << 50
	s2 := mustOpen(t, cfg)
	defer s2.Close()
	if free, ok := (OSFS{}).freeBytes(root); ok {
		if st := s2.Stats(); st.EffectiveCapacityBytes >= 1<<50 || st.EffectiveCapacityBytes > free {
			t.Errorf("real disk with %d bytes free: effective capacity %d", free, st.EffectiveCapacityBytes)
		}
	}
}
