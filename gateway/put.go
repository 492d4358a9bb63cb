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
