package node

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// ErrWriteUnsupported: the under-store (or this operation on it) takes no
// writes; the S3 gateway answers NotImplemented.
var ErrWriteUnsupported = fmt.Errorf("node: the under-store does not support this write: %w", understore.ErrUnsupported)

// errWriteAborted: a write stream ended without its End message (the
// sender failed or gave up); nothing is written.
var errWriteAborted = errors.New("node: write stream ended before its end")

// writeKinds name the errors a write answers with, so that they survive
// the hop from the owner to the node that took the request (the gateway
// maps them to S3 codes: NoSuchUpload, InvalidPart, ...). gRPC statuses
// carry no error chains; the kind rides in the message as "[Kind] ".
var writeKinds = []struct {
	err  error
	name string
}{
	{understore.ErrNoSuchUpload, "NoSuchUpload"},
	{understore.ErrInvalidPart, "InvalidPart"},
	{understore.ErrInvalidPartOrder, "InvalidPartOrder"},
	{understore.ErrEntityTooSmall, "EntityTooSmall"},
	{understore.ErrChanged, "Changed"},
	{understore.ErrNotFound, "NotFound"},
	{understore.ErrBadPath, "BadPath"},
	{understore.ErrOutOfScope, "OutOfScope"},
	{understore.ErrBadRequest, "BadRequest"},
	{understore.ErrAccessDenied, "AccessDenied"},
	{understore.ErrThrottled, "Throttled"},
	{understore.ErrUnavailable, "Unavailable"},
	{ErrWriteUnsupported, "Unsupported"},
}

// writeRPCError is rpcError for the write RPCs: the status code as for
// the control RPCs, and the error's kind in front of its message.
func writeRPCError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	st := status.Convert(rpcError(err))
	c := st.Code()
	for _, k := range writeKinds {
		if errors.Is(err, k.err) {
			switch k.err {
			case understore.ErrNoSuchUpload:
				c = codes.NotFound
			case understore.ErrInvalidPart, understore.ErrInvalidPartOrder, understore.ErrEntityTooSmall, understore.ErrBadRequest:
				c = codes.InvalidArgument
			case understore.ErrChanged:
				c = codes.FailedPrecondition
			case ErrWriteUnsupported:
				c = codes.Unimplemented
			}
			return status.Error(c, "["+k.name+"] "+err.Error())
		}
	}
	if errors.Is(err, errWriteAborted) {
		c = codes.Aborted
	}
	return status.Error(c, err.Error())
}

// writeErrorFromRPC turns a write RPC's error back into the sentinels the
// in-process caller (the gateway) tests with errors.Is.
func writeErrorFromRPC(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := st.Message()
	if rest, found := strings.CutPrefix(msg, "["); found {
		if name, text, ok := strings.Cut(rest, "] "); ok {
			for _, k := range writeKinds {
				if k.name == name {
					return fmt.Errorf("%w: %s", k.err, text)
				}
			}
		}
	}
	if st.Code() == codes.Unimplemented {
		return fmt.Errorf("%w: %s", ErrWriteUnsupported, msg)
	}
	return statusFromRPC(err)
}

// permanentWrite reports a write error that another node would answer
// too: the write is not tried elsewhere.
func permanentWrite(err error) bool {
	if errors.Is(err, transport.ErrUnavailable) {
		return false
	}
	for _, k := range writeKinds {
		if k.err != understore.ErrUnavailable && k.err != understore.ErrThrottled && errors.Is(err, k.err) {
			return true
		}
	}
	return errors.Is(err, transport.ErrBadRequest) || errors.Is(err, transport.ErrNotFound) || errors.Is(err, transport.ErrAccessDenied)
}
