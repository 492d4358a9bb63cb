package cli

import (
	"fmt"

	"github.com/alecthomas/kong"
)

// Size is a byte count flag in ParseSize syntax (64MiB, 1GB, 4096); a
// YAML integer is a byte count too.
type Size int64

// Decode implements kong.MapperValue.
func (s *Size) Decode(ctx *kong.DecodeContext) error {
	t, err := ctx.Scan.PopValue("size")
	if err != nil {
		return err
	}
	if t.IsEOL() {
		return errMissingValue
	}
	var text string
	switch v := t.Value.(type) {
	case string:
		text = v
	case int, int64, uint64:
		text = fmt.Sprint(v)
	default:
		return fmt.Errorf("want a size such as 64MiB, got %v", v)
	}
	n, reason := parseSize(text)
	if reason != "" {
		return &sizeError{text: text, reason: reason}
	}
	*s = Size(n)
	return nil
}

// String renders the size for people (FormatSize); kong's help shows the
// default tag as written.
func (s Size) String() string { return FormatSize(int64(s)) }

// Bytes is the size as an int64.
func (s Size) Bytes() int64 { return int64(s) }

// sizeError reads `invalid size "1G": ...` inside a flag's message, without
// the package prefix ParseSize's errors carry, and matches ErrInvalidSize.
type sizeError struct{ text, reason string }

func (e *sizeError) Error() string { return fmt.Sprintf("invalid size %q: %s", e.text, e.reason) }
func (e *sizeError) Unwrap() error { return ErrInvalidSize }
