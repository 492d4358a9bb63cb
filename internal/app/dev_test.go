package app

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ringcache/ringcache/internal/samplelake"
)

// dev seeds a missing or empty directory with the sample lake, and leaves
// a directory that holds anything alone.
func TestSeedLakeOnlyWhenEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing", "lake")
	seeded, err := seedLake(dir)
	if err != nil || !seeded {
		t.Fatalf("missing dir: seeded %v, %v", seeded, err)
	}
	for _, p := range samplelake.Paths() {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			t.Error(err)
		}
	}
	if seeded, err := seedLake(dir); err != nil || seeded {
		t.Fatalf("seeded dir: seeded %v, %v", seeded, err)
	}

	own := t.TempDir()
	if err := os.WriteFile(filepath.Join(own, "mine"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if seeded, err := seedLake(own); err != nil || seeded {
		t.Fatalf("user's dir: seeded %v, %v", seeded, err)
	}
	if entries, _ := os.ReadDir(own); len(entries) != 1 {
		t.Errorf("user's dir now holds %v", entries)
	}
}
