package gateway

import (
	"encoding/xml"
)

// The XML of DeleteObjects: the Delete request body (untrusted: bounded
// and fuzzed) and the DeleteResult.

// maxDeleteKeys is S3's limit of keys per DeleteObjects.
const maxDeleteKeys = 1000

// maxDeleteXML bounds a Delete body: 1000 keys of 1 KiB, each character
// possibly written as a 6-byte character reference, fit in 8 MiB.
const maxDeleteXML = 8 << 20

// deleteRequest is the Delete body.
type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool     `xml:"Quiet"`
	Objects []struct {
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

// deleteTarget is one key to delete.
type deleteTarget struct {
	key, versionID string
}

// parseDeleteRequest parses a Delete body. Malformed XML, no key or more
// than maxDeleteKeys keys are MalformedXML, as in S3; the keys themselves
// are checked one by one (a bad key is an error of that key only).
func parseDeleteRequest(data []byte) (quiet bool, targets []deleteTarget, err error) {
	var req deleteRequest
	if err := xml.Unmarshal(data, &req); err != nil {
		e := errMalformedXML()
		e.cause = err
		return false, nil, e
	}
	if len(req.Objects) == 0 || len(req.Objects) > maxDeleteKeys {
		return false, nil, errMalformedXML()
	}
	targets = make([]deleteTarget, len(req.Objects))
	for i, o := range req.Objects {
		targets[i] = deleteTarget{key: o.Key, versionID: o.VersionID}
	}
	return req.Quiet, targets, nil
}

// deleteResult is DeleteObjects' answer: the keys deleted (unless quiet)
// and the keys that failed, each with its S3 error.
type deleteResult struct {
	XMLName xml.Name         `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []deletedDoc     `xml:"Deleted"`
	Errors  []deleteErrorDoc `xml:"Error"`
}

type deletedDoc struct {
	Key string `xml:"Key"`
}

type deleteErrorDoc struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}
