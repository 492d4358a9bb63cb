//go:build !unix

package transport

// canWatchHangup is false: without a portable non-blocking peek, a waiting
// request whose client hung up ends at its deadline or its next failed
// write, as one on a connection that is not TCP.
const canWatchHangup = false

func peerClosed(uintptr) bool { return false }
