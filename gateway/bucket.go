package gateway

import (
	"context"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/ringcache/ringcache/gateway/internal/listing"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// writeXML answers 200 with v as an S3 XML document.
func (q *request) writeXML(v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return errInternal(err)
	}
	h := q.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	q.writeHeader(http.StatusOK)
	if q.r.Method == http.MethodHead {
		return nil
	}
	n1, _ := q.w.Write([]byte(xml.Header))
	n2, _ := q.w.Write(body)
	q.bytesOut = int64(n1 + n2)
	return nil
}

func (g *Gateway) listBuckets(q *request) error {
	res, err := g.lister.ListBuckets(q.ctx)
	if err != nil {
		return err
	}
	return q.writeXML(res)
}

// requireBucket answers NoSuchBucket for a bucket the under-store lacks.
func (g *Gateway) requireBucket(q *request) error {
	ok, err := g.lister.BucketExists(q.ctx, q.rt.bucket)
	if err != nil {
		return err
	}
	if !ok {
		return errNoSuchBucket()
	}
	return nil
}

func (g *Gateway) headBucket(q *request) error {
	if err := g.requireBucket(q); err != nil {
		return err
	}
	q.w.Header().Set("x-amz-bucket-region", g.cfg.Region)
	q.writeHeader(http.StatusOK)
	return nil
}

// locationConstraint is GetBucketLocation's answer; S3 answers us-east-1
// as an empty constraint.
type locationConstraint struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
	Region  string   `xml:",chardata"`
}

func (g *Gateway) bucketLocation(q *request) error {
	if err := g.requireBucket(q); err != nil {
		return err
	}
	region := g.cfg.Region
	if region == "us-east-1" {
		region = ""
	}
	return q.writeXML(locationConstraint{Region: region})
}

func (g *Gateway) listObjects(q *request) error {
	lq, err := listing.ParseQuery(q.rt.bucket, q.query)
	if err != nil {
		return err
	}
	res, err := g.lister.ListObjects(q.ctx, lq)
	if err != nil {
		return err
	}
	return q.writeXML(res)
}

// directoryStore is an under-store whose directories are their own
// markers (the local-directory store); on any other (S3) a marker is an
// object like any other.
type directoryStore interface{ DirectoryMarkers() bool }

// statStore is an under-store that can Stat a path (both of understore's
// can; on the local one Stat of a directory's marker answers it as a
// 0-byte object).
type statStore interface {
	Stat(ctx context.Context, path string) (understore.ObjectInfo, error)
}

// markerMeta answers HEAD of a key ending in "/" (a directory marker, as
// Hadoop S3A and the aws console write them). The node's read path does
// not take such paths, so the under-store's listing decides: the marker
// exists when the listing under it holds the marker object itself; on a
// store whose directories are markers, when the directory exists (Stat),
// or else when the listing under it holds anything at all.
func (g *Gateway) markerMeta(q *request) (objectMeta, error) {
	if ds, ok := g.store.(directoryStore); ok && ds.DirectoryMarkers() {
		if ss, ok := g.store.(statStore); ok {
			// The directory is the marker, empty or not (an empty one is
			// what a PUT of the marker made): Stat says whether it exists.
			info, err := ss.Stat(q.ctx, q.path())
			if err != nil {
				return objectMeta{}, g.notFoundAs(q, err)
			}
			return objectMeta{etag: listing.QuoteETag(info.ETag), rawETag: info.ETag, modTime: info.ModTime}, nil
		}
	}
	page, err := g.store.List(q.ctx, q.path(), "/", "", 1)
	if err != nil {
		return objectMeta{}, g.notFoundAs(q, err)
	}
	for _, o := range page.Objects {
		if o.Path == q.path() {
			if o.Size != 0 {
				return objectMeta{}, errNotImplemented("GetObject of a non-empty key ending in /")
			}
			return objectMeta{etag: listing.QuoteETag(o.ETag), rawETag: o.ETag, modTime: o.ModTime}, nil
		}
	}
	ds, ok := g.store.(directoryStore)
	if !ok || !ds.DirectoryMarkers() || (len(page.Objects) == 0 && len(page.Prefixes) == 0) {
		return objectMeta{}, g.notFoundAs(q, transport.ErrNotFound)
	}
	return objectMeta{etag: emptyETag}, nil
}

// getMarker answers GET of a directory marker: its 0 bytes.
func (g *Gateway) getMarker(q *request) error {
	m, err := g.markerMeta(q)
	if err != nil {
		return err
	}
	if code := parseConditions(q.r.Header).check(m.etag, m.modTime); code != 0 {
		return q.conditionFailed(code, m)
	}
	if rng, ok := parseRange(q.r.Header.Get("Range")); ok {
		if _, _, rerr := rng.resolve(0); rerr != nil {
			return rerr
		}
	}
	objectHeaders(q.w.Header(), m, 0, 0, false, q.query)
	q.writeHeader(http.StatusOK)
	return nil
}

// isMarker reports whether a key names a directory marker.
func isMarker(key string) bool { return strings.HasSuffix(key, "/") }
