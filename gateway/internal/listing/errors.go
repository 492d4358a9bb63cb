package listing

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; the gateway maps them to S3 error codes. Errors of the
// under-store (understore.ErrAccessDenied, ErrUnavailable, ...) are
// returned wrapped as they come.
var (
	// ErrInvalidArgument is S3's 400 InvalidArgument: a bad max-keys,
	// encoding-type, prefix, delimiter, start key or continuation token.
	ErrInvalidArgument = errors.New("listing: invalid argument")
	// ErrNoSuchBucket is S3's 404 NoSuchBucket.
	ErrNoSuchBucket = errors.New("listing: no such bucket")
)

// Error is the error of a refused request. It wraps Kind (one of the
// sentinels) and carries what an S3 error document says about it, so the
// gateway can answer with S3's own message and ArgumentName.
type Error struct {
	Kind error
	// Message is S3's message for the client ("The continuation token
	// provided is incorrect").
	Message string
	// ArgumentName and ArgumentValue are S3's <ArgumentName> and
	// <ArgumentValue> (the query parameter at fault); empty when no one
	// parameter is.
	ArgumentName, ArgumentValue string
}

func (e *Error) Error() string {
	if e.ArgumentName != "" {
		return fmt.Sprintf("%v: %s (%s=%q)", e.Kind, e.Message, e.ArgumentName, e.ArgumentValue)
	}
	return fmt.Sprintf("%v: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Kind }

// invalidArg is an ErrInvalidArgument about query parameter name.
func invalidArg(name, value, msg string) error {
	if len(value) > 256 {
		value = strings.ToValidUTF8(value[:256], "") // an error document need not echo a huge value
	}
	return &Error{Kind: ErrInvalidArgument, Message: msg, ArgumentName: name, ArgumentValue: value}
}
