package sigv4

import (
	"errors"
	"net/http"
)

// Sentinel errors. Every error Verify returns is an *Error that wraps exactly
// one of them (errors.Is) and says why in its message; Code maps it to the S3
// error code and HTTP status the gateway answers with.
var (
	// ErrMissingAuth: no Authorization header and no presigned query, i.e.
	// an anonymous request (AccessDenied 403).
	ErrMissingAuth = errors.New("sigv4: anonymous request")
	// ErrMalformed: the Authorization header or the presigned query cannot
	// be parsed, names an unsupported algorithm (AWS signature v2 included),
	// or lacks a required part. The S3 code (AuthorizationHeaderMalformed,
	// AuthorizationQueryParametersError, InvalidRequest, InvalidArgument) is
	// in the *Error (400).
	ErrMalformed = errors.New("sigv4: malformed authentication")
	// ErrInvalidAccessKeyID: the access key is not one of Config.Keys
	// (InvalidAccessKeyId 403).
	ErrInvalidAccessKeyID = errors.New("sigv4: unknown access key")
	// ErrSignatureDoesNotMatch: the signature is not the one the secret
	// gives for this request (SignatureDoesNotMatch 403).
	ErrSignatureDoesNotMatch = errors.New("sigv4: signature does not match")
	// ErrRequestTimeTooSkewed: the request's date is more than
	// Config.MaxSkew from the node's clock (RequestTimeTooSkewed 403).
	ErrRequestTimeTooSkewed = errors.New("sigv4: request time too skewed")
	// ErrExpired: a presigned URL used after X-Amz-Date + X-Amz-Expires
	// (AccessDenied 403, "Request has expired").
	ErrExpired = errors.New("sigv4: presigned request expired")
	// ErrHeadersNotSigned: the request carries x-amz-* headers that are not
	// in SignedHeaders. S3 refuses these (AccessDenied 403, "There were
	// headers present in the request which were not signed") because the
	// gateway acts on them (copy source, metadata, checksums) and an
	// unsigned one could have been changed on the way.
	ErrHeadersNotSigned = errors.New("sigv4: unsigned x-amz-* headers")
)

// S3 error codes used by this package.
const (
	codeAccessDenied      = "AccessDenied"
	codeHeaderMalformed   = "AuthorizationHeaderMalformed"
	codeQueryParamsError  = "AuthorizationQueryParametersError"
	codeInvalidRequest    = "InvalidRequest"
	codeInvalidArgument   = "InvalidArgument"
	codeInvalidAccessKey  = "InvalidAccessKeyId"
	codeSignatureMismatch = "SignatureDoesNotMatch"
	codeTimeTooSkewed     = "RequestTimeTooSkewed"
)

// Error is the error Verify returns: the sentinel it wraps, the S3 code and
// status to answer with, and a message for the client and the log.
type Error struct {
	Kind   error  // one of the Err* sentinels
	Code   string // S3 error code, e.g. "SignatureDoesNotMatch"
	Status int    // HTTP status
	Msg    string // why, safe to show to the client (no secrets)
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Msg }

// Unwrap lets errors.Is find the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// Code returns the S3 error code and HTTP status for an error from Verify
// (e.g. "SignatureDoesNotMatch", 403). An error that is not from Verify is
// an InternalError 500.
func Code(err error) (code string, status int) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.Status
	}
	switch {
	case errors.Is(err, ErrMissingAuth), errors.Is(err, ErrExpired), errors.Is(err, ErrHeadersNotSigned):
		return codeAccessDenied, http.StatusForbidden
	case errors.Is(err, ErrMalformed):
		return codeHeaderMalformed, http.StatusBadRequest
	case errors.Is(err, ErrInvalidAccessKeyID):
		return codeInvalidAccessKey, http.StatusForbidden
	case errors.Is(err, ErrSignatureDoesNotMatch):
		return codeSignatureMismatch, http.StatusForbidden
	case errors.Is(err, ErrRequestTimeTooSkewed):
		return codeTimeTooSkewed, http.StatusForbidden
	}
	return "InternalError", http.StatusInternalServerError
}

// Constructors, one per sentinel, so each return site reads as its cause.

func missingAuth() error {
	return &Error{ErrMissingAuth, codeAccessDenied, http.StatusForbidden, "anonymous request: no Authorization header and no X-Amz-Signature query parameter"}
}

// malformed takes the S3 code because S3 uses several for this class.
func malformed(code, msg string) error {
	return &Error{ErrMalformed, code, http.StatusBadRequest, msg}
}

func invalidAccessKey(ak string) error {
	return &Error{ErrInvalidAccessKeyID, codeInvalidAccessKey, http.StatusForbidden, "the AWS access key id " + quote(ak) + " does not exist in our records"}
}

func mismatch(msg string) error {
	return &Error{ErrSignatureDoesNotMatch, codeSignatureMismatch, http.StatusForbidden, msg}
}

func skewed(msg string) error {
	return &Error{ErrRequestTimeTooSkewed, codeTimeTooSkewed, http.StatusForbidden, msg}
}

func expired(msg string) error {
	return &Error{ErrExpired, codeAccessDenied, http.StatusForbidden, msg}
}

func headersNotSigned(names string) error {
	return &Error{ErrHeadersNotSigned, codeAccessDenied, http.StatusForbidden, "there were headers present in the request which were not signed: " + names}
}
