//go:build linux

package transport

import (
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// The stream server's Linux system calls: TCP_CORK, sendfile(2), and
// POLLRDHUP to notice a client hanging up. streamserver_other.go has the
// portable fallbacks.

// cork sets or clears TCP_CORK; clearing it sends what is held. A failure
// only costs latency (the data still goes out), so it is not an error.
func (c *streamConn) cork(on bool) {
	if c.tcp == nil {
		return
	}
	rc, err := c.tcp.SyscallConn()
	if err != nil {
		return
	}
	v := 0
	if on {
		v = 1
	}
	_ = rc.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, v) })
}

// sendFile writes n bytes of f at off to the connection: with sendfile(2)
// to a TCP socket, else (TLS) through user space.
func (c *streamConn) sendFile(f *os.File, off, n int64) error {
	if !c.sendfileOK {
		return c.copyFileRange(f, off, n)
	}
	return sendfile(c.tcp, f, off, n)
}

// sendfile writes n bytes of f at off to tc with sendfile(2). It goes through
// the connection's RawConn so the runtime poller handles EAGAIN (wait until
// writable, honouring the write deadline) and partial writes. off is passed
// explicitly: f's own offset is neither used nor moved.
func sendfile(tc *net.TCPConn, f *os.File, off, n int64) error {
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	fc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	cerr := fc.Control(func(ffd uintptr) {
		werr := rc.Write(func(sfd uintptr) bool {
			for n > 0 {
				w, err := unix.Sendfile(int(sfd), int(ffd), &off, int(min(n, 1<<30)))
				if w > 0 {
					n -= int64(w)
				}
				switch {
				case err == unix.EAGAIN:
					return false // wait for the socket to be writable
				case err == unix.EINTR:
					continue
				case err != nil:
					serr = os.NewSyscallError("sendfile", err)
					return true
				case w == 0:
					serr = fmt.Errorf("%w: page file shorter than the segment", io.ErrUnexpectedEOF)
					return true
				}
			}
			return true
		})
		if serr == nil {
			serr = werr
		}
	})
	if cerr != nil {
		return cerr
	}
	return serr
}

// canWatchHangup says peerClosed works here.
const canWatchHangup = true

// peerClosed reports whether the peer of TCP socket fd has hung up (or the
// socket failed), without consuming anything and without blocking.
// POLLRDHUP sees the peer's FIN even behind a pipelined request that waits
// unread in the socket buffer.
func peerClosed(fd uintptr) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
}
