//go:build unix && !linux

package transport

// canWatchHangup says peerClosed works here.
const canWatchHangup = true

// peerClosed is peekClosed: there is no POLLRDHUP outside Linux.
func peerClosed(fd uintptr) bool { return peekClosed(fd) }
