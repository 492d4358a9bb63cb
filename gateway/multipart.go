package gateway

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ringcache/ringcache/gateway/internal/listing"
	"github.com/ringcache/ringcache/understore"
)

// Multipart uploads: S3's six operations, each one call of the Writer.
// The parts live in the under-store's staging (see understore.Multiparter)
// until CompleteMultipartUpload assembles them; only then does the object
// change, and only then is the listing cache dropped.

// maxListParts bounds max-parts and max-uploads, as S3 does.
const maxListParts = 1000

func (g *Gateway) createUpload(q *request) error {
	id, err := g.writer.CreateUpload(q.ctx, q.path())
	if err != nil {
		return g.notFoundAs(q, err)
	}
	return q.writeXML(initiateResult{Bucket: q.rt.bucket, Key: q.rt.key, UploadID: id})
}

// uploadID is the request's uploadId; an empty one names no upload.
func uploadID(q *request) (string, error) {
	id := q.query.Get("uploadId")
	if id == "" {
		return "", errNoSuchUpload()
	}
	return id, nil
}

// partNumber parses UploadPart's partNumber: 1..understore.MaxParts.
func partNumber(q *request) (int, error) {
	v := q.query.Get("partNumber")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > understore.MaxParts {
		return 0, errInvalidArgument("Part number must be an integer between 1 and %d, inclusive (got %q)", understore.MaxParts, v)
	}
	return n, nil
}

func (g *Gateway) uploadPart(q *request) error {
	num, err := partNumber(q)
	if err != nil {
		return err
	}
	id, err := uploadID(q)
	if err != nil {
		return err
	}
	body, err := g.body(q)
	if err != nil {
		return err
	}
	part, err := g.writer.UploadPart(q.ctx, q.path(), id, num, body, body.Size())
	if err != nil {
		return body.writeErr(err)
	}
	h := q.w.Header()
	h.Set("ETag", listing.QuoteETag(part.ETag))
	checksumHeaders(q, body.Checksums())
	h.Set("Content-Length", "0")
	q.writeHeader(http.StatusOK)
	return nil
}

func (g *Gateway) completeUpload(q *request) error {
	if err := refuseConditionalWrite(q); err != nil {
		return err
	}
	id, err := uploadID(q)
	if err != nil {
		return err
	}
	data, err := g.readXMLBody(q, withoutObjectChecksums(q.r.Header), maxCompleteXML)
	if err != nil {
		return err
	}
	parts, err := parseCompleteRequest(data)
	if err != nil {
		return err
	}
	info, err := g.writer.CompleteUpload(q.ctx, q.path(), id, parts)
	if err != nil {
		return g.notFoundAs(q, err)
	}
	g.ObjectChanged(q.path())
	return q.writeXML(completeResult{
		Location: location(q), Bucket: q.rt.bucket, Key: q.rt.key, ETag: listing.QuoteETag(info.ETag),
	})
}

// location is the new object's URL, path-style on the host the client
// used.
func location(q *request) string {
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: q.r.Host, Path: "/" + q.path()}
	return u.String()
}

func (g *Gateway) abortUpload(q *request) error {
	id, err := uploadID(q)
	if err != nil {
		return err
	}
	if err := g.writer.AbortUpload(q.ctx, q.path(), id); err != nil {
		return g.notFoundAs(q, err)
	}
	q.writeHeader(http.StatusNoContent)
	return nil
}

// intParam parses an optional non-negative integer query parameter.
func intParam(q *request, name string, def int) (int, error) {
	v, ok := q.query[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.Join(v, ""))
	if err != nil || n < 0 || len(v) != 1 {
		return 0, errInvalidArgument("Provided %s not an integer or within integer range", name)
	}
	return n, nil
}

