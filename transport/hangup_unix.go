//go:build unix

package transport

import (
	"errors"

	"golang.org/x/sys/unix"
)

// peekClosed reports whether the peer of TCP socket fd has hung up, by
// peeking at one byte: end of stream or a reset means closed. Go's sockets
// are non-blocking, so the peek does not wait. Unlike POLLRDHUP it cannot
// see a hang-up behind bytes not read yet (a pipelined request): that
// request's read then ends at its deadline or its next failed write, as
// without a watcher. It is the fallback of other Unixes than Linux; it is
// built on Linux too, where its test runs.
func peekClosed(fd uintptr) bool {
	var b [1]byte
	for {
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err == nil:
			return n == 0
		default:
			return !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EWOULDBLOCK)
		}
	}
}
