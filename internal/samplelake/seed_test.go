package samplelake_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ringcache/ringcache/internal/samplelake"
)

// Figures README.md quotes for the whole table (count(*), sum(fare)); a
// change of the plan or the generator must update the README with them.
const (
	documentedRows      = 600_000
	documentedFareCents = 1_755_885_501 // 17,558,855.01
)

// seedLake seeds a fresh directory and returns it with the summary.
func seedLake(t *testing.T) (string, samplelake.Summary) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lake-root")
	start := time.Now()
	sum, err := samplelake.Seed(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d files, %d rows in %v", len(sum.Files), sum.Rows, time.Since(start))
	return dir, sum
}

func TestSeedWritesTheDocumentedTable(t *testing.T) {
	dir, sum := seedLake(t)
	if sum.Rows != documentedRows || sum.FareCents != documentedFareCents {
		t.Fatalf("table: %d rows, fare sum %d cents; README says %d, %d", sum.Rows, sum.FareCents, documentedRows, documentedFareCents)
	}
	var rows, cents int64
	parquetFiles := 0
	for _, f := range sum.Files {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() != f.Size {
			t.Errorf("%s: %d bytes on disk, summary says %d", f.Path, st.Size(), f.Size)
		}
		if !f.Parquet() {
			if f.Size != 0 {
				t.Errorf("marker %s: %d bytes", f.Path, f.Size)
			}
			continue
		}
		parquetFiles++
		rows += f.Rows
		cents += f.FareCents
		// Several 1 MiB pages a file, several row groups a file.
		if f.Size < 2<<20 || f.RowGroups < 2 {
			t.Errorf("%s: %d bytes, %d row groups; want >= 2 MiB and >= 2 row groups", f.Path, f.Size, f.RowGroups)
		}
	}
	if parquetFiles < 3 || rows != sum.Rows || cents != sum.FareCents {
		t.Errorf("%d Parquet files with %d rows, %d cents; summary totals %d, %d", parquetFiles, rows, cents, sum.Rows, sum.FareCents)
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	dirA, a := seedLake(t)
	dirB, b := seedLake(t)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("summaries differ:\n%+v\n%+v", a, b)
	}
	for _, f := range a.Files {
		da, err := os.ReadFile(filepath.Join(dirA, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		db, err := os.ReadFile(filepath.Join(dirB, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between two seeds", f.Path)
		}
	}
}

func TestSeedRefusesAnExistingBucket(t *testing.T) {
	dir, _ := seedLake(t)
	if _, err := samplelake.Seed(dir); !errors.Is(err, samplelake.ErrExists) {
		t.Fatalf("second Seed: %v, want ErrExists", err)
	}
	// Nothing is left beside dir: the bucket is built in a temporary
	// sibling that is removed.
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("entries beside the lake: %v", entries)
	}
}

func TestVerifyLocalFiles(t *testing.T) {
	dir, sum := seedLake(t)
	var idSum float64
	for _, f := range sum.Files {
		if !f.Parquet() {
			continue
		}
		fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		if err := samplelake.Verify(fh, f.Size, f); err != nil {
			t.Error(err)
		}
		wrong := f
		wrong.FareCents++
		if err := samplelake.Verify(fh, f.Size, wrong); !errors.Is(err, samplelake.ErrMismatch) {
			t.Errorf("%s against a wrong sum: %v, want ErrMismatch", f.Path, err)
		}
		sc, err := samplelake.ScanColumn(fh, f.Size, "id")
		if err != nil {
			t.Fatal(err)
		}
		if sc.Values != f.Rows {
			t.Errorf("%s: %d ids, want %d", f.Path, sc.Values, f.Rows)
		}
		idSum += sc.Sum
	}
	// IDs are 1..Rows over the table, each once.
	if want := float64(sum.Rows) * float64(sum.Rows+1) / 2; idSum != want {
		t.Errorf("ids sum to %.0f, want %.0f (1..%d)", idSum, want, sum.Rows)
	}
	if _, err := samplelake.ScanColumn(bytes.NewReader([]byte("not parquet at all")), 18, "fare"); err == nil {
		t.Error("ScanColumn of random bytes succeeded")
	}
}

func TestPathsAreTheSeededFiles(t *testing.T) {
	_, sum := seedLake(t)
	var got []string
	for _, f := range sum.Files {
		got = append(got, f.Path)
	}
	if want := samplelake.Paths(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Seed wrote %v, Paths says %v", got, want)
	}
}
