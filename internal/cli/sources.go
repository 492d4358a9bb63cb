package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/alecthomas/kong"
	"gopkg.in/yaml.v3"
)

// EnvPrefix starts the environment variable of every flag: --data-dir is
// RINGCACHE_DATA_DIR.
const EnvPrefix = "RINGCACHE_"

// ConfigFlag is the flag naming the YAML file; a command that has no flag
// of this name reads no file.
const ConfigFlag = "config"

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

// Sources fills the flags that the command line leaves unset from
// RINGCACHE_<FLAG> and from the --config file, and remembers where every
// flag's value came from. Use one Sources for one parse: pass Option() to
// kong.New, then ask IsSet/Source after kong's Parse.
type Sources struct {
	lookup func(string) (string, bool)
	src    map[string]Source
	done   bool
}

// NewSources reads the environment through lookup (os.LookupEnv in main;
// nil: no environment).
func NewSources(lookup func(string) (string, bool)) *Sources {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	return &Sources{lookup: lookup, src: map[string]Source{}}
}

// Option installs the sources as a hook that runs after kong has read the
// command line and applied the defaults, and before it applies the
// command-line values, so that the command line wins.
func (s *Sources) Option() kong.Option { return kong.WithBeforeResolve(s.apply) }

// Source reports where flag name's value came from; SourceDefault also for
// an undefined name.
func (s *Sources) Source(name string) Source { return s.src[name] }

// IsSet reports whether flag name got a value from a flag, env or the file.
func (s *Sources) IsSet(name string) bool { return s.src[name] != SourceDefault }

// CommandName is the command as messages name it: "ringcache get".
func CommandName(ctx *kong.Context) string {
	name := ctx.Model.Name
	for _, p := range ctx.Path {
		if p.Command != nil {
			name += " " + p.Command.Name
		}
	}
	return name
}

// apply runs once per parse (kong calls option hooks for every element of
// the command path). The file is applied first and as a whole, even keys
// that env or flags override: a config file is a document that should be
// right as a whole. Env then overrides it, except for flags given on the
// command line: a stray bad RINGCACHE_X must not break a command that says
// --x explicitly.
func (s *Sources) apply(ctx *kong.Context) error {
	if s.done {
		return nil
	}
	s.done = true
	cmd := CommandName(ctx)
	var flags []*kong.Flag
	byName := map[string]*kong.Flag{}
	for _, f := range ctx.Flags() {
		if f.Name == "help" {
			continue
		}
		flags = append(flags, f)
		byName[f.Name] = f
	}
	onLine := map[string]bool{}
	for _, p := range ctx.Path {
		if p.Flag != nil {
			onLine[p.Flag.Name] = true
			s.src[p.Flag.Name] = SourceFlag
		}
	}
	if cf := byName[ConfigFlag]; cf != nil {
		if err := s.applyConfigFile(ctx, cmd, cf, byName, onLine); err != nil {
			return err
		}
	}
	for _, f := range flags {
		env := EnvName(f.Name)
		text, ok := s.lookup(env)
		// Empty variables count as unset, as compose files often write
		// X=${X} for optional settings.
		if onLine[f.Name] || !ok || text == "" {
			continue
		}
		if err := set(f, envValue(f, text)); err != nil {
			return &UsageError{Cmd: cmd, Where: env, Msg: err.Error(), Err: invalid(err)}
		}
		s.src[f.Name] = SourceEnv
	}
	return nil
}

// envValue is an env string as kong takes it: lists are always
// comma-separated (also those whose command-line flag takes one item per
// occurrence), and on/off are booleans.
func envValue(f *kong.Flag, text string) any {
	if f.IsSlice() {
		return splitComma(text)
	}
	if f.IsBool() {
		switch strings.ToLower(text) {
		case "on":
			return "true"
		case "off":
			return "false"
		}
	}
	return text
}

