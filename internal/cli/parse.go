package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// occurrence is one flag on the command line, kept until the lower sources
// have been applied so that it can override them.
type occurrence struct {
	f     *flag
	value string
}

// Parse reads args (without the program and subcommand names), then the
// config file (when enabled), then env through lookup (os.LookupEnv in
// main), and returns the positional arguments.
//
// Flags and positionals may interleave; "--" ends the flags; "-x" and "--x",
// "--x=v" and "--x v" are the same; a lone "-" is a positional (stdout or
// stdin). A flag that takes a value takes the next argument whatever it
// looks like, so "-o -" works. Precedence is flag > env > file > default;
// a list from a higher source replaces the lower one rather than adding.
//
// Errors are *UsageError, or ErrHelp after the usage was printed.
func (fs *FlagSet) Parse(args []string, lookup func(string) (string, bool)) ([]string, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	var occs []occurrence
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		spelled := a
		body := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, val, hasVal := strings.Cut(body, "=")
		if eq := strings.IndexByte(a, '='); eq >= 0 {
			spelled = a[:eq]
		}
		if name == "h" || name == "help" {
			fs.PrintUsage()
			return nil, ErrHelp
		}
		f := fs.lookupFlag(name)
		if f == nil {
			return nil, &UsageError{Cmd: fs.Command(), Where: spelled, Msg: "unknown flag", Err: ErrUnknownFlag}
		}
		switch {
		case hasVal:
		case f.val.isSwitch():
			val = "true"
		case i+1 < len(args):
			i++
			val = args[i]
		default:
			return nil, &UsageError{Cmd: fs.Command(), Where: spelled, Msg: "missing value", Err: ErrMissingValue}
		}
		occs = append(occs, occurrence{f, val})
	}
	onCommandLine := map[*flag]bool{}
	for _, o := range occs {
		onCommandLine[o.f] = true
	}

	if fs.config {
		if err := fs.applyConfigFile(occs, lookup); err != nil {
			return nil, err
		}
	}

	// Env only for flags not given on the command line: a stray bad
	// RINGCACHE_X in the environment must not break a command that says
	// --x explicitly. Empty variables count as unset, as compose files
	// often write X=${X} for optional settings.
	for _, f := range fs.order {
		if onCommandLine[f] {
			continue
		}
		env := EnvName(f.name)
		s, ok := lookup(env)
		if !ok || s == "" {
			continue
		}
		fs.claim(f, SourceEnv)
		var err error
		if lv, isList := f.val.(listValue); isList {
			err = lv.setEnv(s)
		} else {
			err = f.val.set(s)
		}
		if err != nil {
			return nil, fs.valueErr(env, err)
		}
	}

	for _, o := range occs {
		fs.claim(o.f, SourceFlag)
		if err := o.f.val.set(o.value); err != nil {
			return nil, fs.valueErr("--"+o.f.name, err)
		}
	}

	if err := fs.checkArgs(len(pos)); err != nil {
		return nil, err
	}
	return pos, nil
}

func (fs *FlagSet) lookupFlag(name string) *flag {
	if f := fs.flags[name]; f != nil {
		return f
	}
	return fs.byAlias[name]
}

// claim records that src now provides f; the first value from a new
// source empties a list, so that sources replace rather than merge.
func (fs *FlagSet) claim(f *flag, src Source) {
	if f.source != src {
		f.val.reset()
		f.source = src
	}
}

func (fs *FlagSet) valueErr(where string, err error) error {
	return &UsageError{Cmd: fs.Command(), Where: where, Msg: err.Error(), Err: err}
}

func (fs *FlagSet) checkArgs(n int) error {
	plural := func(k int) string {
		if k == 1 {
			return "1 argument"
		}
		return fmt.Sprintf("%d arguments", k)
	}
	var msg string
	switch {
	case fs.minArgs == fs.maxArgs && n != fs.minArgs:
		msg = "want " + plural(fs.minArgs)
	case n < fs.minArgs:
		msg = "want at least " + plural(fs.minArgs)
	case fs.maxArgs >= 0 && n > fs.maxArgs:
		msg = "want at most " + plural(fs.maxArgs)
	default:
		return nil
	}
	return &UsageError{
		Cmd: fs.Command(),
		Msg: fmt.Sprintf("%s, got %d (usage: %s)", msg, n, fs.synopsis),
		Err: ErrArgCount,
	}
}

