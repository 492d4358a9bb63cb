package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// This file runs a stream read: its checks, the retry on a connection the
// server closed while idle, and writing the request.

// ReadResult is the outcome of a stream read.
type ReadResult struct {
	Header ReadHeader
	// N is how many bytes of dst were filled: Length, or less at the end of
	// the object.
	N     int
	Stats ReadStats
}

// clientConn is one stream connection.
// status is a *StatusError (errors.Is with ErrNotFound, ...); a checksum
// mismatch is a *CorruptError (ErrCorrupt). Cancelling ctx aborts the read
// and closes its connection. An idle connection the server closed meanwhile
// is retried once on a fresh one.
func (c *Client) Read(ctx context.Context, addr string, req *ReadRequest, dst []byte) (ReadResult, error) {
	return c.ReadWithin(ctx, addr, req, dst, 0)
}

// ReadWithin is Read bounded also by timeout (if > 0), counted from now: a
// per-attempt limit without a context (and its timer and allocations) per
// read. Without timeout and without a deadline in ctx, CallTimeout applies.
func (c *Client) ReadWithin(ctx context.Context, addr string, req *ReadRequest, dst []byte, timeout time.Duration) (ReadResult, error) {
	if err := c.checkRead(req, dst); err != nil {
		return ReadResult{}, err
	}
	deadline := c.readDeadline(ctx, timeout)
	fresh := false
	for {
		cn, reused, err := c.getConn(ctx, addr, fresh, deadline)
		if err != nil {
			return ReadResult{}, err
		}
		res, started, err := c.readOn(ctx, cn, req, dst[:req.Length], deadline)
		if err == nil && !cn.broken {
			c.putConn(cn)
			return res, nil
		}
		var keep errStatusKeep
		if err != nil && errors.As(err, &keep) && !cn.broken {
			c.putConn(cn)
			return res, keep.err
		}
		cn.conn.Close()
		if err == nil {
			return res, nil
		}
		if keep.err != nil {
			return res, keep.err
		}
		if ctxErr := ctx.Err(); ctxErr != nil || errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection's deadline is the read's (the context's or
			// the timeout's): a timeout on it is that deadline passing.
			if ctxErr == nil {
				ctxErr = context.DeadlineExceeded
			}
			return res, fmt.Errorf("transport: read %s from %s: %w", req.Path, addr, ctxErr)
		}
		// A pooled connection may have been closed by the server while
		// idle (restart, shutdown): nothing of the response came, reads are
		// idempotent, so try once more on a new connection.
		if reused && !started && isConnReset(err) {
			fresh = true
			continue
		}
		if tlsFailure(err) {
			// TLS 1.3 refuses a client certificate after the client's
			// handshake is done: the refusal arrives as the first read.
			return res, fmt.Errorf("%w with %s: %w", ErrTLS, addr, err)
		}
		return res, err
	}
}

// checkRead refuses a request the server would refuse, before sending it.
func (c *Client) checkRead(req *ReadRequest, dst []byte) error {
	switch {
	case req.Offset < 0 || req.Length < 0:
		return fmt.Errorf("%w: negative offset or length", ErrBadRequest)
	case int64(len(dst)) < req.Length:
		return fmt.Errorf("%w: buffer of %d bytes for a read of %d", ErrBadRequest, len(dst), req.Length)
	case req.Length > c.cfg.MaxRequestLength:
		return fmt.Errorf("%w: length %d over the limit of %d", ErrTooLarge, req.Length, c.cfg.MaxRequestLength)
	case req.Path == "" || len(req.Path) > MaxPathLength || len(req.Scope) > MaxPathLength:
		return fmt.Errorf("%w: empty path or path or scope over %d bytes", ErrBadRequest, MaxPathLength)
	}
	return nil
}

// readDeadline is the read's deadline: ctx's or now+timeout, whichever
// comes first, or now+CallTimeout without either.
func (c *Client) readDeadline(ctx context.Context, timeout time.Duration) time.Time {
	deadline, ok := ctx.Deadline()
	switch {
	case timeout > 0:
		if d := time.Now().Add(timeout); !ok || d.Before(deadline) {
			deadline = d
		}
	case !ok:
		deadline = time.Now().Add(c.cfg.CallTimeout)
	}
	return deadline
}

// isConnReset reports an error of a connection the server closed.
func isConnReset(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// readOn runs one request on cn. started reports whether any response bytes
// arrived. On error the connection must be discarded.
func (c *Client) readOn(ctx context.Context, cn *clientConn, req *ReadRequest, dst []byte, deadline time.Time) (res ReadResult, started bool, err error) {
	// The deadline is the connection's (no timer or context per read);
	// a cancellable ctx also closes the read mid-response when cancelled:
	// the blocked read returns at once and the connection is never reused.
	if err := cn.conn.SetDeadline(deadline); err != nil {
		return res, false, err
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = cn.conn.SetDeadline(time.Unix(1, 0)) })
		defer func() {
			if !stop() {
				// The callback ran or may still run: never reuse this one.
				cn.broken = true
			}
		}()
	}

	timeout := time.Until(deadline)
	if timeout <= 0 {
		return res, false, context.DeadlineExceeded
	}
	cn.nextID++
	id := cn.nextID
	cn.buf = appendRequest(cn.buf[:0], id, req, uint64(timeout/time.Microsecond)+1)
	if _, err := cn.bw.Write(cn.buf); err != nil {
		return res, false, err
	}
	if err := cn.bw.Flush(); err != nil {
		return res, false, err
	}

	return c.readResponse(cn, id, req, dst)
}

// readResponse decodes one response from cn.br into dst. It reads nothing
// but cn.br, so the fuzz test can feed it arbitrary bytes.
