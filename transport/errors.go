package transport

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of them (or a
// context error); test with errors.Is.
var (
	ErrCorrupt          = errors.New("transport: corrupt data (checksum mismatch)")
	ErrProtocol         = errors.New("transport: protocol error")
	ErrNotFound         = errors.New("transport: not found")
	ErrBadRequest       = errors.New("transport: bad request")
	ErrOutOfRange       = errors.New("transport: offset out of range")
	ErrUnavailable      = errors.New("transport: unavailable")
	ErrInternal         = errors.New("transport: internal error")
	ErrChanged          = errors.New("transport: object changed during the read")
	ErrThrottled        = errors.New("transport: throttled")
	ErrAccessDenied     = errors.New("transport: access denied")
	ErrTooLarge         = errors.New("transport: request too large")
	ErrDeadlineExceeded = errors.New("transport: deadline exceeded")
	ErrCanceled         = errors.New("transport: canceled")
	ErrClosed           = errors.New("transport: closed")
	ErrHeaderSent       = errors.New("transport: header already sent")
	ErrNoHeader         = errors.New("transport: segment before header")
	ErrBadConfig        = errors.New("transport: bad config")
	// ErrTLS marks a TLS handshake that failed (a certificate refused
	// either way, or TLS on one side only): retrying cannot help.
	ErrTLS = errors.New("transport: TLS handshake failed")
)

// Status is the status code of a stream response. The values are part of the
// wire format.
type Status uint16

// Stream status codes.
const (
	StatusOK               Status = 0
	StatusNotFound         Status = 1
	StatusBadRequest       Status = 2
	StatusOutOfRange       Status = 3
	StatusUnavailable      Status = 4
	StatusDeadlineExceeded Status = 5
	StatusCanceled         Status = 6
	StatusInternal         Status = 7
	StatusChanged          Status = 8
	StatusThrottled        Status = 9
	StatusAccessDenied     Status = 10
	StatusTooLarge         Status = 11
	StatusCorrupt          Status = 12
)

var statusSentinels = [...]error{
	StatusOK:               nil,
	StatusNotFound:         ErrNotFound,
	StatusBadRequest:       ErrBadRequest,
	StatusOutOfRange:       ErrOutOfRange,
	StatusUnavailable:      ErrUnavailable,
	StatusDeadlineExceeded: ErrDeadlineExceeded,
	StatusCanceled:         ErrCanceled,
	StatusInternal:         ErrInternal,
	StatusChanged:          ErrChanged,
	StatusThrottled:        ErrThrottled,
	StatusAccessDenied:     ErrAccessDenied,
	StatusTooLarge:         ErrTooLarge,
	StatusCorrupt:          ErrCorrupt,
}

// Sentinel returns the package sentinel for s (ErrInternal for unknown codes,
// nil for StatusOK).
func (s Status) Sentinel() error {
	if int(s) < len(statusSentinels) {
		return statusSentinels[s]
	}
	return ErrInternal
}

// StatusError is a non-OK status reported by the serving node. It matches
// its sentinel with errors.Is (ErrNotFound for StatusNotFound, ...).
type StatusError struct {
	Addr   string // node that answered ("" on the server side)
	Path   string
	Status Status
	Msg    string
}

// Error reads `b/x: not found (node 127.0.0.1:7100, under-store stat: ...)`:
// the path, what the node answered, and which node said so with its reason.
func (e *StatusError) Error() string {
	s := strings.TrimPrefix(e.Status.Sentinel().Error(), "transport: ")
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	switch {
	case e.Addr != "" && e.Msg != "":
		s += " (node " + e.Addr + ", " + e.Msg + ")"
	case e.Addr != "":
		s += " (node " + e.Addr + ")"
	case e.Msg != "":
		s += ": " + e.Msg
	}
	return s
}

func (e *StatusError) Unwrap() error { return e.Status.Sentinel() }

// Is makes a deadline the server ran into match context.DeadlineExceeded too:
// the server serves under the client's remaining time, so either side may
// notice the deadline first.
func (e *StatusError) Is(target error) bool {
	return e.Status == StatusDeadlineExceeded && target == context.DeadlineExceeded
}

// Errorf returns a *StatusError for a handler to return from ServeRead.
func Errorf(s Status, format string, args ...any) error {
	return &StatusError{Status: s, Msg: fmt.Sprintf(format, args...)}
}

// CorruptError reports a chunk whose CRC32C did not match. The connection it
// came over is discarded; the node that sent it should drop the page.
type CorruptError struct {
	Addr   string
	Path   string
	Offset int64 // logical offset of the first byte of the bad chunk
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("transport: corrupt data (checksum mismatch) reading %s at offset %d from %s", e.Path, e.Offset, e.Addr)
}

func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// StatusOf maps a handler error to the status sent to the client and the
// message that goes with it.
func StatusOf(err error) (Status, string) {
	if err == nil {
		return StatusOK, ""
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status, se.Msg
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return StatusDeadlineExceeded, err.Error()
	case errors.Is(err, context.Canceled):
		return StatusCanceled, err.Error()
	}
	for s, sentinel := range statusSentinels {
		if sentinel != nil && errors.Is(err, sentinel) {
			return Status(s), err.Error()
		}
	}
	return StatusInternal, err.Error()
}
