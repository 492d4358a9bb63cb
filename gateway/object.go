package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ringcache/ringcache/gateway/internal/listing"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// defaultContentType is what S3 answers for an object stored without one;
// ringcache does not keep content types, so every object gets it unless
// the request overrides it (response-content-type).
const defaultContentType = "binary/octet-stream"

// firstPiece is the length asked of the node by a GET's first read when
// the object's size is not known yet (no Range end): one default page.
// The node sizes buffers by the length asked (a forwarded read relays
// through a buffer of up to 8 MiB, a cold read fills up to CoalescePages
// pages before its first byte), so asking ReadPiece (64 MiB) here made a
// 64 KiB GET through a non-owner clear 8 MiB, and a cold GET wait for 16
// MiB of buffer. Once the header gives the size, later reads ask up to
// ReadPiece.
const firstPiece = 1 << 20

// emptyETag is the ETag of 0 bytes (their MD5), sent for directory markers.
const emptyETag = `"d41d8cd98f00b204e9800998ecf8427e"`

// overrides maps the response-* query parameters S3 honours to the header
// each sets.
var overrides = []struct{ param, header string }{
	{"response-content-type", "Content-Type"},
	{"response-content-language", "Content-Language"},
	{"response-expires", "Expires"},
	{"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
}

// objectMeta is what the response headers say about the object.
type objectMeta struct {
	size    int64
	etag    string // quoted, as S3 sends it
	rawETag string // as the under-store gave it: what pins a read to this version
	modTime time.Time
}

// objectHeaders sets the headers of a 200 or 206 answer for bytes [start,
// end) of the object.
func objectHeaders(h http.Header, m objectMeta, start, end int64, partial bool, q url.Values) {
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	h.Set("Content-Type", defaultContentType)
	h.Set("ETag", m.etag)
	h.Set("Accept-Ranges", "bytes")
	if !m.modTime.IsZero() {
		h.Set("Last-Modified", m.modTime.UTC().Format(http.TimeFormat))
	}
	if partial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, m.size))
	}
	for _, o := range overrides {
		if v := q.Get(o.param); v != "" {
			h.Set(o.header, v)
		}
	}
}

