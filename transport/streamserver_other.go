//go:build !linux

package transport

import "os"

// The portable fallbacks of streamserver_linux.go: no cork, a copy through
// user space instead of sendfile, and a peek for a hang-up where the
// platform has one (hangup_unix.go).

// cork does nothing: without TCP_CORK the frames of a medium response may
// leave as more packets, which costs latency, not correctness.
func (c *streamConn) cork(bool) {}

// sendFile writes n bytes of f at off to the connection through user space.
func (c *streamConn) sendFile(f *os.File, off, n int64) error {
	return c.copyFileRange(f, off, n)
}
