package samplelake

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// ErrMismatch is returned by Verify when a file read back differs from what
// Seed wrote.
var ErrMismatch = errors.New("samplelake: file differs from the seeded one")

// FooterReadSize is the length of ScanColumn's first read, at the end of
// the file: enough for the footer of any sample file in one ranged read, as
// engines read it (Trino reads 48 KiB, parquet-mr the length then the
// footer).
const FooterReadSize = 64 << 10

// Scan is what ScanColumn read.
type Scan struct {
	// Rows is the row count of the footer.
	Rows int64
	// RowGroups is the number of row groups of the footer.
	RowGroups int
	// Values is the number of non-null values decoded from the column's
	// pages; for the sample's required columns it equals Rows.
	Values int64
	// Sum is the sum of the column's values, in file order.
	Sum float64
}

// ScanColumn reads one numeric column (INT32, INT64, FLOAT or DOUBLE) of the
// Parquet file of the given size over r the way query engines do: first
// one ranged read of the last FooterReadSize bytes (or the whole file if
// smaller) for the footer, then one ranged read per row group of that
// column's chunk, nothing else (no header magic, page index or bloom
// filters). So r sees exactly 1 + RowGroups reads, and a test can serve r
// through the Go SDK's client.File or through S3 ranged GETs.
func ScanColumn(r io.ReaderAt, size int64, column string) (Scan, error) {
	f, err := parquet.OpenFile(r, size,
		parquet.SkipMagicBytes(true), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true),
		parquet.OptimisticRead(true), parquet.ReadBufferSize(FooterReadSize))
	if err != nil {
		return Scan{}, err
	}
	leaf, ok := f.Schema().Lookup(column)
	if !ok {
		return Scan{}, fmt.Errorf("samplelake: no column %q", column)
	}
	sc := Scan{Rows: f.NumRows(), RowGroups: len(f.RowGroups())}
	for i, rg := range f.RowGroups() {
		chunk, ok := rg.ColumnChunks()[leaf.ColumnIndex].(*parquet.FileColumnChunk)
		if !ok {
			return Scan{}, fmt.Errorf("samplelake: row group %d: not a file column chunk", i)
		}
		mem, err := readChunk(r, f.Metadata().RowGroups[i].Columns[leaf.ColumnIndex].MetaData)
		if err != nil {
			return Scan{}, fmt.Errorf("samplelake: row group %d, column %s: %w", i, column, err)
		}
		if err := sumPages(chunk.PagesFrom(mem), &sc); err != nil {
			return Scan{}, fmt.Errorf("samplelake: row group %d, column %s: %w", i, column, err)
		}
	}
	return sc, nil
}

// Verify scans the fare column of the file of the given size over r and
// checks its row count and fare sum against want (an entry of a Summary).
func Verify(r io.ReaderAt, size int64, want File) error {
	if size != want.Size {
		return fmt.Errorf("%w: %s: size %d, want %d", ErrMismatch, want.Path, size, want.Size)
	}
	sc, err := ScanColumn(r, size, "fare")
	if err != nil {
		return fmt.Errorf("%s: %w", want.Path, err)
	}
	if sc.Rows != want.Rows || sc.Values != want.Rows || sc.RowGroups != want.RowGroups {
		return fmt.Errorf("%w: %s: %d rows (%d fares) in %d row groups, want %d in %d",
			ErrMismatch, want.Path, sc.Rows, sc.Values, sc.RowGroups, want.Rows, want.RowGroups)
	}
	if cents := int64(math.Round(sc.Sum * 100)); cents != want.FareCents {
		return fmt.Errorf("%w: %s: fare sum %.2f, want %.2f", ErrMismatch, want.Path, sc.Sum, float64(want.FareCents)/100)
	}
	return nil
}

// readChunk reads a column chunk (its dictionary page, if any, and its data
// pages) with one ranged read and serves the page reader from memory.
func readChunk(r io.ReaderAt, md format.ColumnMetaData) (io.ReaderAt, error) {
	off := md.DataPageOffset
	if md.DictionaryPageOffset > 0 && md.DictionaryPageOffset < off {
		off = md.DictionaryPageOffset
	}
	if md.TotalCompressedSize <= 0 || md.TotalCompressedSize > math.MaxInt32 {
		return nil, fmt.Errorf("chunk of %d bytes", md.TotalCompressedSize)
	}
	buf := make([]byte, md.TotalCompressedSize)
	if n, err := r.ReadAt(buf, off); n < len(buf) {
		return nil, fmt.Errorf("read %d of %d bytes at %d: %w", n, len(buf), off, err)
	}
	return chunkReaderAt{off: off, buf: buf}, nil
}

// chunkReaderAt serves one column chunk, read ahead, at its file offsets.
type chunkReaderAt struct {
	off int64
	buf []byte
}

// ReadAt reads within the chunk; the page reader never reads outside it.
func (c chunkReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < c.off || off > c.off+int64(len(c.buf)) {
		return 0, fmt.Errorf("read at %d outside the column chunk [%d, %d)", off, c.off, c.off+int64(len(c.buf)))
	}
	n := copy(p, c.buf[off-c.off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// sumPages decodes every page of a column chunk and adds its values to sc.
func sumPages(pages parquet.Pages, sc *Scan) error {
	defer pages.Close()
	vals := make([]parquet.Value, 1024)
	for {
		page, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		err = sumValues(page.Values(), vals, sc)
		parquet.Release(page)
		if err != nil {
			return err
		}
	}
}

// sumValues adds the values of one page to sc.
func sumValues(r parquet.ValueReader, vals []parquet.Value, sc *Scan) error {
	for {
		n, err := r.ReadValues(vals)
		for _, v := range vals[:n] {
			switch v.Kind() {
			case parquet.Int32:
				sc.Sum += float64(v.Int32())
			case parquet.Int64:
				sc.Sum += float64(v.Int64())
			case parquet.Float:
				sc.Sum += float64(v.Float())
			case parquet.Double:
				sc.Sum += v.Double()
			default:
				if v.IsNull() {
					continue
				}
				return fmt.Errorf("column of kind %v is not numeric", v.Kind())
			}
			sc.Values++
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
