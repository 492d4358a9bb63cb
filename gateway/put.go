package gateway

import (
	"net/http"

	"github.com/ringcache/ringcache/gateway/internal/listing"
)

// putObject serves PutObject: the verified body goes to the Writer, which
// writes it through to the under-store (and the owner's cache); the answer
// is the new version's ETag and the checksums that were verified.
// Directory markers (keys ending in "/") are objects like any other here.
func (g *Gateway) putObject(q *request) error {
	if err := refuseConditionalWrite(q); err != nil {
		return err
	}
	body, err := g.body(q)
	if err != nil {
		return err
	}
	info, err := g.writer.PutObject(q.ctx, q.path(), body, body.Size())
	if err != nil {
		return g.notFoundAs(q, body.writeErr(err))
	}
	g.ObjectChanged(q.path())
	h := q.w.Header()
	h.Set("ETag", listing.QuoteETag(info.ETag))
	checksumHeaders(q, body.Checksums())
	h.Set("Content-Length", "0")
	q.writeHeader(http.StatusOK)
	return nil
}

// refuseConditionalWrite answers NotImplemented to a conditional write
// (If-Match, If-None-Match on PutObject or CompleteMultipartUpload): the
// Writer cannot make the check and the write one atomic step, and
// ignoring the condition would overwrite what the client meant to keep.
func refuseConditionalWrite(q *request) error {
	if q.r.Header.Get("If-Match") != "" || q.r.Header.Get("If-None-Match") != "" {
		return errNotImplemented(q.rt.op + " with If-Match or If-None-Match (conditional writes)")
	}
	return nil
}