// applyConfigFile finds the file (last --config, else RINGCACHE_CONFIG),
// and applies every key at SourceFile. The whole file is checked even
// for keys that env or flags override: a config file is a document that
// should be right as a whole.
func (fs *FlagSet) applyConfigFile(occs []occurrence, lookup func(string) (string, bool)) error {
	path, where := "", ""
	for _, o := range occs {
		if o.f.name == configFlag {
			path, where = o.value, "--"+configFlag
		}
	}
	if where == "" {
		if s, ok := lookup(EnvName(configFlag)); ok && s != "" {
			path, where = s, EnvName(configFlag)
		}
	}
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &UsageError{Cmd: fs.Command(), Where: where, Msg: err.Error(), Err: err}
	}
	return fs.applyYAML(path, data)
}

// applyYAML applies a config document; name is the file for messages.
func (fs *FlagSet) applyYAML(name string, data []byte) error {
	where := "config " + name
	fileErr := func(msg string, err error) error {
		return &UsageError{Cmd: fs.Command(), Where: where, Msg: msg, Err: err}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file sets nothing
		}
		return fileErr(err.Error(), err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fileErr("more than one YAML document", ErrInvalidValue)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil // only comments
	}
	if root.Kind != yaml.MappingNode {
		return fileErr(fmt.Sprintf("want a mapping of flag names to values, got %s", describe(root)), ErrInvalidValue)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			return fileErr(fmt.Sprintf("line %d: key must be a flag name", k.Line), ErrUnknownKey)
		}
		f := fs.flags[key]
		if f == nil || key == configFlag {
			return fileErr(fmt.Sprintf("line %d: unknown key %q", k.Line, key), ErrUnknownKey)
		}
		if seen[key] {
			return fileErr(fmt.Sprintf("line %d: key %q given twice", k.Line, key), ErrInvalidValue)
		}
		seen[key] = true
		fs.claim(f, SourceFile)
		if err := f.val.setYAML(v); err != nil {
			return &UsageError{Cmd: fs.Command(), Where: fmt.Sprintf("%s: key %q", where, key), Msg: err.Error(), Err: err}
		}
	}
	return nil
}

// PrintUsage writes the help text to the output set by SetOutput.
func (fs *FlagSet) PrintUsage() { fmt.Fprint(fs.out, fs.Usage()) }

// Usage is the help text: the synopsis, then every flag with its value
// type, default and env variable.
func (fs *FlagSet) Usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n", fs.synopsis)
	if len(fs.order) == 0 {
		return b.String()
	}
	b.WriteString("\nFlags:\n")
	flags := slices.Clone(fs.order)
	slices.SortFunc(flags, func(a, b *flag) int { return strings.Compare(a.name, b.name) })
	for _, f := range flags {
		metavar, usage := splitMetavar(f)
		b.WriteString("  ")
		for _, a := range f.aliases {
			b.WriteString(dashes(a) + a + ", ")
		}
		b.WriteString("--" + f.name)
		if metavar != "" {
			b.WriteString(" " + metavar)
		}
		if lv, isList := f.val.(listValue); isList && !lv.split {
			b.WriteString(" (repeatable)")
		}
		b.WriteString("\n        " + usage)
		var notes []string
		if f.def != "" && f.def != `""` && f.def != "false" && f.def != "0" && f.def != "0 B" && f.def != "0s" {
			notes = append(notes, "default "+f.def)
		}
		notes = append(notes, "env "+EnvName(f.name))
		b.WriteString(" (" + strings.Join(notes, "; ") + ")\n")
	}
	b.WriteString("  -h, --help\n        show this help\n")
	return b.String()
}

func dashes(name string) string {
	if len(name) == 1 {
		return "-"
	}
	return "--"
}

// splitMetavar takes the value's name from a `QUOTED` word in the usage, as
// the standard flag package does, else from the type.
func splitMetavar(f *flag) (metavar, usage string) {
	usage = f.usage
	if i := strings.IndexByte(usage, '`'); i >= 0 {
		if j := strings.IndexByte(usage[i+1:], '`'); j >= 0 {
			metavar = usage[i+1 : i+1+j]
			usage = usage[:i] + metavar + usage[i+1+j+1:]
			if f.val.isSwitch() {
				metavar = ""
			}
			return metavar, usage
		}
	}
	return f.val.metavar(), usage
}
