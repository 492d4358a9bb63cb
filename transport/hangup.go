package transport

import (
	"context"
	"time"
)

// hangupPoll is how often a waiting request checks for the client hanging up.
const hangupPoll = 20 * time.Millisecond

// watchHangup cancels a request whose handler waits (it asked for its
// context's Done) when the client closes the connection meanwhile, as a
// reader goroutine would notice, without one per connection: cached reads
// never wait and never pay for it. It polls the socket for a hang-up without
// consuming anything (a pipelined request stays in the socket buffer), with
// a non-blocking poll every hangupPoll, until the request is released. At
// most maxHangupWatchers run per server.
func (c *streamConn) watchHangup(cancel context.CancelFunc, released <-chan struct{}) {
	if c.tcp == nil || !canWatchHangup {
		return
	}
	rc, err := c.tcp.SyscallConn()
	if err != nil {
		return
	}
	select {
	case c.s.watchSlots <- struct{}{}:
	default:
		// Enough watchers already: this request still ends at its
		// deadline or at the next failed write.
		return
	}
	go func() {
		defer func() { <-c.s.watchSlots }()
		tick := time.NewTicker(hangupPoll)
		defer tick.Stop()
		for {
			hup := false
			// A poll that does not block (no thread is pinned while the
			// request waits); Control keeps the descriptor from being
			// closed, and its number reused, while poll looks at it.
			cerr := rc.Control(func(fd uintptr) { hup = peerClosed(fd) })
			if cerr != nil || hup {
				cancel()
				return
			}
			select {
			case <-released:
				return
			case <-tick.C:
			}
		}
	}()
}

// maxHangupWatchers bounds the goroutines watching waiting requests for a
// hang-up (each polls its socket every hangupPoll).
const maxHangupWatchers = 256
