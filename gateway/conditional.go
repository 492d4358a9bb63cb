package gateway

import (
	"net/http"
	"strings"
	"time"
)

// conditions are a request's If-* headers.
type conditions struct {
	ifMatch, ifNoneMatch string
	ifModifiedSince      time.Time // zero: absent or not a date (ignored, as S3 does)
	ifUnmodifiedSince    time.Time
}

func parseConditions(h http.Header) conditions {
	c := conditions{ifMatch: h.Get("If-Match"), ifNoneMatch: h.Get("If-None-Match")}
	if v := h.Get("If-Modified-Since"); v != "" {
		c.ifModifiedSince, _ = http.ParseTime(v)
	}
	if v := h.Get("If-Unmodified-Since"); v != "" {
		c.ifUnmodifiedSince, _ = http.ParseTime(v)
	}
	return c
}

func (c conditions) present() bool {
	return c.ifMatch != "" || c.ifNoneMatch != "" || !c.ifModifiedSince.IsZero() || !c.ifUnmodifiedSince.IsZero()
}

// check evaluates the conditions against the object's ETag (quoted) and
// modification time, in the order of RFC 9110 section 13.2.2, which is
// what S3 documents: If-Match decides over If-Unmodified-Since (412), and
// If-None-Match over If-Modified-Since (304 for GET and HEAD). It returns
// 0 when the object is to be served.
func (c conditions) check(etag string, mod time.Time) int {
	mod = mod.Truncate(time.Second) // Last-Modified has whole seconds
	if c.ifMatch != "" {
		if !etagMatches(c.ifMatch, etag) {
			return http.StatusPreconditionFailed
		}
	} else if !c.ifUnmodifiedSince.IsZero() && mod.After(c.ifUnmodifiedSince) {
		return http.StatusPreconditionFailed
	}
	if c.ifNoneMatch != "" {
		if etagMatches(c.ifNoneMatch, etag) {
			return http.StatusNotModified
		}
	} else if !c.ifModifiedSince.IsZero() && !mod.After(c.ifModifiedSince) {
		return http.StatusNotModified
	}
	return 0
}

// etagMatches reports whether a header's list of entity tags (or "*")
// names etag. Tags compare without quotes and without a weak prefix:
// clients send S3 ETags both quoted and bare.
func etagMatches(list, etag string) bool {
	want := strings.Trim(etag, `"`)
	for tag := range strings.SplitSeq(list, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		tag = strings.TrimPrefix(tag, "W/")
		if strings.Trim(tag, `"`) == want {
			return true
		}
	}
	return false
}
