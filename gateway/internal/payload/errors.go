package payload

import (
	"errors"
	"net/http"
	"strconv"
)

// Sentinel errors. Every error this package makes is an *Error that wraps
// exactly one of them (errors.Is) and carries the S3 code and status to
// answer with. Errors of the body's own reader (a reset connection,
// http.MaxBytesError) are returned as they are, except that an early end
// of the body (io.EOF, io.ErrUnexpectedEOF) is ErrIncompleteBody.
var (
	// ErrBadDigest: the body does not match a digest the client sent:
	// Content-MD5 or x-amz-checksum-* (BadDigest 400), or a hex
	// x-amz-content-sha256 (S3's code XAmzContentSHA256Mismatch, 400).
	ErrBadDigest = errors.New("payload: bad digest")
	// ErrSignatureDoesNotMatch: an aws-chunked chunk signature or the
	// trailer signature is not the one the signing key gives
	// (SignatureDoesNotMatch 403).
	ErrSignatureDoesNotMatch = errors.New("payload: chunk signature does not match")
	// ErrInvalidDigest: Content-MD5 is not the base64 of 16 bytes
	// (InvalidDigest 400).
	ErrInvalidDigest = errors.New("payload: invalid digest")
	// ErrIncompleteBody: the body ended before its declared length
	// (IncompleteBody 400).
	ErrIncompleteBody = errors.New("payload: incomplete body")
	// ErrMalformed: a header, an aws-chunked chunk line, chunk framing or
	// trailer that cannot be accepted, or a body longer than declared
	// (InvalidRequest or InvalidArgument 400; the code is in the *Error).
	ErrMalformed = errors.New("payload: malformed request body")
	// ErrMissingLength: the object size is unknown: no Content-Length on
	// a plain body, no x-amz-decoded-content-length on an aws-chunked one
	// (MissingContentLength 411).
	ErrMissingLength = errors.New("payload: missing content length")
	// ErrTooLarge: the object is larger than Spec.MaxSize
	// (EntityTooLarge 400).
	ErrTooLarge = errors.New("payload: entity too large")
)

// S3 error codes used by this package.
const (
	codeBadDigest         = "BadDigest"
	codeSHA256Mismatch    = "XAmzContentSHA256Mismatch"
	codeSignatureMismatch = "SignatureDoesNotMatch"
	codeInvalidDigest     = "InvalidDigest"
	codeIncompleteBody    = "IncompleteBody"
	codeInvalidRequest    = "InvalidRequest"
	codeInvalidArgument   = "InvalidArgument"
	codeMissingLength     = "MissingContentLength"
	codeTooLarge          = "EntityTooLarge"
)

// Error is the error the package returns: the sentinel it wraps, the S3
// code and HTTP status to answer with, and a message safe to show the
// client (it never holds a secret or a signing key).
type Error struct {
	Kind   error  // one of the Err* sentinels
	Code   string // S3 error code, e.g. "BadDigest"
	Status int    // HTTP status
	Msg    string
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Msg }

// Unwrap lets errors.Is find the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// Code returns the S3 error code and HTTP status for an error of this
// package (e.g. "BadDigest", 400). Any other error (the body's reader
// failing, a gateway bug) is an InternalError 500; the gateway decides
// whether a client that went away needs an answer at all.
func Code(err error) (code string, status int) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.Status
	}
	return "InternalError", http.StatusInternalServerError
}

// Constructors, one per sentinel, so each return site reads as its cause.

func badDigest(msg string) error {
	return &Error{ErrBadDigest, codeBadDigest, http.StatusBadRequest, msg}
}

func sha256Mismatch() error {
	return &Error{ErrBadDigest, codeSHA256Mismatch, http.StatusBadRequest, "the provided 'x-amz-content-sha256' header does not match what was computed"}
}

func sigMismatch(msg string) error {
	return &Error{ErrSignatureDoesNotMatch, codeSignatureMismatch, http.StatusForbidden, msg}
}

func invalidDigest(msg string) error {
	return &Error{ErrInvalidDigest, codeInvalidDigest, http.StatusBadRequest, msg}
}

func incomplete(got, want int64) error {
	return &Error{ErrIncompleteBody, codeIncompleteBody, http.StatusBadRequest,
		"you did not provide the number of bytes specified by the Content-Length HTTP header: got " +
			strconv.FormatInt(got, 10) + " of " + strconv.FormatInt(want, 10)}
}

// malformed takes the S3 code because S3 uses two for this class.
func malformed(code, msg string) error {
	return &Error{ErrMalformed, code, http.StatusBadRequest, msg}
}

func missingLength(msg string) error {
	return &Error{ErrMissingLength, codeMissingLength, http.StatusLengthRequired, msg}
}

func tooLarge(size, max int64) error {
	return &Error{ErrTooLarge, codeTooLarge, http.StatusBadRequest,
		"your proposed upload of " + strconv.FormatInt(size, 10) + " bytes exceeds the maximum allowed object size of " + strconv.FormatInt(max, 10) + " bytes"}
}

// quote quotes client input for an error message, cut to a length a log
// line can carry.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// errSigningFields: NewReader got a signed aws-chunked Spec without its
// signing fields. That is the gateway's bug (it must SetCredential, or set
// SkipSignatures under --s3-auth none), so it is no *Error: a 500.
var errSigningFields = errors.New("payload: a signed aws-chunked body needs Spec.SigningKey, SeedSignature, AmzDate and Scope (SetCredential), or SkipSignatures")

// errShort is a decoder's report that the body ended early; the Reader
// turns it into ErrIncompleteBody with the byte counts.
var errShort = errors.New("payload: body ended early")

// errNotRead: Verify was called before the object was read to its end.
var errNotRead = errors.New("payload: the object has not been read to its end")
