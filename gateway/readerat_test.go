package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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
