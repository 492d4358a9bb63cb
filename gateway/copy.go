package gateway

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/ringcache/ringcache/gateway/internal/listing"
	"github.com/ringcache/ringcache/objpath"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// CopyObject: PUT with x-amz-copy-source. The source's version is pinned
// by the ETag its metadata had when the x-amz-copy-source-if-* conditions
// were evaluated, so the copy is of the version the conditions held for.
//
// Metadata: ringcache stores no user metadata or content type (every
// object is served as binary/octet-stream), so x-amz-metadata-directive
// COPY and REPLACE copy the same bytes; REPLACE is accepted (it is what
// makes a copy onto itself legal) but its metadata headers are not stored.

// copyResult is CopyObject's answer.
type copyResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyObjectResult"`
	LastModified string   `xml:"LastModified"` // listing.TimeFormat
	ETag         string   `xml:"ETag"`         // quoted
}

// copySource parses x-amz-copy-source: "bucket/key" or "/bucket/key",
// URL-encoded; "?versionId=" is refused (ringcache keeps no versions).
func copySource(v string) (bucket, key string, err error) {
	raw, query, hasQuery := strings.Cut(v, "?")
	if hasQuery {
		if vals, perr := url.ParseQuery(query); perr == nil && vals.Has("versionId") {
			return "", "", errNotImplemented("CopyObject of a source version (x-amz-copy-source ?versionId)")
		}
		return "", "", errInvalidArgument("Invalid copy source: %q", v)
	}
	dec, uerr := url.PathUnescape(raw)
	if uerr != nil {
		return "", "", errInvalidArgument("Invalid copy source encoding: %q", v)
	}
	dec = strings.TrimPrefix(dec, "/")
	bucket, key, ok := strings.Cut(dec, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", errInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	if err := objpath.Validate(bucket + "/" + strings.TrimSuffix(key, "/")); err != nil {
		return "", "", errInvalidArgument("invalid copy source %q: %v", dec, err)
	}
	return bucket, key, nil
}

// copyConditions are the x-amz-copy-source-if-* headers, which S3
// evaluates like the If-* headers of a GET but answers every failure with
// 412.
func copyConditions(h http.Header) conditions {
	c := http.Header{}
	for _, name := range []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if v := h.Get("X-Amz-Copy-Source-" + name); v != "" {
			c.Set(name, v)
		}
	}
	return parseConditions(c)
}

func (g *Gateway) copyObject(q *request) error {
	srcBucket, srcKey, err := copySource(q.r.Header.Get(copySourceHeader))
	if err != nil {
		return err
	}
	directive := q.r.Header.Get("X-Amz-Metadata-Directive")
	switch directive {
	case "", "COPY", "REPLACE":
	default:
		return errInvalidArgument("Unknown metadata directive: %q", directive)
	}
	src, dst := srcBucket+"/"+srcKey, q.path()
	if src == dst && directive != "REPLACE" {
		return errInvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	cond := copyConditions(q.r.Header)
	info, err := g.copyOnce(q, src, srcBucket, srcKey, cond)
	if err != nil && !cond.present() && isChanged(err) {
		// The source changed between its Stat and the copy: nothing was
		// promised about its version, so copy the new one.
		info, err = g.copyOnce(q, src, srcBucket, srcKey, cond)
	}
	if err != nil {
		return err
	}
	g.ObjectChanged(dst)
	return q.writeXML(copyResult{LastModified: listing.FormatTime(info.ModTime), ETag: listing.QuoteETag(info.ETag)})
}

// copyOnce evaluates the conditions on the source's current version and
// copies that version.
func (g *Gateway) copyOnce(q *request, src, srcBucket, srcKey string, cond conditions) (understore.ObjectInfo, error) {
	var want understore.ObjectInfo
	if isMarker(srcKey) {
		// The read path does not stat markers; a marker is 0 bytes
		// whatever its version, so it is copied unpinned.
		if cond.present() {
			return want, errNotImplemented("x-amz-copy-source-if-* on a directory marker")
		}
	} else {
		m, err := g.statObject(q.ctx, src)
		if err != nil {
			return want, g.notFoundIn(q, srcBucket, err)
		}
		if cond.check(m.etag, m.modTime) != 0 {
			return want, errPreconditionFailed()
		}
		if m.size > understore.MaxPutSize {
			return want, errInvalidRequest("The specified copy source is larger than the maximum allowable size for a copy source: %d", int64(understore.MaxPutSize))
		}
		want = understore.ObjectInfo{Path: src, Size: m.size, ETag: m.rawETag, ModTime: m.modTime}
	}
	info, err := g.writer.CopyObject(q.ctx, src, q.path(), want)
	if err != nil {
		if isChanged(err) && cond.present() {
			e := errPreconditionFailed()
			e.cause = err
			return info, e
		}
		if errors.Is(err, understore.ErrNotFound) || errors.Is(err, transport.ErrNotFound) {
			// Either end may be missing: the source's key or bucket, or
			// the destination's bucket.
			if ok, berr := g.lister.BucketExists(q.ctx, q.rt.bucket); berr == nil && !ok {
				return info, errNoSuchBucket()
			}
			return info, g.notFoundIn(q, srcBucket, err)
		}
		return info, err
	}
	return info, nil
}

func isChanged(err error) bool {
	return errors.Is(err, understore.ErrChanged) || errors.Is(err, transport.ErrChanged)
}

// notFoundIn is notFoundAs for a path in another bucket than the
// request's (a copy's source).
func (g *Gateway) notFoundIn(q *request, bucket string, err error) error {
	if !errors.Is(err, transport.ErrNotFound) && !errors.Is(err, understore.ErrNotFound) {
		return err
	}
	if ok, berr := g.lister.BucketExists(q.ctx, bucket); berr == nil && !ok {
		e := errNoSuchBucket()
		e.cause = err
		return e
	}
	e := errNoSuchKey()
	e.cause = err
	return e
}
