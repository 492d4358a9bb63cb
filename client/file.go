package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ringcache/ringcache/transport"
)

// File is an open file of the cluster: an io.ReaderAt and io.ReadSeekCloser
// bound to the version (ETag) seen at Open, so its reads never mix versions;
// a read after the file changed fails with transport.ErrChanged.
type File struct {
	c    *Client
	ctx  context.Context
	path string
	size int64
	etag string
	off  int64
	opts []ReadOption
}

// Open resolves the file's size and version through its owner.
func (c *Client) Open(ctx context.Context, path string, opts ...ReadOption) (*File, error) {
	o := applyOpts(opts)
	res, st, err := c.read(ctx, path, nil, 0, o, 0, 0)
	if o.stats != nil {
		o.stats.add(st)
	}
	if err != nil {
		return nil, err
	}
	return &File{c: c, ctx: ctx, path: path, size: res.Header.Size, etag: res.Header.ETag,
		opts: append(opts[:len(opts):len(opts)], IfMatch(res.Header.ETag))}, nil
}

// Size is the file's size at Open.
func (f *File) Size() int64 { return f.size }

// ETag is the version of the file this handle reads.
func (f *File) ETag() string { return f.etag }

// Path is the file's path.
func (f *File) Path() string { return f.path }

// ReadAt implements io.ReaderAt.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		if off == f.size || len(p) == 0 {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("%s: %w: offset %d, size %d", f.path, transport.ErrOutOfRange, off, f.size)
	}
	if rest := f.size - off; int64(len(p)) > rest {
		n, err := f.c.ReadAt(f.ctx, f.path, p[:rest], off, f.opts...)
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	return f.c.ReadAt(f.ctx, f.path, p, off, f.opts...)
}

// Read implements io.Reader.
func (f *File) Read(p []byte) (int, error) {
	if f.off >= f.size {
		return 0, io.EOF
	}
	n, err := f.ReadAt(p, f.off)
	f.off += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

// Seek implements io.Seeker.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = f.off + offset
	case io.SeekEnd:
		abs = f.size + offset
	default:
		return 0, fmt.Errorf("%w: seek whence %d", ErrBadRequest, whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("%w: seek to negative offset %d", ErrBadRequest, abs)
	}
	f.off = abs
	return abs, nil
}

// Close releases nothing today; it exists for io.Closer.
func (f *File) Close() error { return nil }
