package gateway

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strings"

	"github.com/ringcache/ringcache/gateway/internal/listing"
	"github.com/ringcache/ringcache/understore"
)

// The XML of multipart uploads: the CompleteMultipartUpload request body
// (untrusted: bounded and fuzzed) and the result documents.

// maxCompleteXML bounds a CompleteMultipartUpload body: 10000 parts with
// a quoted ETag and every checksum element take under 4 MiB.
const maxCompleteXML = 4 << 20

// completeRequest is the CompleteMultipartUpload body. The root element's
// namespace is not checked (clients send S3's or none); checksum elements
// of a part are accepted and ignored (the parts' own were verified when
// they were uploaded).
type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	} `xml:"Part"`
}

// parseCompleteRequest parses a CompleteMultipartUpload body into the
// parts to assemble, in the order given, ETags without their quotes (the
// understore's convention; a client sends them quoted, as S3 returned
// them). Malformed XML, no part, more than understore.MaxParts parts or an
// empty ETag are MalformedXML; a part number outside 1..MaxParts is
// InvalidArgument; numbers not strictly ascending are InvalidPartOrder.
func parseCompleteRequest(data []byte) ([]understore.CompletedPart, error) {
	var req completeRequest
	if err := xml.Unmarshal(data, &req); err != nil {
		e := errMalformedXML()
		e.cause = err
		return nil, e
	}
	if len(req.Parts) == 0 || len(req.Parts) > understore.MaxParts {
		return nil, errMalformedXML()
	}
	parts := make([]understore.CompletedPart, len(req.Parts))
	for i, p := range req.Parts {
		if p.PartNumber < 1 || p.PartNumber > understore.MaxParts {
			return nil, errInvalidArgument("Part number must be an integer between 1 and %d, inclusive", understore.MaxParts)
		}
		etag := strings.TrimSpace(p.ETag)
		etag = strings.TrimSuffix(strings.TrimPrefix(etag, `"`), `"`)
		if etag == "" {
			return nil, errMalformedXML()
		}
		if i > 0 && p.PartNumber <= parts[i-1].Number {
			return nil, newError("InvalidPartOrder", http.StatusBadRequest,
				"The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
		parts[i] = understore.CompletedPart{Number: p.PartNumber, ETag: etag}
	}
	return parts, nil
}

// readXMLBody reads a request's XML body of at most max bytes, verified
// like an object body against the headers h (x-amz-content-sha256,
// Content-MD5, x-amz-checksum-*); a longer one is refused before it is
// read.
func (g *Gateway) readXMLBody(q *request, h http.Header, max int64) ([]byte, error) {
	tooBig := func() error {
		return newError("MaxMessageLengthExceeded", http.StatusBadRequest, "Your request was too big (more than %d bytes).", max)
	}
	if declaredLength(q) > max {
		return nil, tooBig()
	}
	body, err := g.bodyWith(q, h)
	if err != nil {
		return nil, err
	}
	if body.Size() > max {
		return nil, tooBig()
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, body); err != nil {
		return nil, body.writeErr(err)
	}
	return buf.Bytes(), nil
}

// initiateResult is CreateMultipartUpload's answer.
type initiateResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

// completeResult is CompleteMultipartUpload's answer.
type completeResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"` // quoted
}

// listPartsResult is ListParts' answer.
type listPartsResult struct {
	XMLName              xml.Name        `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket               string          `xml:"Bucket"`
	Key                  string          `xml:"Key"`
	UploadID             string          `xml:"UploadId"`
	Initiator            listing.Owner   `xml:"Initiator"`
	Owner                listing.Owner   `xml:"Owner"`
	StorageClass         string          `xml:"StorageClass"`
	PartNumberMarker     int             `xml:"PartNumberMarker"`
	NextPartNumberMarker int             `xml:"NextPartNumberMarker"`
	MaxParts             int             `xml:"MaxParts"`
	IsTruncated          bool            `xml:"IsTruncated"`
	Parts                []partResultDoc `xml:"Part"`
}

type partResultDoc struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"` // quoted
	Size         int64  `xml:"Size"`
}

// listUploadsResult is ListMultipartUploads' answer.
type listUploadsResult struct {
	XMLName            xml.Name               `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string                 `xml:"Bucket"`
	KeyMarker          string                 `xml:"KeyMarker"`
	UploadIDMarker     string                 `xml:"UploadIdMarker"`
	NextKeyMarker      string                 `xml:"NextKeyMarker"`
	NextUploadIDMarker string                 `xml:"NextUploadIdMarker"`
	Delimiter          string                 `xml:"Delimiter,omitempty"`
	Prefix             string                 `xml:"Prefix"`
	MaxUploads         int                    `xml:"MaxUploads"`
	IsTruncated        bool                   `xml:"IsTruncated"`
	EncodingType       string                 `xml:"EncodingType,omitempty"`
	Uploads            []uploadDoc            `xml:"Upload"`
	CommonPrefixes     []listing.CommonPrefix `xml:"CommonPrefixes"`
}

type uploadDoc struct {
	Key          string        `xml:"Key"`
	UploadID     string        `xml:"UploadId"`
	Initiator    listing.Owner `xml:"Initiator"`
	Owner        listing.Owner `xml:"Owner"`
	StorageClass string        `xml:"StorageClass"`
	Initiated    string        `xml:"Initiated"` // listing.TimeFormat
}

// uploadOwner is the owner and initiator every upload reports (the gateway has
// one identity, as in listings).
var uploadOwner = listing.Owner{ID: listing.DefaultOwnerID, DisplayName: listing.DefaultOwnerID}

// withoutObjectChecksums is h without its x-amz-checksum-{algorithm}
// headers. On CompleteMultipartUpload they are the checksum of the object
// being assembled (of its parts' checksums, x-amz-checksum-type COMPOSITE,
// or of all its bytes, FULL_OBJECT), as minio-go and the AWS SDKs send
// them, not of the XML body, which they must not be checked against. The
// gateway keeps no part checksums, so it cannot check them either (the
// parts were checked as they were uploaded).
func withoutObjectChecksums(h http.Header) http.Header {
	var out http.Header
	for k := range h {
		lk := strings.ToLower(k)
		if alg, ok := strings.CutPrefix(lk, "x-amz-checksum-"); ok && checksumNames[alg] {
			if out == nil {
				out = h.Clone()
			}
			out.Del(k)
		}
	}
	if out == nil {
		return h
	}
	return out
}
