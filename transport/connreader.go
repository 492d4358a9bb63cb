package transport

import (
	"bufio"
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// connReader is the client's buffered reader of a stream connection. Its
// buffer is small: it holds frame headers and CRC lists, while page bytes go
// from the socket straight into the caller's buffers. readFull reads a
// group of chunks with one readv: the chunks inside the requested range into
// dst, the overhanging ones into scratch, and whatever follows (the next
// frame, usually the trailer) into the buffer. A 64 KiB read then costs one
// read system call for its data instead of one per piece plus one for the
// trailer.
type connReader struct {
	src  io.Reader
	rc   syscall.RawConn // src's; nil: readFull reads piece by piece
	buf  []byte
	r, w int // buffered bytes are buf[r:w]

	// readv state, in the reader so that the callback given to rc.Read is
	// bound once and a read allocates nothing.
	iov    []unix.Iovec
	rvN    int
	rvErr  error
	readvF func(fd uintptr) bool
}

func newConnReader(src io.Reader, size int) *connReader {
	cr := &connReader{src: src, buf: make([]byte, size)}
	if sc, ok := src.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			cr.rc = rc
		}
	}
	cr.readvF = cr.readv
	return cr
}

// fill reads at least one more byte into the buffer, or fails.
func (cr *connReader) fill() error {
	if cr.r > 0 {
		copy(cr.buf, cr.buf[cr.r:cr.w])
		cr.w -= cr.r
		cr.r = 0
	}
	if cr.w == len(cr.buf) {
		return bufio.ErrBufferFull
	}
	for range 100 {
		n, err := cr.src.Read(cr.buf[cr.w:])
		cr.w += n
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// Peek returns the next n bytes without consuming them (n <= buffer size).
func (cr *connReader) Peek(n int) ([]byte, error) {
	if n > len(cr.buf) {
		return nil, bufio.ErrBufferFull
	}
	for cr.w-cr.r < n {
		if err := cr.fill(); err != nil {
			return cr.buf[cr.r:cr.w], err
		}
	}
	return cr.buf[cr.r : cr.r+n], nil
}

// Discard drops n bytes that a Peek returned.
func (cr *connReader) Discard(n int) (int, error) {
	n = min(n, cr.w-cr.r)
	cr.r += n
	return n, nil
}

// Read implements io.Reader: from the buffer, or for a large p straight
// from the connection.
func (cr *connReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if cr.r == cr.w {
		cr.r, cr.w = 0, 0
		if len(p) >= len(cr.buf) {
			return cr.src.Read(p)
		}
		if err := cr.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, cr.buf[cr.r:cr.w])
	cr.r += n
	return n, nil
}

// readFull fills every slice of bufs, in order (it reslices bufs' elements
// as it goes). A connection that ends first is io.ErrUnexpectedEOF.
func (cr *connReader) readFull(bufs [][]byte) error {
	bufs = consume(bufs, 0)
	for len(bufs) > 0 && cr.r < cr.w {
		n := copy(bufs[0], cr.buf[cr.r:cr.w])
		cr.r += n
		bufs = consume(bufs, n)
	}
	if len(bufs) == 0 {
		return nil
	}
	if cr.rc == nil {
		for _, b := range bufs {
			if _, err := io.ReadFull(cr.src, b); err != nil {
				return unexpected(err)
			}
		}
		return nil
	}
	cr.r, cr.w = 0, 0 // the buffer is empty: it takes what follows
	for len(bufs) > 0 {
		cr.iov = cr.iov[:0]
		for _, b := range bufs {
			cr.iov = append(cr.iov, iovecOf(b))
		}
		cr.iov = append(cr.iov, iovecOf(cr.buf))
		err := cr.rc.Read(cr.readvF)
		clear(cr.iov) // no reference to the caller's buffers stays behind
		n := cr.rvN
		if err == nil {
			err = cr.rvErr
		}
		if err == nil && n == 0 {
			err = io.ErrUnexpectedEOF
		}
		for len(bufs) > 0 && n > 0 {
			k := min(n, len(bufs[0]))
			bufs = consume(bufs, k)
			n -= k
		}
		cr.w = n // bytes past the last slice landed in the buffer
		if err != nil && len(bufs) > 0 {
			return err
		}
	}
	return nil
}

// consume drops n bytes from the front of bufs, and empty slices.
func consume(bufs [][]byte, n int) [][]byte {
	if len(bufs) > 0 {
		bufs[0] = bufs[0][n:]
	}
	for len(bufs) > 0 && len(bufs[0]) == 0 {
		bufs = bufs[1:]
	}
	return bufs
}

func iovecOf(b []byte) unix.Iovec {
	v := unix.Iovec{Base: unsafe.SliceData(b)}
	v.SetLen(len(b))
	return v
}

// readv is the rc.Read callback: one readv(2) of cr.iov; false asks the
// poller to wait until the socket is readable (honouring the deadline).
func (cr *connReader) readv(fd uintptr) bool {
	for {
		n, _, errno := unix.Syscall(unix.SYS_READV, fd, uintptr(unsafe.Pointer(&cr.iov[0])), uintptr(len(cr.iov)))
		switch errno {
		case 0:
			cr.rvN, cr.rvErr = int(n), nil
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			cr.rvN, cr.rvErr = 0, os.NewSyscallError("readv", errno)
			return true
		}
	}
}
