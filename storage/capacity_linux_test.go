package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs of size bytes at a new directory and unmounts
// it when the test ends; it skips the test when mounting is not permitted
// (not root): TestFullSimulatedDiskNewHotSetGetsCached covers that case.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+itoa(int(size>>10))+"k")
	if errors.Is(err, unix.EPERM) {
		t.Skipf("cannot mount a tmpfs here (%v); the simulated disk test covers this", err)
	}
	if err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

// TestFullTmpfsNewHotSetGetsCached is the full-disk scenario on a real 8 MiB
// filesystem and a configured capacity of 1 GiB.
func TestFullTmpfsNewHotSetGetsCached(t *testing.T) {
	t.Run("small disk", func(t *testing.T) {
		// The journal shares the disk, as node lays it out.
		disk := mountTmpfs(t, diskTestSize)
		cfg := diskTestConfig(filepath.Join(disk, "pages"), filepath.Join(disk, "journal"))
		checkNewHotSetCached(t, cfg, diskTestSize, nil)
	})
	t.Run("shared disk filled after Open", func(t *testing.T) {
		// Other data takes half the disk after Open: the store learns it
		// from ENOSPC. The journal is elsewhere here: a journal append that
		// hits ENOSPC fails the whole store, and which write hits a full
		// disk first is a matter of block rounding.
		disk := mountTmpfs(t, diskTestSize)
		cfg := diskTestConfig(filepath.Join(disk, "pages"), filepath.Join(t.TempDir(), "journal"))
		checkNewHotSetCached(t, cfg, diskTestSize, func() {
			if err := os.WriteFile(filepath.Join(disk, "other-data"), make([]byte, diskTestSize/2), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	})
}
