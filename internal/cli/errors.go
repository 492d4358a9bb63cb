package cli

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every *UsageError also matches ErrUsage, and its cause
// (one of the others, or an os/yaml error) through errors.Is/As.
var (
	// ErrHelp is returned by Parse after it printed the usage for -h or
	// --help; the caller exits 0.
	ErrHelp = errors.New("cli: help requested")
	// ErrUsage is matched by every *UsageError; the caller exits 2.
	ErrUsage = errors.New("cli: bad usage")
	// ErrUnknownFlag: a command-line flag that is not defined.
	ErrUnknownFlag = errors.New("cli: unknown flag")
	// ErrMissingValue: a flag that needs a value ended the arguments.
	ErrMissingValue = errors.New("cli: missing flag value")
	// ErrInvalidValue: a value (flag, env or file) that does not parse as
	// the flag's type.
	ErrInvalidValue = errors.New("cli: invalid value")
	// ErrUnknownKey: a config-file key that names no flag.
	ErrUnknownKey = errors.New("cli: unknown config key")
	// ErrArgCount: too few or too many positional arguments.
	ErrArgCount = errors.New("cli: wrong number of arguments")
)

// UsageError is bad usage of a command: the caller prints Error() as the
// one line on stderr and exits 2.
type UsageError struct {
	// Cmd is the command, e.g. "ringcache get".
	Cmd string
	// Where names the culprit: "--offset", "RINGCACHE_OFFSET",
	// `config f.yaml: key "offset"`; empty when no single input is at fault.
	Where string
	// Msg says what is wrong, e.g. `invalid number "x"`.
	Msg string
	// Err is the cause; errors.Is/As see through it.
	Err error
}

func (e *UsageError) Error() string {
	if e.Where == "" {
		return e.Cmd + ": " + e.Msg
	}
	return e.Cmd + ": " + e.Where + ": " + e.Msg
}

// Unwrap returns the cause.
func (e *UsageError) Unwrap() error { return e.Err }

// Is makes every UsageError match ErrUsage.
func (e *UsageError) Is(target error) bool { return target == ErrUsage }

// valueError is a value that does not parse; msg carries no package prefix
// so that it reads well inside a UsageError.
type valueError struct {
	msg   string
	cause error
}

func (e *valueError) Error() string { return e.msg }

func (e *valueError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrInvalidValue}
	}
	return []error{ErrInvalidValue, e.cause}
}

func invalidf(cause error, format string, args ...any) error {
	return &valueError{msg: fmt.Sprintf(format, args...), cause: cause}
}
