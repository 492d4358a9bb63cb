package listing

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ringcache/ringcache/objpath"
)

// Limits of a listing request.
const (
	// MaxKeys is S3's largest page; a larger max-keys is clamped to it, as
	// S3 does.
	MaxKeys = 1000
	// MaxDelimiterLen bounds the delimiter, in bytes. S3 allows any
	// string; a delimiter longer than a key could never split one, so
	// objpath.MaxLen is the useful bound.
	MaxDelimiterLen = objpath.MaxLen
	// MaxStartLen bounds start-after and marker: they are keys.
	MaxStartLen = objpath.MaxLen
)

// Query is one ListObjects (v1) or ListObjectsV2 request.
type Query struct {
	Bucket    string
	Prefix    string
	Delimiter string // "" = none
	// StartAfter (v2) and Marker (v1) list keys strictly after themselves.
	// A ContinuationToken (v2) takes precedence over StartAfter, as in S3.
	StartAfter, ContinuationToken, Marker string
	// MaxKeys is 0..MaxKeys; objects and common prefixes count together.
	MaxKeys int
	// EncodingURL is encoding-type=url: keys, prefixes, the delimiter and
	// start keys in the result are URL-encoded.
	EncodingURL bool
	// FetchOwner (v2) adds each object's Owner; v1 always has it.
	FetchOwner bool
	// V2 is list-type=2.
	V2 bool
}

// ParseQuery reads a ListObjects request from the bucket (from the URL's
// path) and its query string, and validates it (see Query.Validate).
func ParseQuery(bucket string, q url.Values) (Query, error) {
	qq := Query{
		Bucket:            bucket,
		Prefix:            q.Get("prefix"),
		Delimiter:         q.Get("delimiter"),
		StartAfter:        q.Get("start-after"),
		ContinuationToken: q.Get("continuation-token"),
		Marker:            q.Get("marker"),
		MaxKeys:           MaxKeys,
		FetchOwner:        q.Get("fetch-owner") == "true",
	}
	switch lt := q.Get("list-type"); lt {
	case "2":
		qq.V2 = true
	case "", "1":
	default:
		return Query{}, invalidArg("list-type", lt, "Invalid list type")
	}
	if q.Has("max-keys") {
		mk := q.Get("max-keys")
		n, err := strconv.Atoi(mk)
		if err != nil || n < 0 {
			return Query{}, invalidArg("max-keys", mk, "Provided max-keys not an integer or within integer range")
		}
		qq.MaxKeys = min(n, MaxKeys)
	}
	switch et := q.Get("encoding-type"); et {
	case "":
	case "url":
		qq.EncodingURL = true
	default:
		return Query{}, invalidArg("encoding-type", et, "Invalid Encoding Method specified in Request")
	}
	if err := qq.Validate(); err != nil {
		return Query{}, err
	}
	return qq, nil
}

// Validate checks a Query (ParseQuery calls it; a Query built by hand is
// checked again by ListObjects). The prefix follows objpath's rules for a
// listing prefix ("." / ".." / empty elements are refused, as everywhere in
// ringcache); the delimiter and start keys are free strings of bounded
// length without NUL bytes (XML cannot carry them).
func (q Query) Validate() error {
	if q.Bucket == "" || strings.Contains(q.Bucket, "/") {
		return invalidArg("bucket", q.Bucket, "Invalid bucket name")
	}
	if err := objpath.ValidatePrefix(q.Bucket + "/" + q.Prefix); err != nil {
		return invalidArg("prefix", q.Prefix, fmt.Sprintf("Invalid prefix: %v", err))
	}
	if err := checkFree("delimiter", q.Delimiter, MaxDelimiterLen); err != nil {
		return err
	}
	if err := checkFree("start-after", q.StartAfter, MaxStartLen); err != nil {
		return err
	}
	if err := checkFree("marker", q.Marker, MaxStartLen); err != nil {
		return err
	}
	if len(q.ContinuationToken) > MaxTokenLen {
		return invalidArg("continuation-token", q.ContinuationToken, "The continuation token provided is incorrect")
	}
	if q.MaxKeys < 0 || q.MaxKeys > MaxKeys {
		return invalidArg("max-keys", strconv.Itoa(q.MaxKeys), "max-keys out of range")
	}
	return nil
}

// checkFree checks a parameter that is any string of at most max bytes of
// UTF-8 without NUL.
func checkFree(name, v string, max int) error {
	switch {
	case len(v) > max:
		return invalidArg(name, v, fmt.Sprintf("%s is longer than %d bytes", name, max))
	case !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0:
		return invalidArg(name, v, fmt.Sprintf("%s is not valid UTF-8 without NUL", name))
	}
	return nil
}
