package understore

import (
	"errors"
	"io/fs"
	"syscall"
	"testing"
)

// TestOpErrorSaysThePathOnce: an OpError names the operation and the path
// once (not again from the cause), and matches both the sentinel and the
// cause.
func TestOpErrorSaysThePathOnce(t *testing.T) {
	cause := &fs.PathError{Op: "statat", Path: "b/x", Err: syscall.ENOENT}
	err := opErr("stat", "b/x", ErrNotFound, cause)
	if got, want := err.Error(), `stat "b/x": understore: not found: statat: no such file or directory`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var pe *fs.PathError
	var oe *OpError
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || !errors.As(err, &oe) {
		t.Errorf("%v does not match ErrNotFound, fs.ErrNotExist, *fs.PathError and *OpError", err)
	}
	if oe.Reason() != "statat: no such file or directory" {
		t.Errorf("Reason() = %q", oe.Reason())
	}
	other := &fs.PathError{Op: "openat", Path: "b", Err: syscall.ENOTDIR}
	if got, want := opErr("read", "b/x", nil, other).Error(), `understore: read "b/x": openat b: not a directory`; got != want {
		t.Errorf("Error() = %q, want %q (a cause about another path keeps it)", got, want)
	}
	if got, want := opErr("stat", "b/x", ErrOutOfScope, nil).Error(), `stat "b/x": understore: path out of scope`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
