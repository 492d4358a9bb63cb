// Package cli is the flag, environment and config-file layer shared by every
// ringcache subcommand: it defines typed flags, reads each from the command
// line, from RINGCACHE_<FLAG> and from a --config YAML file (in that order
// of precedence, over the defaults), and turns bad input into *UsageError
// (exit 2) or ErrHelp (exit 0). It also owns the size syntax (ParseSize,
// FormatSize) used by node configuration and CLI output.
//
// It holds no process-wide state: the environment comes in as a lookup
// function and every FlagSet is independent, so tests and several
// subcommands may parse concurrently. It must not run commands, log, or
// exit the process; it only prints the usage text when asked for help.
package cli

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts the environment variable of every flag: --data-dir is
// RINGCACHE_DATA_DIR.
const EnvPrefix = "RINGCACHE_"

// configFlag is the flag EnableConfigFile defines.
const configFlag = "config"

// Source says where a flag's value came from.
type Source int

// Sources in increasing precedence.
const (
	SourceDefault Source = iota
	SourceFile
	SourceEnv
	SourceFlag
)

func (s Source) String() string {
	switch s {
	case SourceDefault:
		return "default"
	case SourceFile:
		return "file"
	case SourceEnv:
		return "env"
	case SourceFlag:
		return "flag"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// EnvName is the environment variable read for flag name.
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

type flag struct {
	name    string
	aliases []string
	usage   string
	def     string // default rendered before parsing, for the usage text
	val     value
	source  Source
}

// FlagSet is the flags of one command. Define flags, then call Parse once.
// Defining a flag twice or with a malformed name panics: that is a
// programming error, found by any test that builds the command.
type FlagSet struct {
	name     string // "get"; "" for the bare program
	synopsis string // "ringcache get PATH [flags]"
	flags    map[string]*flag
	byAlias  map[string]*flag
	order    []*flag
	minArgs  int
	maxArgs  int // <0: unlimited
	out      io.Writer
	config   bool
}

// NewFlagSet returns an empty flag set for subcommand name ("get"; "" for
// the program itself); synopsis is the first usage line, e.g.
// "ringcache get PATH [flags]". Any number of positional arguments is
// accepted until WantArgs says otherwise; help goes to stdout until SetOutput.
func NewFlagSet(name, synopsis string) *FlagSet {
	return &FlagSet{
		name:     name,
		synopsis: synopsis,
		flags:    map[string]*flag{},
		byAlias:  map[string]*flag{},
		maxArgs:  -1,
		out:      os.Stdout,
	}
}

// Command is the command as messages name it: "ringcache get".
func (fs *FlagSet) Command() string {
	if fs.name == "" {
		return "ringcache"
	}
	return "ringcache " + fs.name
}

// SetOutput sets where the help text goes.
func (fs *FlagSet) SetOutput(w io.Writer) { fs.out = w }

// WantArgs sets how many positional arguments Parse accepts; max < 0 means no
// upper bound.
func (fs *FlagSet) WantArgs(min, max int) { fs.minArgs, fs.maxArgs = min, max }

// EnableConfigFile defines --config FILE (env RINGCACHE_CONFIG): Parse then
// reads that YAML file, whose keys are flag names, below env and flags.
func (fs *FlagSet) EnableConfigFile() *string {
	fs.config = true
	return fs.String(configFlag, "", "read flag values from this YAML `FILE` (keys are flag names)")
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func (fs *FlagSet) define(name, usage string, v value) {
	if !nameRE.MatchString(name) || name == "h" || name == "help" {
		panic(fmt.Sprintf("cli: bad flag name %q", name))
	}
	if fs.flags[name] != nil || fs.byAlias[name] != nil {
		panic(fmt.Sprintf("cli: flag %q defined twice", name))
	}
	f := &flag{name: name, usage: usage, def: v.String(), val: v}
	fs.flags[name] = f
	fs.order = append(fs.order, f)
}

// Alias makes -alias (and --alias) another spelling of flag name on the
// command line; env and the file know only the name.
func (fs *FlagSet) Alias(alias, name string) {
	f := fs.flags[name]
	if f == nil {
		panic(fmt.Sprintf("cli: alias %q for undefined flag %q", alias, name))
	}
	if !nameRE.MatchString(alias) || alias == "h" || alias == "help" ||
		fs.flags[alias] != nil || fs.byAlias[alias] != nil {
		panic(fmt.Sprintf("cli: bad or duplicate alias %q", alias))
	}
	fs.byAlias[alias] = f
	f.aliases = append(f.aliases, alias)
}

// String defines a string flag.
func (fs *FlagSet) String(name, def, usage string) *string {
	p := new(string)
	*p = def
	fs.define(name, usage, stringValue{p})
	return p
}

// Switch defines a boolean flag that takes no value (--pin) but accepts
// --pin=false; env and file take true/false.
func (fs *FlagSet) Switch(name string, def bool, usage string) *bool {
	p := new(bool)
	*p = def
	fs.define(name, usage, switchValue{p})
	return p
}

// Int defines an int flag (base 10).
func (fs *FlagSet) Int(name string, def int, usage string) *int {
	p := new(int)
	*p = def
	fs.define(name, usage, intValue{p: p, bits: strconv.IntSize})
	return p
}

// Int64 defines an int64 flag (base 10).
func (fs *FlagSet) Int64(name string, def int64, usage string) *int64 {
	p := new(int64)
	*p = def
	fs.define(name, usage, intValue{p64: p, bits: 64})
	return p
}

// Float64 defines a float flag; NaN and infinities are refused.
func (fs *FlagSet) Float64(name string, def float64, usage string) *float64 {
	p := new(float64)
	*p = def
	fs.define(name, usage, floatValue{p})
	return p
}

// Size defines a byte-count flag in ParseSize syntax (64MiB, 1GB, 4096).
func (fs *FlagSet) Size(name string, def int64, usage string) *int64 {
	p := new(int64)
	*p = def
	fs.define(name, usage, sizeValue{p})
	return p
}

// Duration defines a time.Duration flag in Go syntax (30s, 1m30s).
func (fs *FlagSet) Duration(name string, def time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	*p = def
	fs.define(name, usage, durationValue{p})
	return p
}

// StringList defines a repeatable flag: each --name VALUE adds one item
// (--scope-quota A=1GiB --scope-quota B=2GiB). Env and the file give the
// whole list, comma-separated or (file) as a YAML sequence.
func (fs *FlagSet) StringList(name string, def []string, usage string) *[]string {
	p := new([]string)
	*p = slices.Clone(def)
	fs.define(name, usage, listValue{p: p})
	return p
}

// CommaList defines a comma-separated list flag (--join a,b); repeating
// the flag appends.
func (fs *FlagSet) CommaList(name string, def []string, usage string) *[]string {
	p := new([]string)
	*p = slices.Clone(def)
	fs.define(name, usage, listValue{p: p, split: true})
	return p
}

// IsSet reports whether flag name got a value from a flag, env or the file.
func (fs *FlagSet) IsSet(name string) bool { return fs.Source(name) != SourceDefault }

// Source reports where flag name's value came from; SourceDefault also for
// an undefined name.
func (fs *FlagSet) Source(name string) Source {
	if f := fs.flags[name]; f != nil {
		return f.source
	}
	return SourceDefault
}

// Usagef returns a *UsageError of this command, for checks the caller does
// after Parse (e.g. "--length must not be negative").
func (fs *FlagSet) Usagef(format string, args ...any) *UsageError {
	return &UsageError{Cmd: fs.Command(), Msg: fmt.Sprintf(format, args...)}
}
