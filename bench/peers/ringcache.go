package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ringcache/ringcache/client"
)

// bucket is the S3 bucket (in versitygw) holding ringcache's copy of the
// objects: path bucket/obj-NNNNN.
const bucket = "peers"

// ringcacheReader reads through the Go SDK, which routes each read to the
// file's owner on its ring snapshot.
type ringcacheReader struct{ c *client.Client }

func newRingcacheReader(ctx context.Context, seeds []string) (*ringcacheReader, error) {
	c, err := client.New(ctx, client.Config{Seeds: seeds})
	if err != nil {
		return nil, err
	}
	return &ringcacheReader{c: c}, nil
}

func (r *ringcacheReader) read(ctx context.Context, _, _ int, key string, buf []byte) ([]byte, error) {
	// buf is one byte longer than the object, so a right answer ends in
	// io.EOF (io.ReaderAt semantics); the verifier checks the length.
	n, err := r.c.ReadAt(ctx, bucket+"/"+key, buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("ringcache: %w", err)
	}
	return buf[:n], nil
}

func (r *ringcacheReader) close() { _ = r.c.Close() }
