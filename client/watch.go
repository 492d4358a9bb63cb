package client

import (
	"context"
	"time"

	"github.com/ringcache/ringcache/transport"
)

// healthyWatch is how long a WatchRing stream must have stayed up for its
// end to count as news rather than a refusal: a node that is shutting down
// (or not serving) ends the stream at once, after sending at most the
// current ring, so the reconnects keep backing off; a stream that served a
// second resets the backoff, and the next loss is retried after ~min.
const healthyWatch = time.Second

// warnEvery limits the WARN lines of a ring watch that keeps failing: the
// first failure of a series is a WARN, the retries are DEBUG, with one WARN
// a minute while it goes on.
const warnEvery = time.Minute

// keepCurrent follows a WatchRing stream from some member, falling back to
// polling the member list, and refreshes when asked. A stream that ends is
// reopened after a backoff (see backoff), until the client closes.
func (c *Client) keepCurrent() {
	defer c.wg.Done()
	ctx := c.ctx
	bo := newBackoff(c.cfg.ReconnectMin, c.cfg.ReconnectMax, c.jitter)
	watchErr := make(chan error, 1)
	var (
		watching  bool
		addr      string
		started   time.Time
		retry     *time.Timer // set while waiting to reopen the stream
		lastWarn  time.Time
		retryWait <-chan time.Time
	)
	defer func() {
		if retry != nil {
			retry.Stop()
		}
	}()
	tick := time.NewTicker(c.cfg.RefreshInterval)
	defer tick.Stop()
	for {
		if !watching && retryWait == nil {
			if addr = c.anyAddr(); addr != "" {
				watching, started = true, time.Now()
				c.wg.Add(1)
				go func() {
					defer c.wg.Done()
					watchErr <- c.watch(ctx, addr)
				}()
			}
		}
		select {
		case <-ctx.Done():
			return
		case err := <-watchErr:
			watching = false
			if ctx.Err() != nil {
				return
			}
			if time.Since(started) >= healthyWatch {
				bo.reset()
			}
			d := bo.next()
			log := c.log.Debug
			if bo.attempts == 1 || time.Since(lastWarn) >= warnEvery {
				log, lastWarn = c.log.Warn, time.Now()
			}
			log("ring watch ended; reconnecting", "addr", addr, "err", err, "attempt", bo.attempts, "retry_in", d)
			if retry == nil {
				retry = time.NewTimer(d)
			} else {
				retry.Reset(d)
			}
			retryWait = retry.C
		case <-retryWait:
			// The member list first: the stream may have ended because
			// its node left, and the next one is picked from the list.
			retryWait = nil
			c.refreshNow(ctx)
		case <-tick.C:
			c.refreshNow(ctx)
		case <-c.refresh:
			c.refreshNow(ctx)
		}
	}
}

// watch installs every ring one WatchRing stream from addr sends, until the
// stream ends.
func (c *Client) watch(ctx context.Context, addr string) error {
	cc, err := c.pool.Control(addr)
	if err != nil {
		return err
	}
	stream, err := cc.WatchRing(ctx, &transport.WatchRequest{})
	if err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		if err := c.install(resp); err != nil {
			c.log.Warn("ring watch", "err", err)
		}
	}
}

// refreshNow re-reads the member list from the first member that answers.
func (c *Client) refreshNow(ctx context.Context) {
	for _, addr := range c.addrs() {
		if err := c.fetchMembers(ctx, addr); err == nil {
			return
		}
	}
}

// askRefresh asks the watch loop for a refresh of the member list (a node
// reported another ring, or failed); asks while one is pending are dropped.
func (c *Client) askRefresh() {
	select {
	case c.refresh <- struct{}{}:
	default:
	}
}
