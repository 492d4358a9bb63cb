package gateway

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/ringcache/ringcache/understore"
)

// What every write handler shares: the object body it streams to the
// Writer, and what it drops from the listing cache once the write is done.

// ObjectChanged drops the gateway's cached listing pages that path
// ("bucket/key") may appear in. The gateway calls it after each write it
// serves; the node calls it when another node announces a write or a
// delete, so that every gateway lists the change at once.
func (g *Gateway) ObjectChanged(path string) {
	bucket, key, _ := strings.Cut(path, "/")
	if bucket == "" {
		return
	}
	// The listings that can show key are exactly those whose prefix key
	// starts with; Invalidate drops every listing whose prefix overlaps.
	g.lister.Invalidate(bucket, key)
}

// objectBody is the request's body for PutObject or UploadPart: decoded
// and verified (decodeBody), at most understore.MaxPutSize bytes, with the
// first error its reads returned kept, because that error (a bad digest,
// a short body) is the answer even when the Writer reports it as its own.
type objectBody struct {
	decodedBody
	read int64
	err  error
}

func (b *objectBody) Read(p []byte) (int, error) {
	n, err := b.decodedBody.Read(p)
	b.read += int64(n)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// body decodes the request body of an object write.
func (g *Gateway) body(q *request) (*objectBody, error) { return g.bodyWith(q, q.r.Header) }

// bodyWith is body checked against the headers h (the request's, or some
// of them) instead of all the request's.
func (g *Gateway) bodyWith(q *request, h http.Header) (*objectBody, error) {
	req := bodyRequest{header: h, body: q.r.Body, contentLength: declaredLength(q)}
	if g.verifier != nil && q.cred.AccessKey != "" {
		req.cred = q.cred
		req.signingKey, _ = g.verifier.SigningKey(q.cred)
	}
	if req.body == nil {
		req.body = emptyBody{}
	}
	d, err := g.decodeBody(req)
	if err != nil {
		return nil, err
	}
	if d.Size() > understore.MaxPutSize {
		return nil, errEntityTooLarge(understore.MaxPutSize)
	}
	return &objectBody{decodedBody: d}, nil
}

// declaredLength is the request's Content-Length, -1 when it has none:
// net/http reports a request without a body header as 0 bytes, S3 (and so
// the gateway) answers it MissingContentLength, as it does a
// Transfer-Encoding: chunked body.
func declaredLength(q *request) int64 {
	if q.r.ContentLength == 0 && q.r.Header.Get("Content-Length") == "" {
		return -1
	}
	return q.r.ContentLength
}

// writeErr is the answer to a failed body write: the body's own error
// when reading it failed, else the Writer's.
func (b *objectBody) writeErr(err error) error {
	if b.err != nil {
		var se *s3Error
		if errors.As(b.err, &se) {
			return se
		}
		return b.err
	}
	return err
}

// emptyBody is an empty body (a request without one).
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }

// checksumHeaders echoes the verified checksums of a body, as S3 does.
func checksumHeaders(q *request, sums map[string]string) {
	for alg, v := range sums {
		q.w.Header().Set("x-amz-checksum-"+alg, v)
	}
}
