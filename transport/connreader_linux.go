//go:build linux

package transport

import (
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// readvState is the connReader's readv(2) state, kept in the reader so that
// the callback given to rc.Read is bound once and a read allocates nothing.
type readvState struct {
	rc  syscall.RawConn // the source's; nil: readDirect reads piece by piece
	iov []unix.Iovec
	n   int
	err error
	f   func(fd uintptr) bool // cr.readv, bound once
}

// initReadv finds the source's raw connection, if it is a socket.
func (cr *connReader) initReadv() {
	if sc, ok := cr.src.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			cr.rv.rc = rc
		}
	}
	cr.rv.f = cr.readv
}

// readDirect fills bufs from the source when the buffer is empty: with
// readv, the slices of bufs first and then the buffer, which takes whatever
// follows (the next frame, usually the trailer).
func (cr *connReader) readDirect(bufs [][]byte) error {
	rv := &cr.rv
	if rv.rc == nil {
		return cr.readPieces(bufs)
	}
	cr.r, cr.w = 0, 0 // the buffer is empty: it takes what follows
	for len(bufs) > 0 {
		rv.iov = rv.iov[:0]
		for _, b := range bufs {
			rv.iov = append(rv.iov, iovecOf(b))
		}
		rv.iov = append(rv.iov, iovecOf(cr.buf))
		err := rv.rc.Read(rv.f)
		clear(rv.iov) // no reference to the caller's buffers stays behind
		n := rv.n
		if err == nil {
			err = rv.err
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

func iovecOf(b []byte) unix.Iovec {
	v := unix.Iovec{Base: unsafe.SliceData(b)}
	v.SetLen(len(b))
	return v
}

// readv is the rc.Read callback: one readv(2) of cr.rv.iov; false asks the
// poller to wait until the socket is readable (honouring the deadline).
func (cr *connReader) readv(fd uintptr) bool {
	rv := &cr.rv
	for {
		n, _, errno := unix.Syscall(unix.SYS_READV, fd, uintptr(unsafe.Pointer(&rv.iov[0])), uintptr(len(rv.iov)))
		switch errno {
		case 0:
			rv.n, rv.err = int(n), nil
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			rv.n, rv.err = 0, os.NewSyscallError("readv", errno)
			return true
		}
	}
}
