package samplelake

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"
)

// ErrExists is returned by Seed when the directory already holds the bucket.
var ErrExists = errors.New("samplelake: the sample bucket already exists")

// Bucket is the bucket (top-level directory) Seed writes.
const Bucket = "lake"

// TablePrefix is the table's prefix: what Spark reads as s3a://lake/trips/.
const TablePrefix = Bucket + "/trips/"

// seed is the fixed seed of the content; changing it changes every figure
// the docs quote.
const seed = 2026

// rowsPerRowGroup makes each file hold several row groups, as writers
// that flush by size (Spark's 128 MiB blocks, scaled down) do.
const rowsPerRowGroup = 50_000

// planned is one Parquet file of the table.
type planned struct {
	date time.Time
	part int
	rows int
}

// path is the file's ringcache path (bucket/key).
func (p planned) path() string {
	return fmt.Sprintf("%sdate=%s/part-%05d.parquet", TablePrefix, p.date.Format(time.DateOnly), p.part)
}

// plan is the table's files in ID order. Row counts differ so that file
// sizes (about 25 bytes a row) fall at various offsets of a 1 MiB page.
func plan() []planned {
	day := func(d int) time.Time { return time.Date(2026, time.January, d, 0, 0, 0, 0, time.UTC) }
	return []planned{
		{day(1), 0, 150_000},
		{day(1), 1, 105_000},
		{day(2), 0, 200_000},
		{day(3), 0, 145_000},
	}
}

// markers are empty files written beside the table: the _SUCCESS a Spark
// job commits with (engines skip names starting with "_").
func markers() []string { return []string{TablePrefix + "_SUCCESS"} }

// Paths are the ringcache paths of the files Seed writes, Parquet files
// first, in the order of Summary.Files.
func Paths() []string {
	var out []string
	for _, p := range plan() {
		out = append(out, p.path())
	}
	return append(out, markers()...)
}

// File describes one file Seed wrote.
type File struct {
	// Path is the ringcache path (bucket/key); the S3 gateway serves it
	// as /bucket/key.
	Path string
	// Size is the file's size in bytes.
	Size int64
	// Rows and RowGroups are 0 for a marker.
	Rows      int64
	RowGroups int
	// FareCents is the exact sum of the fare column, in cents.
	FareCents int64
}

// Parquet reports whether the file is a Parquet file (not a marker).
func (f File) Parquet() bool { return f.Rows > 0 }

// Summary is what Seed wrote: every file, and the totals a reader of the
// whole table (count(*), sum(fare)) must get.
type Summary struct {
	// Files in plan order, Parquet files first, then markers.
	Files []File
	// Rows is the table's row count.
	Rows int64
	// FareCents is the exact sum of fare over the table, in cents; a
	// double sum rounds to FareCents/100 at two decimals.
	FareCents int64
}

// Seed writes the sample lake into dir (the under-store root; created if
// missing): the bucket Bucket with the table under TablePrefix. It builds
// the bucket in a temporary sibling of dir and renames it into place, so an
// interrupted Seed leaves dir as it was. It refuses with ErrExists if dir
// already holds the bucket. The files are written concurrently, one
// goroutine per file; their bytes depend only on the plan and the fixed
// seed (and parquet-go's version).
func Seed(dir string) (Summary, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, err
	}
	dst := filepath.Join(dir, Bucket)
	if _, err := os.Lstat(dst); err == nil {
		return Summary{}, fmt.Errorf("%w: %s", ErrExists, dst)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".samplelake-")
	if err != nil {
		return Summary{}, err
	}
	defer os.RemoveAll(tmp)
	sum, err := write(tmp)
	if err != nil {
		return Summary{}, err
	}
	if err := os.Rename(filepath.Join(tmp, Bucket), dst); err != nil {
		return Summary{}, err
	}
	return sum, nil
}

// write writes the whole lake under root and sums it up.
func write(root string) (Summary, error) {
	files := plan()
	out := make([]File, len(files))
	var g errgroup.Group
	var firstID int64 = 1
	for i, p := range files {
		first := firstID
		g.Go(func() (err error) {
			out[i], err = writeTable(root, p, i, first)
			return err
		})
		firstID += int64(p.rows)
	}
	if err := g.Wait(); err != nil {
		return Summary{}, err
	}
	var sum Summary
	for _, f := range out {
		sum.Rows += f.Rows
		sum.FareCents += f.FareCents
	}
	for _, m := range markers() {
		if err := writeMarker(root, m); err != nil {
			return Summary{}, err
		}
		out = append(out, File{Path: m})
	}
	sum.Files = out
	return sum, nil
}

// writeTable writes the i-th planned file, whose first row has ID firstID.
func writeTable(root string, p planned, i int, firstID int64) (File, error) {
	name := filepath.Join(root, filepath.FromSlash(p.path()))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return File{}, err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	gen := tripGen{rng: rand.New(rand.NewPCG(seed, uint64(i))), nextID: firstID, day: p.date}
	w := parquet.NewGenericWriter[Trip](f, writerOptions()...)
	out := File{Path: p.path(), Rows: int64(p.rows)}
	batch := make([]Trip, 0, 4096)
	for n := 0; n < p.rows; n += len(batch) {
		batch = batch[:min(cap(batch), p.rows-n)]
		for j := range batch {
			var cents int64
			batch[j], cents = gen.next()
			out.FareCents += cents
		}
		if _, err := w.Write(batch); err != nil {
			return File{}, fmt.Errorf("%s: %w", p.path(), err)
		}
	}
	if err := w.Close(); err != nil {
		return File{}, fmt.Errorf("%s: %w", p.path(), err)
	}
	st, err := f.Stat()
	if err != nil {
		return File{}, err
	}
	out.Size = st.Size()
	out.RowGroups = (p.rows + rowsPerRowGroup - 1) / rowsPerRowGroup
	return out, f.Close()
}

// writerOptions are the ones Spark's defaults amount to: Snappy, version 1
// data pages (which every reader, old or new, decodes), row groups flushed
// at a fixed row count.
func writerOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(&parquet.Snappy),
		parquet.DataPageVersion(1),
		parquet.MaxRowsPerRowGroup(rowsPerRowGroup),
	}
}

// writeMarker writes an empty file at the ringcache path p under root.
func writeMarker(root, p string) error {
	name := filepath.Join(root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, nil, 0o644)
}
