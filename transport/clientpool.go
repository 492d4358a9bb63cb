package transport

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/ringcache/ringcache/internal/chunkcrc"
)

// This file holds the client's stream connections: dialing, and the pool
// of idle ones per address.

type clientConn struct {
	addr   string
	conn   net.Conn
	br     *connReader
	bw     *bufio.Writer
	nextID uint64
	buf    []byte
	crcs   []uint32
	broken bool
	// lastNode is the serving node's name from the last trailer.
	lastNode string
	chunks   chunkcrc.Reader // readSegment's, reused
}

func (c *Client) getConn(ctx context.Context, addr string, fresh bool, deadline time.Time) (*clientConn, bool, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false, ErrClosed
	}
	if l := c.idle[addr]; len(l) > 0 && !fresh {
		cn := l[len(l)-1]
		c.idle[addr] = l[:len(l)-1]
		c.mu.Unlock()
		return cn, true, nil
	}
	c.mu.Unlock()
	d := net.Dialer{Timeout: c.cfg.DialTimeout, Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, fmt.Errorf("%w: dial %s: %w", ErrUnavailable, addr, err)
	}
	if c.cfg.TLS != nil {
		hd := time.Now().Add(c.cfg.DialTimeout)
		if !deadline.IsZero() && deadline.Before(hd) {
			hd = deadline
		}
		hctx, cancel := context.WithDeadline(ctx, hd)
		conn, err = dialTLS(hctx, conn, addr, c.cfg.TLS)
		cancel()
		if err != nil {
			return nil, false, err
		}
	}
	cn := &clientConn{addr: addr, conn: conn, br: newConnReader(conn, clientReadBuffer), bw: bufio.NewWriterSize(conn, 4096)}
	// The preface goes out with the first request.
	cn.bw.Write(appendPreface(nil))
	return cn, false, nil
}

func (c *Client) putConn(cn *clientConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.idle[cn.addr]) >= c.cfg.MaxIdlePerAddr {
		cn.conn.Close()
		return
	}
	c.idle[cn.addr] = append(c.idle[cn.addr], cn)
}

// Read reads req.Length bytes at req.Offset of req.Path from the node at
// addr into dst[:req.Length], verifying every chunk's CRC32C. A non-OK
// clientReadBuffer is the size of a stream connection's read buffer. Small on
// purpose: frame headers and CRC lists are read through it, but page bytes
// should land in the caller's buffer straight from the socket. A large buffer
// makes the first read of a response pull most of the page bytes into it,
// and then they are copied again.
const clientReadBuffer = 4 << 10