func (g *Gateway) listParts(q *request) error {
	id, err := uploadID(q)
	if err != nil {
		return err
	}
	limit, err := intParam(q, "max-parts", maxListParts)
	if err != nil {
		return err
	}
	marker, err := intParam(q, "part-number-marker", 0)
	if err != nil {
		return err
	}
	limit = min(limit, maxListParts)
	page, err := g.writer.ListParts(q.ctx, q.path(), id, marker, limit)
	if err != nil {
		return g.notFoundAs(q, err)
	}
	res := listPartsResult{
		Bucket: q.rt.bucket, Key: q.rt.key, UploadID: id, Initiator: uploadOwner, Owner: uploadOwner,
		StorageClass: listing.StorageClass, PartNumberMarker: marker, NextPartNumberMarker: page.NextMarker,
		MaxParts: limit, IsTruncated: page.Truncated,
	}
	for _, p := range page.Parts {
		res.Parts = append(res.Parts, partResultDoc{
			PartNumber: p.Number, LastModified: listing.FormatTime(p.ModTime), ETag: listing.QuoteETag(p.ETag), Size: p.Size,
		})
	}
	return q.writeXML(res)
}

// listUploads serves ListMultipartUploads. Key markers, next markers and
// the Writer's results are keys relative to the bucket; the Writer's
// paths and prefixes are "bucket/...".
func (g *Gateway) listUploads(q *request) error {
	if err := g.requireBucket(q); err != nil {
		return err
	}
	limit, err := intParam(q, "max-uploads", maxListParts)
	if err != nil {
		return err
	}
	limit = min(limit, maxListParts)
	enc := q.query.Get("encoding-type")
	if enc != "" && enc != "url" {
		return errInvalidArgument("Invalid Encoding Method specified in Request")
	}
	prefix, delim := q.query.Get("prefix"), q.query.Get("delimiter")
	keyMarker, idMarker := q.query.Get("key-marker"), q.query.Get("upload-id-marker")
	if keyMarker == "" {
		idMarker = "" // S3 ignores an upload-id-marker without a key-marker
	}
	res := listUploadsResult{
		Bucket: q.rt.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker,
		Delimiter: delim, Prefix: prefix, MaxUploads: limit,
	}
	if limit > 0 {
		page, err := g.writer.ListUploads(q.ctx, q.rt.bucket+"/"+prefix, delim, keyMarker, idMarker, limit)
		if err != nil {
			return g.notFoundAs(q, err)
		}
		res.NextKeyMarker, res.NextUploadIDMarker, res.IsTruncated = page.NextKeyMarker, page.NextUploadIDMarker, page.Truncated
		for _, u := range page.Uploads {
			res.Uploads = append(res.Uploads, uploadDoc{
				Key: strings.TrimPrefix(u.Path, q.rt.bucket+"/"), UploadID: u.UploadID, Initiator: uploadOwner, Owner: uploadOwner,
				StorageClass: listing.StorageClass, Initiated: listing.FormatTime(u.Initiated),
			})
		}
		for _, p := range page.Prefixes {
			res.CommonPrefixes = append(res.CommonPrefixes, listing.CommonPrefix{Prefix: strings.TrimPrefix(p, q.rt.bucket+"/")})
		}
	}
	if enc == "url" {
		res.EncodingType = enc
		encodeUploads(&res)
	}
	return q.writeXML(res)
}

// encodeUploads applies encoding-type=url to the keys of a listing, as
// S3 does for listings (form encoding, "/" kept).
func encodeUploads(res *listUploadsResult) {
	e := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/") }
	res.KeyMarker, res.NextKeyMarker, res.Prefix, res.Delimiter = e(res.KeyMarker), e(res.NextKeyMarker), e(res.Prefix), e(res.Delimiter)
	for i := range res.Uploads {
		res.Uploads[i].Key = e(res.Uploads[i].Key)
	}
	for i := range res.CommonPrefixes {
		res.CommonPrefixes[i].Prefix = e(res.CommonPrefixes[i].Prefix)
	}
}
