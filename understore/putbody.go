package understore

import (
	"context"
	"fmt"
	"io"
)

// The body of a Put, for both backends: read under ctx, exactly size bytes.

// ctxReader stops a long copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// noMore checks that r, of which size bytes were read, has nothing left: a
// body longer than its declared size is refused, not truncated.
func noMore(r io.Reader, size int64) error {
	var one [1]byte
	if m, _ := io.ReadFull(r, one[:]); m > 0 {
		return fmt.Errorf("body longer than %d bytes", size)
	}
	return nil
}
