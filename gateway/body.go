package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/ringcache/ringcache/internal/chunkcrc"
	"github.com/ringcache/ringcache/transport"
)

// sendfileMin is the smallest cached span sent with sendfile. Below it the
// span is read with pread and its chunks' CRCs checked before it is
// written: for small spans that costs less than reopening the page file
// for sendfile, and it keeps the page store's checksums in force (bytes
// sent with sendfile never pass through user space, so nobody checks them
// on the way out).
const sendfileMin = 256 << 10

// spanBufs holds buffers for spans below sendfileMin.
var spanBufs = sync.Pool{New: func() any { b := make([]byte, sendfileMin); return &b }}

// errBodyGap means the read path sent bytes out of order: a bug, never
// shown to a client as data.
var errBodyGap = errors.New("gateway: read path sent bytes out of order")

// httpBody is the transport.ResponseWriter a GET hands to the node's read
// path. The read's header becomes the HTTP status and headers (through
// onHeader, once per GET), its segments the body, clipped to the bytes the
// client asked for (cached spans arrive widened to whole CRC chunks).
// Bytes from pages cached on this node go out with sendfile; bytes from the
// owner or the under-store are written from memory as they arrive.
type httpBody struct {
	w        http.ResponseWriter
	onHeader func(h transport.ReadHeader) error // sets start, end; writes the HTTP header
	stats    transport.ReadStats

	started    bool  // the first read's header was handled
	next, end  int64 // next body byte to send, end of the body (object offsets)
	etag       string
	size       int64
	sent       int64 // body bytes written
	gotHeader  bool  // this read's header arrived
	pieceStart int64 // where the current read starts
	// refused is the S3 answer onHeader chose instead of a body (416): the
	// read path reports the refusal as its own error, so it is kept here.
	refused *s3Error
}

// beginRead prepares for one more read of the GET.
func (b *httpBody) beginRead(off int64) {
	b.gotHeader = false
	b.pieceStart = off
	b.stats = transport.ReadStats{}
}

func (b *httpBody) Stats() *transport.ReadStats { return &b.stats }

func (b *httpBody) WriteHeader(h transport.ReadHeader) error {
	if b.gotHeader {
		return transport.ErrHeaderSent
	}
	b.gotHeader = true
	if h.Status != transport.StatusOK {
		return transport.Errorf(h.Status, "%s", h.Error)
	}
	if !b.started {
		b.started = true
		b.etag, b.size = h.ETag, h.Size
		err := b.onHeader(h)
		var se *s3Error
		if errors.As(err, &se) {
			b.refused = se
		}
		return err
	}
	// A later read of the same GET: the version is pinned by ETag, so a
	// different object here is a bug in the read path, caught anyway.
	if h.ETag != b.etag || h.Size != b.size {
		return fmt.Errorf("%w: version changed between reads of one GET", transport.ErrChanged)
	}
	return nil
}

// clip returns the part [lo, hi) of the segment [off, off+n) that belongs to
// the body and is next, or ok=false when none of it is.
func (b *httpBody) clip(off, n int64) (lo, hi int64, err error) {
	lo, hi = max(off, b.next), min(off+n, b.end)
	if off > b.next {
		return 0, 0, fmt.Errorf("%w: segment at %d, expected %d", errBodyGap, off, b.next)
	}
	return lo, hi, nil
}

func (b *httpBody) WriteSegment(off int64, data []byte) error {
	lo, hi, err := b.clip(off, int64(len(data)))
	if err != nil || lo >= hi {
		return err
	}
	return b.write(data[lo-off : hi-off])
}

func (b *httpBody) WriteFileSegment(off int64, f *os.File, fileOff, length int64, chunkSize int, crcs []uint32) error {
	lo, hi, err := b.clip(off, length)
	if err != nil || lo >= hi {
		return err
	}
	if length >= sendfileMin {
		n, err := sendFileRange(b.w, f, fileOff+(lo-off), hi-lo)
		b.next += n
		b.sent += n
		return err
	}
	bp := spanBufs.Get().(*[]byte)
	defer spanBufs.Put(bp)
	buf := (*bp)[:length]
	if _, err := f.ReadAt(buf, fileOff); err != nil {
		return fmt.Errorf("gateway: read cached page: %w", err)
	}
	for i, want := range crcs {
		c := buf[i*chunkSize : min(len(buf), (i+1)*chunkSize)]
		if got := chunkcrc.Sum(c); got != want {
			return fmt.Errorf("%w: cached chunk %d of the span at %d", transport.ErrCorrupt, i, off)
		}
	}
	return b.write(buf[lo-off : hi-off])
}

// WriteMappedSegment sends the span like WriteFileSegment, from f: the
// gateway never reads the mapping itself, so a page file truncated under
// it cannot fault this process.
func (b *httpBody) WriteMappedSegment(off int64, f *os.File, fileOff int64, mapped []byte, chunkSize int, crcs []uint32, release io.Closer) error {
	defer release.Close()
	return b.WriteFileSegment(off, f, fileOff, int64(len(mapped)), chunkSize, crcs)
}

func (b *httpBody) write(p []byte) error {
	n, err := b.w.Write(p)
	b.next += int64(n)
	b.sent += int64(n)
	return err
}
