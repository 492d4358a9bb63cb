// Package objpath is the one home of ringcache's path rules: what a file
// path ("bucket/key") and a listing prefix may look like, and how long they
// may be. Every boundary (CLI, SDK, RPC, stream frames, store, under-store,
// gateway) checks paths with this package, so the rules cannot drift apart.
//
// It is pure: no I/O, no state.
package objpath

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLen is the longest path, prefix or scope accepted, in bytes (S3's key
// limit). It is part of the page-stream wire format's limits.
const MaxLen = 1024

// ErrBadPath is wrapped by every error this package returns.
var ErrBadPath = errors.New("bad path")

// Validate checks a file path ("bucket/key"): non-empty, no leading "/", no
// empty, "." or ".." element, no NUL byte, at most MaxLen bytes, valid UTF-8,
// and at least two elements. Failures wrap ErrBadPath and quote the path once.
func Validate(p string) error {
	if err := validateElems(p); err != nil {
		return err
	}
	if !strings.Contains(p, "/") {
		return fmt.Errorf("%w %q: need bucket/key", ErrBadPath, p)
	}
	return nil
}

// ValidatePrefix checks a listing prefix: the rules of Validate, except that
// the key part may be empty and the last element may be empty (a trailing
// "/"), so "bucket", "bucket/" and "bucket/dir/par" are all valid.
func ValidatePrefix(p string) error {
	return validateElems(strings.TrimSuffix(p, "/"))
}

// ValidateScope checks an accounting scope (a free-form label such as
// "db/table/partition"): empty is allowed (no scope), otherwise at most
// MaxLen bytes of valid UTF-8 without NUL bytes.
func ValidateScope(s string) error {
	switch {
	case len(s) > MaxLen:
		return fmt.Errorf("%w: scope of %d bytes > %d", ErrBadPath, len(s), MaxLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: scope %q: invalid UTF-8", ErrBadPath, s)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%w: scope %q: NUL byte", ErrBadPath, s)
	}
	return nil
}

// Split splits a valid path (or prefix) at its first "/" into bucket and key.
func Split(p string) (bucket, key string) {
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

func validateElems(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%w: empty", ErrBadPath)
	case len(p) > MaxLen:
		return fmt.Errorf("%w: %d bytes > %d", ErrBadPath, len(p), MaxLen)
	case !utf8.ValidString(p):
		return fmt.Errorf("%w %q: invalid UTF-8", ErrBadPath, p)
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("%w %q: NUL byte", ErrBadPath, p)
	case p[0] == '/':
		return fmt.Errorf("%w %q: leading /", ErrBadPath, p)
	}
	for e := range strings.SplitSeq(p, "/") {
		switch e {
		case "":
			return fmt.Errorf("%w %q: empty element", ErrBadPath, p)
		case ".", "..":
			return fmt.Errorf("%w %q: %q element", ErrBadPath, p, e)
		}
	}
	return nil
}
