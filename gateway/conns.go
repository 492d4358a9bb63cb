package gateway

import (
	"net"
	"net/http"
	"sync"
)

// newConns tracks the connections that have not sent a request yet, so a
// shutdown can close them without waiting (see Gateway.Shutdown).
type newConns struct {
	mu      sync.Mutex
	m       map[net.Conn]struct{}
	closing bool
}

// track is the http.Server's ConnState hook.
func (c *newConns) track(conn net.Conn, st http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch st {
	case http.StateNew:
		if c.closing {
			conn.Close()
			return
		}
		if c.m == nil {
			c.m = make(map[net.Conn]struct{})
		}
		c.m[conn] = struct{}{}
	default:
		delete(c.m, conn)
	}
}

// closeNew closes every connection still waiting for its first request,
// and any accepted from now on.
func (c *newConns) closeNew() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	for conn := range c.m {
		conn.Close()
		delete(c.m, conn)
	}
}
