package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ringcache/ringcache/understore"
)

// A spool pipe decouples the two halves of a write on its owner: one
// goroutine takes the body from the client (through the gateway and the
// write stream) into the spool file as fast as it comes, and the
// under-store write reads it back from the file behind it. With a plain tee
// the client could send only as fast as the under-store took each part (the
// S3 store buffers a part, then uploads it while the client waits); through
// the file both run at once, and a write costs about the slower half, not
// the sum. The reader never returns a byte the body has not delivered, and
// it fails (not ends) if the body fails, so the under-store write aborts.
// The spool is in the data path: create checks the disk has room, and a
// spool write that fails anyway (a disk error) fails the write, which the
// client retries.

// spoolPipe is the shared state of the copying goroutine and the reader.
type spoolPipe struct {
	sf *spoolFile

	mu      sync.Mutex
	cond    *sync.Cond
	written int64 // bytes of the body in the file
	done    bool  // the copy ended: err says how
	err     error // nil: all size bytes, and nothing more
}

// pipe starts copying size bytes of body into the spool file and returns
// the reader of them. The copy goroutine ends when the body is read whole
// or fails; the spool file must outlive it (discard waits for it).
func (sf *spoolFile) pipe(ctx context.Context, body io.Reader, size int64) io.Reader {
	p := &spoolPipe{sf: sf}
	p.cond = sync.NewCond(&p.mu)
	sf.piped = p
	sf.copying.Add(1)
	go func() {
		defer sf.copying.Done()
		p.copy(body, size)
	}()
	stop := context.AfterFunc(ctx, func() { p.finish(ctx.Err()) })
	return &pipeReader{p: p, stop: stop}
}

// copy runs in its own goroutine.
func (p *spoolPipe) copy(body io.Reader, size int64) {
	bp := pipeBufs.Get().(*[]byte)
	defer pipeBufs.Put(bp)
	buf := *bp
	for left := size; left > 0; {
		k, err := io.ReadFull(body, buf[:min(left, int64(len(buf)))])
		if k > 0 {
			if _, werr := p.sf.f.Write(buf[:k]); werr != nil {
				p.finish(fmt.Errorf("node: write spool: %w", werr))
				return
			}
			left -= int64(k)
			p.advance(int64(k))
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("%w: body ended after %d of %d bytes", understore.ErrBadRequest, size-left, size)
			}
			p.finish(err)
			return
		}
		if p.stopped() {
			return
		}
	}
	p.finish(noMoreBody(body, size))
}

var pipeBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

func (p *spoolPipe) advance(k int64) {
	p.mu.Lock()
	p.written += k
	p.mu.Unlock()
	p.cond.Broadcast()
}

// finish ends the pipe with err (the first end wins).
func (p *spoolPipe) finish(err error) {
	p.mu.Lock()
	if !p.done {
		p.done, p.err = true, err
	}
	p.mu.Unlock()
	p.cond.Broadcast()
}

// whole reports a copy that took all of the body, and nothing more.
func (p *spoolPipe) whole() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done && p.err == nil
}

func (p *spoolPipe) stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// pipeReader reads the spooled body behind the copy.
type pipeReader struct {
	p    *spoolPipe
	off  int64
	stop func() bool
}

func (r *pipeReader) Read(b []byte) (int, error) {
	p := r.p
	p.mu.Lock()
	for r.off == p.written && !p.done {
		p.cond.Wait()
	}
	avail, done, err := p.written-r.off, p.done, p.err
	p.mu.Unlock()
	if avail > 0 {
		k, rerr := p.sf.f.ReadAt(b[:min(int64(len(b)), avail)], r.off)
		r.off += int64(k)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return k, rerr
		}
		return k, nil
	}
	if done && err == nil {
		r.stop()
		return 0, io.EOF
	}
	return 0, err
}
