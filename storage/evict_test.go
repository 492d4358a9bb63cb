package storage

import (
	"errors"
	"fmt"
	"testing"
)

func smallPageConfig(t testing.TB, capPages int64) Config {
	cfg := testConfig(t, t.TempDir())
	cfg.PageSize = MinPageSize
	cfg.Dirs[0].Capacity = capPages * MinPageSize
	return cfg
}

func TestEvictionKeepsCapacity(t *testing.T) {
	cfg := smallPageConfig(t, 10)
	s := mustOpen(t, cfg)
	defer s.Close()
	for f := 0; f < 6; f++ {
		putFile(t, s, fmt.Sprintf("lake/t/%d", f), "e", 5*MinPageSize, 1)
		if st := s.Stats(); st.UsedBytes > cfg.Dirs[0].Capacity {
			t.Fatalf("over capacity: %+v", st)
		}
	}
	st := s.Stats()
	if st.Pages != 10 || st.Evictions != 20 {
		t.Fatalf("stats %+v", st)
	}
	if n := countPageFiles(t, cfg.Dirs[0].Path); n != 10 {
		t.Fatalf("%d page files on disk, want 10", n)
	}
	// The newest file is fully cached; the oldest is gone.
	m0, _ := s.Lookup("lake/t/0")
	m5, _ := s.Lookup("lake/t/5")
	if s.HasPage(PageKey{m0.ID, 1, 0}) || !s.HasPage(PageKey{m5.ID, 1, 4}) {
		t.Fatal("FIFO order not respected for one-hit pages")
	}
}

func TestPinnedNeverEvicted(t *testing.T) {
	cfg := smallPageConfig(t, 6)
	s := mustOpen(t, cfg)
	defer s.Close()
	pinned := putFile(t, s, "lake/p/hot", "e", 4*MinPageSize, 1)
	if err := s.SetPinned("lake/p/hot", true); err != nil {
		t.Fatal(err)
	}
	for f := 0; f < 5; f++ {
		putFile(t, s, fmt.Sprintf("lake/t/%d", f), "e", 2*MinPageSize, 1)
	}
	for i := uint32(0); i < 4; i++ {
		if !s.HasPage(PageKey{pinned.ID, 1, i}) {
			t.Fatalf("pinned page %d evicted", i)
		}
	}
	// Everything pinned and full: ErrNoSpace.
	for f := 0; f < 5; f++ {
		s.SetPinned(fmt.Sprintf("lake/t/%d", f), true)
	}
	m, _ := s.Upsert("lake/t/new", fp("e", MinPageSize), "", "")
	if err := s.PutPage(PageKey{m.ID, 1, 0}, make([]byte, MinPageSize)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("PutPage with everything pinned: %v", err)
	}
	// Pin state survives a restart; unpinning makes pages evictable again.
	s.Close()
	s = mustOpen(t, cfg)
	defer s.Close()
	if got, _ := s.Lookup("lake/p/hot"); !got.Pinned {
		t.Fatal("pin lost on reopen")
	}
	if err := s.PutPage(PageKey{m.ID, 1, 0}, make([]byte, MinPageSize)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("PutPage after reopen: %v", err)
	}
	if err := s.SetPinned("lake/p/hot", false); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPage(PageKey{m.ID, 1, 0}, make([]byte, MinPageSize)); err != nil {
		t.Fatalf("PutPage after unpin: %v", err)
	}
	if err := s.SetPinned("lake/none", true); !errors.Is(err, ErrUnknownFile) {
		t.Fatalf("pin unknown: %v", err)
	}
}

func TestScopeQuotaEvictsInsideScope(t *testing.T) {
	cfg := smallPageConfig(t, 20)
	cfg.ScopeQuotas = map[string]int64{"lake/db/t1/": 4 * MinPageSize, "lake/db/": 12 * MinPageSize}
	s := mustOpen(t, cfg)
	defer s.Close()
	other := putFile(t, s, "lake/other/x", "e", 6*MinPageSize, 1)
	for f := 0; f < 3; f++ {
		putFile(t, s, fmt.Sprintf("lake/db/t1/%d", f), "e", 3*MinPageSize, 1)
	}
	st := s.Stats()
	for _, sc := range st.Scopes {
		if sc.UsedBytes > sc.QuotaBytes {
			t.Fatalf("scope over quota: %+v", sc)
		}
		if sc.Prefix == "lake/db/t1/" && sc.UsedBytes != 4*MinPageSize {
			t.Fatalf("t1 usage %+v", sc)
		}
	}
	for i := uint32(0); i < 6; i++ {
		if !s.HasPage(PageKey{other.ID, 1, i}) {
			t.Fatalf("page %d outside the scope was evicted", i)
		}
	}
	// lake/db/ (without t1) has its own quota.
	for f := 0; f < 3; f++ {
		putFile(t, s, fmt.Sprintf("lake/db/t2/%d", f), "e", 5*MinPageSize, 1)
	}
	for _, sc := range s.Stats().Scopes {
		if sc.UsedBytes > sc.QuotaBytes {
			t.Fatalf("scope over quota: %+v", sc)
		}
	}
	if s.Stats().UsedBytes > cfg.Dirs[0].Capacity {
		t.Fatal("over capacity")
	}
}

