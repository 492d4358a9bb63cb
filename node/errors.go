package node

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/node/internal/pagefetch"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// Sentinels of the read path; the transport maps them to status codes.
var (
	ErrBadRequest   = errors.New("node: bad request")
	ErrOutOfRange   = errors.New("node: offset past end of file")
	ErrNotOwner     = errors.New("node: not cached here") // a cached-only peer read missed
	ErrShuttingDown = errors.New("node: shutting down")
)

// errObjectChanged marks an under-store object that no longer matches the
// metadata a read resolved; the read must be retried on fresh metadata.
var errObjectChanged = pagefetch.ErrObjectChanged

// isChanged reports an error meaning the file changed under the read (in
// the under-store, or its version in the store): retried on fresh metadata.
func isChanged(err error) bool {
	return errors.Is(err, understore.ErrChanged) || errors.Is(err, errObjectChanged) || errors.Is(err, storage.ErrStaleVersion)
}

// errorClass names an error's kind for metrics labels and status codes.
func errorClass(err error) string {
	switch {
	case errors.Is(err, understore.ErrNotFound), errors.Is(err, storage.ErrUnknownFile):
		return "not_found"
	case errors.Is(err, understore.ErrAccessDenied):
		return "access_denied"
	case errors.Is(err, understore.ErrThrottled):
		return "throttled"
	case errors.Is(err, understore.ErrChanged), errors.Is(err, errObjectChanged):
		return "changed"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, understore.ErrUnavailable):
		return "unavailable"
	default:
		return "error"
	}
}

// streamStatus maps a read-path error to the page stream's status codes.
func streamStatus(err error) error {
	if err == nil {
		return nil // before the errors.As target below, which escapes
	}
	var se *transport.StatusError
	if errors.As(err, &se) {
		return err
	}
	s := transport.StatusInternal
	switch {
	case errors.Is(err, ErrBadRequest), errors.Is(err, understore.ErrBadPath), errors.Is(err, understore.ErrOutOfScope):
		s = transport.StatusBadRequest
	case errors.Is(err, ErrOutOfRange):
		s = transport.StatusOutOfRange
	case errors.Is(err, understore.ErrNotFound), errors.Is(err, ErrNotOwner):
		s = transport.StatusNotFound
	case errors.Is(err, understore.ErrAccessDenied):
		s = transport.StatusAccessDenied
	case errors.Is(err, understore.ErrThrottled):
		s = transport.StatusThrottled
	case isChanged(err):
		s = transport.StatusChanged
	case errors.Is(err, context.DeadlineExceeded):
		s = transport.StatusDeadlineExceeded
	case errors.Is(err, context.Canceled):
		s = transport.StatusCanceled
	case errors.Is(err, understore.ErrUnavailable), errors.Is(err, ErrShuttingDown):
		s = transport.StatusUnavailable
	}
	return transport.Errorf(s, "%s", remoteMessage(err))
}

// rpcError maps an error to a gRPC status for control RPCs.
func rpcError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	c := codes.Internal
	switch {
	case errors.Is(err, ErrBadRequest), errors.Is(err, understore.ErrBadPath), errors.Is(err, understore.ErrOutOfScope),
		errors.Is(err, transport.ErrBadRequest):
		c = codes.InvalidArgument
	case errors.Is(err, understore.ErrNotFound), errors.Is(err, transport.ErrNotFound):
		c = codes.NotFound
	case errors.Is(err, understore.ErrAccessDenied):
		c = codes.PermissionDenied
	case errors.Is(err, understore.ErrThrottled):
		c = codes.ResourceExhausted
	case errors.Is(err, context.DeadlineExceeded):
		c = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		c = codes.Canceled
	case errors.Is(err, understore.ErrUnavailable), errors.Is(err, ErrShuttingDown), errors.Is(err, transport.ErrUnavailable):
		c = codes.Unavailable
	}
	return status.Error(c, err.Error())
}

// permanentRPC reports control RPC errors another node would give too, so
// a failed forward is not retried here.
func permanentRPC(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.OutOfRange, codes.PermissionDenied:
		return true
	}
	return false
}

// statusFromRPC maps a control RPC's gRPC status to the transport
// sentinels, so in-process callers test one set of errors.
func statusFromRPC(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return streamStatus(err)
	}
	s := transport.StatusInternal
	switch st.Code() {
	case codes.InvalidArgument:
		s = transport.StatusBadRequest
	case codes.NotFound:
		s = transport.StatusNotFound
	case codes.OutOfRange:
		s = transport.StatusOutOfRange
	case codes.PermissionDenied:
		s = transport.StatusAccessDenied
	case codes.ResourceExhausted:
		s = transport.StatusThrottled
	case codes.DeadlineExceeded:
		s = transport.StatusDeadlineExceeded
	case codes.Canceled:
		s = transport.StatusCanceled
	case codes.Unavailable:
		s = transport.StatusUnavailable
	}
	return transport.Errorf(s, "%s", st.Message())
}
