package understore

import (
	"io/fs"
	"strconv"
)

// OpError is the error of a Store operation: which operation on which
// path, the sentinel it falls under, and the backend's cause. errors.Is
// matches both Kind and Err (understore.ErrNotFound and fs.ErrNotExist for
// a missing local file); errors.As finds the backend's own error types.
//
// A caller that names the path itself (a node answering a request for that
// path) builds its message from Op and Reason instead of Error, so the path
// is said once.
type OpError struct {
	Op   string // "stat", "read", "list", "put", ...
	Path string // the path or prefix operated on
	Kind error  // the sentinel (ErrNotFound, ...); nil when none applies
	Err  error  // the backend's cause; nil when Kind says it all
}

// Error reads `stat "b/x": understore: not found: statat: no such file or
// directory`: the path once (the cause's own copy of it is left out).
func (e *OpError) Error() string {
	s := e.Op + " " + strconv.Quote(e.Path)
	switch {
	case e.Kind == nil:
		s = "understore: " + s
	default:
		s += ": " + e.Kind.Error()
	}
	if r := e.Reason(); r != "" {
		s += ": " + r
	}
	return s
}

// Reason is the backend's cause without the path: "statat: no such file
// or directory" rather than the *fs.PathError's "statat b/x: no such file
// or directory"; "" when there is no cause.
func (e *OpError) Reason() string {
	if e.Err == nil {
		return ""
	}
	if pe, ok := e.Err.(*fs.PathError); ok && pe.Path == e.Path {
		return pe.Op + ": " + pe.Err.Error()
	}
	return e.Err.Error()
}

// Unwrap returns Kind and Err, those that are set.
func (e *OpError) Unwrap() []error {
	switch {
	case e.Kind == nil && e.Err == nil:
		return nil
	case e.Kind == nil:
		return []error{e.Err}
	case e.Err == nil:
		return []error{e.Kind}
	default:
		return []error{e.Kind, e.Err}
	}
}
