package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ringcache/ringcache/internal/samplelake"
)

// rangedReaderAt is an io.ReaderAt over one object through a gateway, one
// ranged GetObject per ReadAt: the access pattern of Parquet readers in
// query engines (the footer's last 8 bytes, the footer, then column
// chunks), which any Parquet library can be given.
type rangedReaderAt struct {
	ctx         context.Context
	cl          *s3.Client
	bucket, key string
	size        int64
	gets        atomic.Int64
}

// newRangedReaderAt learns the size with one HeadObject.
func newRangedReaderAt(ctx context.Context, cl *s3.Client, bucket, key string) (*rangedReaderAt, error) {
	h, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	return &rangedReaderAt{ctx: ctx, cl: cl, bucket: bucket, key: key, size: aws.ToInt64(h.ContentLength)}, nil
}

func (r *rangedReaderAt) Size() int64 { return r.size }

func (r *rangedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("ReadAt: negative offset %d", off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	end := min(off+int64(len(p)), r.size)
	r.gets.Add(1)
	out, err := r.cl.GetObject(r.ctx, &s3.GetObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(r.key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, end-1))})
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p[:end-off])
	if err != nil {
		return n, fmt.Errorf("ReadAt %d: %w", off, err)
	}
	if end < off+int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// testParquetPattern reads key the way a Parquet reader does through a
// rangedReaderAt and compares every span with the original bytes.
func testParquetPattern(t *testing.T, cl *s3.Client, key string, data []byte) {
	t.Helper()
	ra, err := newRangedReaderAt(context.Background(), cl, "lake", key)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(data))
	if ra.Size() != size {
		t.Fatalf("size %d, want %d", ra.Size(), size)
	}
	spans := []struct{ off, n int64 }{
		{size - 8, 8},                   // footer length and magic
		{size - 8 - 3000, 3000},         // the footer
		{4, 100},                        // first column chunk
		{pageSize - 1000, 2000},         // a chunk across a page boundary
		{2*pageSize + 17, pageSize + 3}, // a chunk over a whole page
		{size - 50, 100},                // past the end: short, io.EOF
	}
	for _, s := range spans {
		buf := make([]byte, s.n)
		n, err := ra.ReadAt(buf, s.off)
		want := data[s.off:min(s.off+s.n, size)]
		if int64(n) < s.n && err != io.EOF || int64(n) == s.n && err != nil {
			t.Fatalf("ReadAt(%d, %d): %d, %v", s.off, s.n, n, err)
		}
		mustEqual(t, fmt.Sprintf("ReadAt(%d, %d)", s.off, s.n), buf[:n], want)
	}
	if got := ra.gets.Load(); got != int64(len(spans)) {
		t.Errorf("%d GETs for %d ReadAt calls", got, len(spans))
	}
	// The whole file through a SectionReader, as io.ReaderAt users do.
	var b bytes.Buffer
	if _, err := io.CopyBuffer(&b, io.NewSectionReader(ra, 0, size), make([]byte, pageSize)); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "SectionReader", b.Bytes(), data)
}

// testSampleLake reads every Parquet file of the sample lake (seeded into
// c's under-store) with samplelake's engine-like reader over ranged GETs
// through the owner and a node that does not own the file: footer, then
// one ranged GET per row group's column chunk; row counts and the fare
// column's sum must be what Seed wrote.
func testSampleLake(t *testing.T, c *cluster) {
	t.Helper()
	src := t.TempDir()
	sum, err := samplelake.Seed(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sum.Files {
		c.put(t, f.Path, readFile(t, filepath.Join(src, filepath.FromSlash(f.Path))))
	}
	ctx := context.Background()
	for _, via := range []string{"owner", "non-owner"} {
		var rows, cents int64
		for _, f := range sum.Files {
			if !f.Parquet() {
				continue
			}
			owner, other := c.owners(t, f.Path)
			n := owner
			if via == "non-owner" {
				n = other
			}
			key := strings.TrimPrefix(f.Path, samplelake.Bucket+"/")
			ra := &rangedReaderAt{ctx: ctx, cl: sdk(c.endpoint(n), testAccess, testSecret), bucket: samplelake.Bucket, key: key, size: f.Size}
			if err := samplelake.Verify(ra, f.Size, f); err != nil {
				t.Fatalf("%s: %s: %v", via, f.Path, err)
			}
			if got := ra.gets.Load(); got != int64(1+f.RowGroups) {
				t.Errorf("%s: %s: %d ranged GETs, want footer + %d column chunks", via, f.Path, got, f.RowGroups)
			}
			rows += f.Rows
			cents += f.FareCents
		}
		if rows != sum.Rows || cents != sum.FareCents || rows == 0 {
			t.Errorf("%s: %d rows, fare %d cents; Seed wrote %d and %d", via, rows, cents, sum.Rows, sum.FareCents)
		}
	}
}
