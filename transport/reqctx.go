package transport

import (
	"context"
	"sync"
	"time"
)

// reqContext is a served request's context: the connection's context with
// the request's deadline. Its timer is created only when something asks for
// Done (a handler that waits on a fetch, a forward, a child context):
// a read answered from cached pages never waits, and a timer set and stopped
// for every such read cost measurable tail latency under load.
type reqContext struct {
	parent   context.Context
	deadline time.Time

	// onWait, if set, is called once when the deadline context is
	// created, with its cancel function and a channel closed on release:
	// the stream server watches for the client hanging up meanwhile.
	onWait func(cancel context.CancelFunc, released <-chan struct{})

	mu       sync.Mutex
	inner    context.Context // parent with the deadline; nil until needed
	cancel   context.CancelFunc
	released chan struct{}
	ended    bool // release was called
}

func newReqContext(parent context.Context, deadline time.Time) *reqContext {
	return &reqContext{parent: parent, deadline: deadline}
}

// ctx returns the real deadline context, creating it on first use.
func (r *reqContext) ctx() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inner == nil {
		r.inner, r.cancel = context.WithDeadline(r.parent, r.deadline)
		if r.ended {
			// Asked for after the request ended: done at once, no watcher.
			r.cancel()
			return r.inner
		}
		if r.onWait != nil {
			r.released = make(chan struct{})
			r.onWait(r.cancel, r.released)
		}
	}
	return r.inner
}

func (r *reqContext) Deadline() (time.Time, bool) {
	if d, ok := r.parent.Deadline(); ok && d.Before(r.deadline) {
		return d, true
	}
	return r.deadline, true
}

func (r *reqContext) Done() <-chan struct{} { return r.ctx().Done() }

func (r *reqContext) Err() error {
	r.mu.Lock()
	inner := r.inner
	r.mu.Unlock()
	if inner != nil {
		return inner.Err()
	}
	if err := r.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(r.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Value answers from the deadline context once it exists, so a child
// context finds its parent's cancelCtx (and needs no goroutine to follow it).
func (r *reqContext) Value(key any) any {
	r.mu.Lock()
	inner := r.inner
	r.mu.Unlock()
	if inner != nil {
		return inner.Value(key)
	}
	return r.parent.Value(key)
}

// release stops the timer and the watcher, if they were started.
func (r *reqContext) release() {
	r.mu.Lock()
	cancel, released := r.cancel, r.released
	r.ended = true
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if released != nil {
		close(released)
	}
}
