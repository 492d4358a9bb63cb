package understore

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
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

// copyBufSize is the buffer of a body copied to a file: large writes, so
// that a 64 MiB body costs 64 write calls instead of io.Copy's 2,048
// (32 KiB each), and a tee on the way (the node's write spool) writes in
// the same large pieces.
const copyBufSize = 1 << 20

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// copyToFile copies r to f through a pooled large buffer. f is wrapped so
// that io.CopyBuffer uses the buffer instead of f's ReadFrom (which reads
// in 32 KiB pieces for a reader that is not a file or a socket).
func copyToFile(f *os.File, r io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(struct{ io.Writer }{f}, r, *bp)
}
