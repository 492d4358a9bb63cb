package listing

import (
	"encoding/xml"
	"net/url"
	"strings"
	"time"
)

// Namespace is the XML namespace of every S3 result document.
const Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// TimeFormat is S3's timestamp in result documents: RFC 3339, UTC, with
// milliseconds ("2009-10-12T17:50:30.000Z").
const TimeFormat = "2006-01-02T15:04:05.000Z"

// StorageClass is what every listed object reports.
const StorageClass = "STANDARD"

// ListBucketResultV2 is ListObjectsV2's answer. Elements are in the order
// S3 sends them; optional ones are omitted when empty, as S3 does.
type ListBucketResultV2 struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	KeyCount              int            `xml:"KeyCount"`
	IsTruncated           bool           `xml:"IsTruncated"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	Contents              []Object       `xml:"Contents"`
	CommonPrefixes        []CommonPrefix `xml:"CommonPrefixes"`
}

// ListBucketResultV1 is ListObjects' (v1) answer. NextMarker is set only
// when a delimiter is (as S3 does); without one a client continues from
// the last key.
type ListBucketResultV1 struct {
	XMLName        xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name           string         `xml:"Name"`
	Prefix         string         `xml:"Prefix"`
	Marker         string         `xml:"Marker"`
	NextMarker     string         `xml:"NextMarker,omitempty"`
	Delimiter      string         `xml:"Delimiter,omitempty"`
	MaxKeys        int            `xml:"MaxKeys"`
	IsTruncated    bool           `xml:"IsTruncated"`
	EncodingType   string         `xml:"EncodingType,omitempty"`
	Contents       []Object       `xml:"Contents"`
	CommonPrefixes []CommonPrefix `xml:"CommonPrefixes"`
}

// Object is one <Contents>.
type Object struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"` // TimeFormat
	ETag         string `xml:"ETag"`         // quoted
	Size         int64  `xml:"Size"`
	Owner        *Owner `xml:"Owner,omitempty"`
	StorageClass string `xml:"StorageClass"`
}

// CommonPrefix is one <CommonPrefixes>.
type CommonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// Owner is an object's or the service's owner.
type Owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

// ListAllMyBucketsResult is ListBuckets' answer.
type ListAllMyBucketsResult struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner   Owner    `xml:"Owner"`
	Buckets []Bucket `xml:"Buckets>Bucket"`
}

// Bucket is one <Bucket> of ListAllMyBucketsResult.
type Bucket struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"` // TimeFormat
}

// FormatTime formats t as S3 does in result documents.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// QuoteETag returns etag in the quoted form S3 sends, in XML and in the
// ETag header alike. The S3 under-store's ETags come quoted already (the
// SDK keeps S3's quotes); the local-directory store's are bare hex. Use it
// for every ETag the gateway sends, so a listing and a HEAD agree.
func QuoteETag(etag string) string {
	if len(etag) >= 2 && strings.HasPrefix(etag, `"`) && strings.HasSuffix(etag, `"`) {
		return etag
	}
	return `"` + etag + `"`
}

// urlEncode is encoding-type=url's encoding as S3 applies it: form
// encoding (space as "+", "+" as "%2B", non-ASCII as UTF-8 %XX) with "/"
// left as it is. Clients decode with url.QueryUnescape or unquote_plus.
func urlEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}