func TestCapacityShrinkAtOpen(t *testing.T) {
	cfg := smallPageConfig(t, 20)
	s := mustOpen(t, cfg)
	for f := 0; f < 4; f++ {
		putFile(t, s, fmt.Sprintf("lake/t/%d", f), "e", 5*MinPageSize, 1)
	}
	s.Close()
	cfg.Dirs[0].Capacity = 7 * MinPageSize
	s = mustOpen(t, cfg)
	st := s.Stats()
	if st.UsedBytes != 7*MinPageSize || st.Pages != 7 {
		t.Fatalf("after shrink %+v", st)
	}
	if n := countPageFiles(t, cfg.Dirs[0].Path); n != 7 {
		t.Fatalf("%d page files on disk", n)
	}
	s.Close()
	s = mustOpen(t, cfg)
	defer s.Close()
	if st := s.Stats(); st.Pages != 7 || st.ReplayDroppedPages != 0 {
		t.Fatalf("second reopen %+v", st)
	}
}

func TestS3FIFOKeepsHotPagesThroughAScan(t *testing.T) {
	cfg := smallPageConfig(t, 20)
	cfg.Sync = 0
	s := mustOpen(t, cfg)
	defer s.Close()
	hot := putFile(t, s, "lake/t/hot", "e", 5*MinPageSize, 1)
	buf := make([]byte, 16)
	for i := uint32(0); i < 5; i++ {
		if _, err := s.ReadPage(PageKey{hot.ID, 1, i}, 0, buf); err != nil {
			t.Fatal(err)
		}
	}
	// A scan three times the cache size.
	for f := 0; f < 12; f++ {
		putFile(t, s, fmt.Sprintf("lake/t/scan%d", f), "e", 5*MinPageSize, 1)
	}
	for i := uint32(0); i < 5; i++ {
		if !s.HasPage(PageKey{hot.ID, 1, i}) {
			t.Fatalf("hot page %d evicted by a scan", i)
		}
	}
}

// A reader's cache context (the scope) places a file in a quota even when
// its path is elsewhere: Presto hands the table's scope, not a path prefix.
func TestScopeQuotaMatchesTheFilesScope(t *testing.T) {
	cfg := smallPageConfig(t, 20)
	cfg.ScopeQuotas = map[string]int64{"db1/t1": 3 * MinPageSize}
	s := mustOpen(t, cfg)
	defer s.Close()
	for f := 0; f < 3; f++ {
		p := fmt.Sprintf("lake/files/%d", f)
		m, err := s.Upsert(p, fp("e", 2*MinPageSize), "", "db1/t1/p=1")
		if err != nil {
			t.Fatal(err)
		}
		for i := uint32(0); i < 2; i++ {
			if err := s.PutPage(PageKey{m.ID, m.Version, i}, pageBytes(1, p, m.Version, i, MinPageSize)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, sc := range s.Stats().Scopes {
		if sc.Prefix == "db1/t1" && (sc.UsedBytes > sc.QuotaBytes || sc.UsedBytes != 3*MinPageSize) {
			t.Fatalf("scope db1/t1: %+v", sc)
		}
	}
	if s.Stats().UsedBytes != 3*MinPageSize {
		t.Fatalf("used %d, want the quota's %d", s.Stats().UsedBytes, 3*MinPageSize)
	}
	// A file with another scope is not charged to the quota.
	putFile(t, s, "lake/files/free", "e", 5*MinPageSize, 1)
	if s.Stats().UsedBytes != 8*MinPageSize {
		t.Fatalf("used %d after an unscoped file", s.Stats().UsedBytes)
	}
}