func splitComma(s string) []any {
	out := []any{}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// set parses v into the flag's target, replacing what a lower source put
// there, and returns the mapper's message without kong's flag prefix.
func set(f *kong.Flag, v any) error {
	if f.IsSlice() {
		f.Target.Set(reflect.Zero(f.Target.Type()))
	}
	err := f.Parse(kong.ScanFromTokens(kong.Token{Type: kong.FlagValueToken, Value: v}), f.Target)
	if inner := errors.Unwrap(err); inner != nil {
		return inner
	}
	return err
}

type invalidError struct{ err error }

func (e *invalidError) Error() string   { return e.err.Error() }
func (e *invalidError) Unwrap() []error { return []error{ErrInvalidValue, e.err} }

func invalid(err error) error { return &invalidError{err} }

// applyConfigFile reads the file of --config (else RINGCACHE_CONFIG).
func (s *Sources) applyConfigFile(ctx *kong.Context, cmd string, cf *kong.Flag, flags map[string]*kong.Flag, onLine map[string]bool) error {
	path, where := "", ""
	if onLine[ConfigFlag] {
		path, _ = ctx.FlagValue(cf).(string)
		where = "--" + ConfigFlag
	} else if v, ok := s.lookup(EnvName(ConfigFlag)); ok && v != "" {
		path, where = v, EnvName(ConfigFlag)
	}
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &UsageError{Cmd: cmd, Where: where, Msg: err.Error(), Err: err}
	}
	return s.applyYAML(cmd, path, data, flags, onLine)
}

// applyYAML applies a config document; name is the file for messages.
// Flags on the command line are checked and set too (kong's Apply then
// overwrites them) but keep SourceFlag.
func (s *Sources) applyYAML(cmd, name string, data []byte, flags map[string]*kong.Flag, onLine map[string]bool) error {
	where := "config " + name
	fileErr := func(msg string, err error) error {
		return &UsageError{Cmd: cmd, Where: where, Msg: msg, Err: err}
	}
	root, err := decodeDocument(data)
	if err != nil || root == nil {
		if err != nil {
			return fileErr(err.Error(), err)
		}
		return nil // empty, or only comments
	}
	if root.Kind != yaml.MappingNode {
		return fileErr("want a mapping of flag names to values, got "+describe(root), ErrInvalidValue)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		f := flags[key]
		switch {
		case k.Kind != yaml.ScalarNode:
			return fileErr(fmt.Sprintf("line %d: key must be a flag name", k.Line), ErrUnknownKey)
		case f == nil || key == ConfigFlag:
			return fileErr(fmt.Sprintf("line %d: unknown key %q", k.Line, key), ErrUnknownKey)
		case seen[key]:
			return fileErr(fmt.Sprintf("line %d: key %q given twice", k.Line, key), ErrInvalidValue)
		}
		seen[key] = true
		val, err := yamlValue(f, v)
		if err == nil {
			err = set(f, val)
		}
		if err != nil {
			return &UsageError{Cmd: cmd, Where: fmt.Sprintf("%s: key %q", where, key), Msg: err.Error(), Err: invalid(err)}
		}
		if !onLine[key] {
			s.src[key] = SourceFile
		}
	}
	return nil
}

// decodeDocument returns the root node of the one YAML document in data,
// or nil for an empty file or one of only comments.
func decodeDocument(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, invalid(errors.New("more than one YAML document"))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil
	}
	return root, nil
}

// yamlValue is a file value as kong takes it: the scalar's text, and for a
// list flag a YAML sequence or a comma-separated string.
func yamlValue(f *kong.Flag, n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		null := n.ShortTag() == "!!null"
		switch {
		case f.IsSlice() && null:
			return []any{}, nil
		case f.IsSlice():
			return splitComma(n.Value), nil
		case null && f.Target.Kind() == reflect.String:
			return "", nil
		case null:
			return nil, fmt.Errorf("want a value, got null")
		}
		return n.Value, nil
	case yaml.SequenceNode:
		if !f.IsSlice() {
			return nil, fmt.Errorf("want a single value, got a list")
		}
		out := []any{}
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode || item.ShortTag() == "!!null" {
				return nil, fmt.Errorf("want a list of strings, got an item that is %s", describe(item))
			}
			if s := strings.TrimSpace(item.Value); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a value, got %s", describe(n))
}

// describe renders a YAML node for an error message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.ShortTag(), "!!"), n.Value)
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// HelpValue is the kong.ValueFormatter of ringcache: a flag's help, then
// its default and its environment variable.
func HelpValue(v *kong.Value) string {
	if v.Flag == nil || v.Name == "help" {
		return v.Help
	}
	var notes []string
	switch v.Default {
	case "", "false", "0", "0s":
	default:
		notes = append(notes, "default "+v.Default)
	}
	notes = append(notes, "env "+EnvName(v.Name))
	return strings.TrimSuffix(v.Help, ".") + " (" + strings.Join(notes, "; ") + ")"
}
