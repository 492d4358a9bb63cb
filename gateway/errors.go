package gateway

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/ringcache/ringcache/gateway/internal/listing"
	"github.com/ringcache/ringcache/gateway/internal/sigv4"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// s3Error is an S3 error answer: its code, HTTP status and message.
type s3Error struct {
	Code    string
	Status  int
	Message string
	// Header holds extra response headers (Content-Range on 416).
	Header http.Header
	// cause is the ringcache error behind it, for the log line.
	cause error
}

func (e *s3Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

func (e *s3Error) Unwrap() error { return e.cause }

func newError(code string, status int, format string, args ...any) *s3Error {
	return &s3Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// The S3 errors the gateway answers (CONTRACT.md, "S3 gateway").
func errNoSuchKey() *s3Error {
	return newError("NoSuchKey", http.StatusNotFound, "The specified key does not exist.")
}

func errNoSuchBucket() *s3Error {
	return newError("NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist.")
}

func errInvalidArgument(format string, args ...any) *s3Error {
	return newError("InvalidArgument", http.StatusBadRequest, format, args...)
}

func errInvalidRange(size int64) *s3Error {
	e := newError("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable")
	if size >= 0 {
		e.Header = http.Header{"Content-Range": {"bytes */" + strconv.FormatInt(size, 10)}}
	}
	return e
}

func errNotImplemented(op string) *s3Error {
	return newError("NotImplemented", http.StatusNotImplemented, "%s is not implemented by the ringcache gateway.", op)
}

func errInvalidRequest(format string, args ...any) *s3Error {
	return newError("InvalidRequest", http.StatusBadRequest, format, args...)
}

func errMalformedXML() *s3Error {
	return newError("MalformedXML", http.StatusBadRequest,
		"The XML you provided was not well-formed or did not validate against our published schema.")
}

func errEntityTooLarge(max int64) *s3Error {
	return newError("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size (%d bytes).", max)
}

func errMissingContentLength() *s3Error {
	return newError("MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header.")
}

func errPreconditionFailed() *s3Error {
	return newError("PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold")
}

func errNoSuchUpload() *s3Error {
	return newError("NoSuchUpload", http.StatusNotFound,
		"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}

func errInternal(cause error) *s3Error {
	e := newError("InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again.")
	e.cause = cause
	return e
}

// errorDoc is S3's XML error document.
type errorDoc struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
}

// writeError answers e as S3 does: the status, and for methods that carry
// a body the XML document. It returns the body bytes written (for
// ringcache_s3_bytes_total, which counts every response body).
func writeError(w http.ResponseWriter, r *http.Request, e *s3Error, requestID string) int64 {
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(e.Status)
		return 0
	}
	body, _ := xml.Marshal(errorDoc{Code: e.Code, Message: e.Message, Resource: r.URL.Path, RequestID: requestID})
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(e.Status)
	n1, _ := w.Write([]byte(xml.Header))
	n2, _ := w.Write(body)
	return int64(n1 + n2)
}

// toS3 maps an error of the read path, the listing or the signature check
// to the S3 error a client gets. notFound is the answer for "not found"
// (NoSuchKey or NoSuchBucket, decided by the caller).
func toS3(err error, notFound func() *s3Error) *s3Error {
	var se *s3Error
	if errors.As(err, &se) {
		return se
	}
	wrap := func(e *s3Error) *s3Error { e.cause = err; return e }
	var ae *sigv4.Error
	if errors.As(err, &ae) {
		return wrap(newError(ae.Code, ae.Status, "%s", authMessage(ae)))
	}
	switch {
	case errors.Is(err, listing.ErrNoSuchBucket):
		return wrap(errNoSuchBucket())
	case errors.Is(err, understore.ErrNoSuchUpload):
		return wrap(errNoSuchUpload())
	case errors.Is(err, understore.ErrInvalidPart):
		return wrap(newError("InvalidPart", http.StatusBadRequest,
			"One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."))
	case errors.Is(err, understore.ErrInvalidPartOrder):
		return wrap(newError("InvalidPartOrder", http.StatusBadRequest,
			"The list of parts was not in ascending order. The parts list must be specified in order by part number."))
	case errors.Is(err, understore.ErrEntityTooSmall):
		return wrap(newError("EntityTooSmall", http.StatusBadRequest,
			"Your proposed upload is smaller than the minimum allowed object size (%d bytes for every part but the last).", understore.MinPartSize))
	case errors.Is(err, understore.ErrUnsupported):
		return wrap(newError("NotImplemented", http.StatusNotImplemented, "The under-store of this cluster does not support this operation (%s).", err))
	case errors.Is(err, understore.ErrChanged):
		return wrap(errPreconditionFailed())
	case errors.Is(err, transport.ErrTooLarge):
		return wrap(errEntityTooLarge(understore.MaxPutSize))
	case errors.Is(err, listing.ErrInvalidArgument), errors.Is(err, transport.ErrBadRequest),
		errors.Is(err, understore.ErrBadRequest), errors.Is(err, understore.ErrBadPath), errors.Is(err, understore.ErrOutOfScope):
		return wrap(errInvalidArgument("%s", err))
	case errors.Is(err, transport.ErrNotFound), errors.Is(err, understore.ErrNotFound):
		if notFound == nil {
			return wrap(errNoSuchKey())
		}
		return wrap(notFound())
	case errors.Is(err, transport.ErrOutOfRange):
		return wrap(errInvalidRange(-1))
	case errors.Is(err, transport.ErrAccessDenied), errors.Is(err, understore.ErrAccessDenied):
		return wrap(newError("AccessDenied", http.StatusForbidden, "Access Denied (by the under-store)"))
	case errors.Is(err, transport.ErrThrottled), errors.Is(err, understore.ErrThrottled):
		return wrap(newError("SlowDown", http.StatusServiceUnavailable, "Please reduce your request rate (the under-store throttles)."))
	case errors.Is(err, transport.ErrUnavailable), errors.Is(err, transport.ErrDeadlineExceeded),
		errors.Is(err, understore.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return wrap(newError("ServiceUnavailable", http.StatusServiceUnavailable, "The cluster or its under-store is unavailable; retry."))
	default:
		return errInternal(err)
	}
}

// authMessage is the message of a refused signature: S3's phrasing for
// the common cases, else the verifier's reason.
func authMessage(err error) string {
	switch {
	case errors.Is(err, sigv4.ErrMissingAuth):
		return "Access Denied"
	case errors.Is(err, sigv4.ErrInvalidAccessKeyID):
		return "The AWS Access Key Id you provided does not exist in our records."
	case errors.Is(err, sigv4.ErrSignatureDoesNotMatch):
		return "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	case errors.Is(err, sigv4.ErrRequestTimeTooSkewed):
		return "The difference between the request time and the current time is too large."
	case errors.Is(err, sigv4.ErrExpired):
		return "Request has expired"
	}
	var ae *sigv4.Error
	if errors.As(err, &ae) {
		return ae.Msg
	}
	return err.Error()
}