// conditionFailed answers a failed condition: 304 with the validators, or 412.
func (q *request) conditionFailed(code int, m objectMeta) error {
	if code == http.StatusPreconditionFailed {
		return newError("PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	}
	h := q.w.Header()
	h.Set("ETag", m.etag)
	if !m.modTime.IsZero() {
		h.Set("Last-Modified", m.modTime.UTC().Format(http.TimeFormat))
	}
	q.writeHeader(http.StatusNotModified)
	return nil
}

// statObject is the object's metadata from the owner (cached there for the
// sync interval).
func (g *Gateway) statObject(ctx context.Context, path string) (objectMeta, error) {
	st, err := g.cluster.StatObject(ctx, path)
	if err != nil {
		return objectMeta{}, err
	}
	return objectMeta{size: st.Size, etag: listing.QuoteETag(st.ETag), rawETag: st.ETag, modTime: st.ModTime}, nil
}

// headObject serves HeadObject from the owner's cached metadata.
func (g *Gateway) headObject(q *request) error {
	m, err := g.objectMeta(q)
	if err != nil {
		return err
	}
	if code := parseConditions(q.r.Header).check(m.etag, m.modTime); code != 0 {
		return q.conditionFailed(code, m)
	}
	start, end, partial := int64(0), m.size, false
	if rng, ok := parseRange(q.r.Header.Get("Range")); ok {
		var rerr *s3Error
		if start, end, rerr = rng.resolve(m.size); rerr != nil {
			return rerr
		}
		partial = true
	}
	objectHeaders(q.w.Header(), m, start, end, partial, q.query)
	if partial {
		q.writeHeader(http.StatusPartialContent)
	} else {
		q.writeHeader(http.StatusOK)
	}
	return nil
}

// objectMeta resolves the object's metadata, directory markers included.
func (g *Gateway) objectMeta(q *request) (objectMeta, error) {
	if isMarker(q.rt.key) {
		return g.markerMeta(q)
	}
	m, err := g.statObject(q.ctx, q.path())
	if err != nil {
		return m, g.notFoundAs(q, err)
	}
	return m, nil
}

// getObject serves GetObject through the node's read path. A read whose
// object changed before any byte was sent is retried once on the new
// version.
func (g *Gateway) getObject(q *request) error {
	if isMarker(q.rt.key) {
		return g.getMarker(q)
	}
	err := g.getOnce(q)
	if err != nil && !q.wroteHeader && errors.Is(err, transport.ErrChanged) {
		err = g.getOnce(q)
	}
	return err
}

func (g *Gateway) getOnce(q *request) error {
	path := q.path()
	rng, hasRange := parseRange(q.r.Header.Get("Range"))
	cond := parseConditions(q.r.Header)
	body := &httpBody{w: q.w}
	req := transport.ReadRequest{Path: path, Flags: transport.FlagModTime, ReadID: q.readID}
	pieceEnd := func(off int64) int64 {
		if body.end > 0 || body.started {
			return min(body.end, off+g.cfg.ReadPiece)
		}
		return off + firstPiece
	}

	// The size is needed before the read for a suffix range, and the
	// validators for a conditional GET: ask the owner's cached metadata
	// first, then read exactly that version. Every other GET learns both
	// from the read's own header (a cold read costs one under-store
	// request, not a Stat and a read).
	if cond.present() || (hasRange && rng.isSuffix) {
		m, err := g.statObject(q.ctx, path)
		if err != nil {
			return g.notFoundAs(q, err)
		}
		if code := cond.check(m.etag, m.modTime); code != 0 {
			return q.conditionFailed(code, m)
		}
		req.ETag = m.rawETag
		if hasRange {
			start, _, rerr := rng.resolve(m.size)
			if rerr != nil {
				return rerr
			}
			req.Offset = start
		}
	} else if hasRange {
		req.Offset = rng.first
	}
	if hasRange && !rng.isSuffix && rng.last >= 0 {
		body.end = rng.last + 1 // clipped to the size by the header
	}

	body.onHeader = func(h transport.ReadHeader) error {
		m := objectMeta{size: h.Size, etag: listing.QuoteETag(h.ETag), rawETag: h.ETag, modTime: h.ModTime}
		start, end := int64(0), h.Size
		if hasRange {
			var rerr *s3Error
			if start, end, rerr = rng.resolve(h.Size); rerr != nil {
				return rerr
			}
		}
		if start != req.Offset {
			return fmt.Errorf("%w: object size changed to %d", transport.ErrChanged, h.Size)
		}
		body.next, body.end = start, end
		objectHeaders(q.w.Header(), m, start, end, hasRange, q.query)
		if hasRange {
			q.writeHeader(http.StatusPartialContent)
		} else {
			q.writeHeader(http.StatusOK)
		}
		return nil
	}

	req.Length = pieceEnd(req.Offset) - req.Offset
	for {
		body.beginRead(req.Offset)
		err := g.cluster.ServeRead(q.ctx, &req, body)
		q.bytesOut = body.sent
		if body.refused != nil {
			return body.refused
		}
		if err != nil {
			if !body.started && errors.Is(err, transport.ErrOutOfRange) {
				return g.invalidRange(q, path)
			}
			return g.notFoundAs(q, err)
		}
		if !body.gotHeader {
			return errInternal(errors.New("read path returned no header"))
		}
		// A read may send more than it was asked for: cached spans come
		// widened to whole CRC chunks, and clip keeps every byte up to
		// the body's end, in order, of the pinned version. So a piece
		// may end past its own end (never short of it); the next piece
		// starts where the body is.
		want := min(req.Offset+req.Length, body.end)
		if body.next < want {
			return fmt.Errorf("%w: read returned %d of %d bytes", transport.ErrChanged, body.next-req.Offset, want-req.Offset)
		}
		if body.next >= body.end {
			return nil
		}
		req.Offset = body.next
		req.Length = pieceEnd(req.Offset) - req.Offset
		req.ETag = body.etag
	}
}

// invalidRange answers a range that starts past the end, with the size
// (the owner's cached metadata: the read just refreshed it).
func (g *Gateway) invalidRange(q *request, path string) error {
	m, err := g.statObject(q.ctx, path)
	if err != nil {
		return errInvalidRange(-1)
	}
	return errInvalidRange(m.size)
}

// notFoundAs turns "not found" into NoSuchBucket when the bucket itself is
// missing, NoSuchKey otherwise; other errors pass.
func (g *Gateway) notFoundAs(q *request, err error) error {
	if !errors.Is(err, transport.ErrNotFound) && !errors.Is(err, understore.ErrNotFound) {
		return err
	}
	if ok, berr := g.lister.BucketExists(q.ctx, q.rt.bucket); berr == nil && !ok {
		e := errNoSuchBucket()
		e.cause = err
		return e
	}
	e := errNoSuchKey()
	e.cause = err
	return e
}
