package cli

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every *UsageError also matches ErrUsage, and its cause
// (one of the others, or an os/yaml error) through errors.Is/As.
var (
	// ErrHelp is returned by the parse after the help was printed; the
	// caller exits 0.
	ErrHelp = errors.New("cli: help requested")
	// ErrUsage is matched by every *UsageError; the caller exits 2.
	ErrUsage = errors.New("cli: bad usage")
	// ErrInvalidValue: an env or config-file value that does not parse as
	// the flag's type.
	ErrInvalidValue = errors.New("cli: invalid value")
	// ErrUnknownKey: a config-file key that names no flag of the command.
	ErrUnknownKey = errors.New("cli: unknown config key")
)

// UsageError is bad usage of a command: the caller prints Error() as the
// one line on stderr and exits 2.
type UsageError struct {
	// Cmd is the command, e.g. "ringcache get".
	Cmd string
	// Where names the culprit: "RINGCACHE_OFFSET", `config f.yaml: key
	// "offset"`; empty when no single input is at fault.
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

// Usagef returns a *UsageError of command cmd ("ringcache get"), for the
// checks a command does after parsing (e.g. "--length must not be negative").
func Usagef(cmd, format string, args ...any) *UsageError {
	return &UsageError{Cmd: cmd, Msg: fmt.Sprintf(format, args...)}
}
