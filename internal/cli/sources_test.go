package cli

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

// envMap is a lookup function over a map: tests never touch the process
// environment.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ringcache.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testCmd has one flag of every shape ringcache uses.
type testCmd struct {
	Config   string        `name:"config"`
	Str      string        `name:"str" default:"d"`
	Switch   bool          `name:"switch"`
	Int      int           `name:"int" default:"1"`
	Int64    int64         `name:"int64" default:"1"`
	Float    float64       `name:"float" default:"1.25"`
	Size     Size          `name:"size" default:"1GiB"`
	Duration time.Duration `name:"duration" default:"1m"`
	List     []string      `name:"list" sep:"none" default:"d"`
	Comma    []string      `name:"comma"`
	Output   string        `name:"output" short:"o"`
	Args     []string      `arg:"" optional:""`
}

type testApp struct {
	Get testCmd `cmd:""`
}

// parse runs args (after "get") through kong with the sources.
func parse(t *testing.T, args []string, env map[string]string) (*testCmd, *Sources, error) {
	t.Helper()
	app := &testApp{}
	src := NewSources(envMap(env))
	var out bytes.Buffer
	k, err := kong.New(app, kong.Name("ringcache"), kong.Writers(&out, &out), kong.Exit(func(int) {}),
		kong.WithHyphenPrefixedParameters(true), StrictStrings(), src.Option())
	if err != nil {
		t.Fatal(err)
	}
	_, err = k.Parse(append([]string{"get"}, args...))
	return &app.Get, src, err
}

// TestPrecedence runs every flag shape through all eight combinations of
// flag, env and file being present and checks value and Source.
func TestPrecedence(t *testing.T) {
	kinds := []struct {
		name                 string
		get                  func(c *testCmd) any
		def, file, env, flag any
		fileText, envText    string
		flagArgs             []string
	}{
		{"str", func(c *testCmd) any { return c.Str }, "d", "f", "e", "c", "str: f", "e", []string{"--str", "c"}},
		{"switch", func(c *testCmd) any { return c.Switch }, false, true, false, true, "switch: true", "off", []string{"--switch"}},
		{"int", func(c *testCmd) any { return c.Int }, 1, 2, 3, 4, "int: 2", "3", []string{"--int=4"}},
		{"int64", func(c *testCmd) any { return c.Int64 }, int64(1), int64(1 << 40), int64(-3), int64(4), "int64: 1099511627776", "-3", []string{"--int64", "4"}},
		{"float", func(c *testCmd) any { return c.Float }, 1.25, 2.0, 0.5, 1e3, "float: 2", "0.5", []string{"--float=1e3"}},
		{"size", func(c *testCmd) any { return c.Size }, Size(1 << 30), Size(64 << 20), Size(1e9), Size(4096), "size: 64MiB", "1GB", []string{"--size", "4096"}},
		{"duration", func(c *testCmd) any { return c.Duration }, time.Minute, 30 * time.Second, 2 * time.Hour, 1500 * time.Millisecond, "duration: 30s", "2h", []string{"--duration", "1.5s"}},
		{"list", func(c *testCmd) any { return c.List }, []string{"d"}, []string{"f1", "f2"}, []string{"e1", "e2"}, []string{"c=1,2", "c2"}, "list: [f1, f2]", "e1, e2", []string{"--list", "c=1,2", "--list=c2"}},
		{"comma", func(c *testCmd) any { return c.Comma }, []string(nil), []string{"f1", "f2"}, []string{"e1"}, []string{"a", "b", "c"}, "comma: f1,f2", "e1", []string{"--comma", "a,b", "--comma", "c"}},
	}
	for _, k := range kinds {
		for mask := range 8 {
			hasFile, hasEnv, hasFlag := mask&1 != 0, mask&2 != 0, mask&4 != 0
			var args []string
			env := map[string]string{}
			want, wantSrc := k.def, SourceDefault
			if hasFile {
				env["RINGCACHE_CONFIG"] = writeConfig(t, k.fileText+"\n")
				want, wantSrc = k.file, SourceFile
			}
			if hasEnv {
				env[EnvName(k.name)] = k.envText
				want, wantSrc = k.env, SourceEnv
			}
			if hasFlag {
				args = append(args, k.flagArgs...)
				want, wantSrc = k.flag, SourceFlag
			}
			c, src, err := parse(t, args, env)
			if err != nil {
				t.Errorf("%s file=%v env=%v flag=%v: %v", k.name, hasFile, hasEnv, hasFlag, err)
				continue
			}
			if got := k.get(c); !reflect.DeepEqual(got, want) && !(reflect.ValueOf(got).Kind() == reflect.Slice && reflect.ValueOf(got).Len() == 0 && want == nil) {
				t.Errorf("%s file=%v env=%v flag=%v: got %#v, want %#v", k.name, hasFile, hasEnv, hasFlag, got, want)
			}
			if s := src.Source(k.name); s != wantSrc || src.IsSet(k.name) != (wantSrc != SourceDefault) {
				t.Errorf("%s file=%v env=%v flag=%v: source %v, want %v", k.name, hasFile, hasEnv, hasFlag, s, wantSrc)
			}
		}
	}
}

func TestConfigFlagBeatsConfigEnv(t *testing.T) {
	good := writeConfig(t, "str: from-flag-file\n")
	c, _, err := parse(t, []string{"--config", good}, map[string]string{"RINGCACHE_CONFIG": "/does/not/exist.yaml"})
	if err != nil || c.Str != "from-flag-file" {
		t.Fatalf("got %q, %v", c.Str, err)
	}
}

// The command-line behaviours CONTRACT.md names: flags before or after the
// positionals, values that start with a dash, "--".
func TestCommandLine(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		pos    []string
		out    string
		int64  int64
		sw     bool
		errSub string
	}{
		{name: "flags after positional", args: []string{"lake/a", "-o", "F", "--int64", "5"}, pos: []string{"lake/a"}, out: "F", int64: 5},
		{name: "flags before positional", args: []string{"--int64=5", "--output=F", "lake/a"}, pos: []string{"lake/a"}, out: "F", int64: 5},
		{name: "switch does not eat positional", args: []string{"--switch", "lake/a"}, pos: []string{"lake/a"}, sw: true, int64: 1},
		{name: "switch =false", args: []string{"--switch=false", "lake/a"}, pos: []string{"lake/a"}, int64: 1},
		{name: "value may start with dash", args: []string{"lake/a", "-o", "-"}, pos: []string{"lake/a"}, out: "-", int64: 1},
		{name: "negative value", args: []string{"lake/a", "--int64", "-5"}, pos: []string{"lake/a"}, int64: -5},
		{name: "lone dash is positional", args: []string{"-"}, pos: []string{"-"}, int64: 1},
		{name: "double dash ends flags", args: []string{"--int64", "2", "--", "--switch"}, pos: []string{"--switch"}, int64: 2},
		{name: "last wins", args: []string{"a", "--int64", "1", "--int64", "2"}, pos: []string{"a"}, int64: 2},
		{name: "missing string value", args: []string{"a", "-o"}, errSub: "missing value"},
		{name: "missing size value", args: []string{"a", "--size"}, errSub: "missing value"},
		{name: "string value may look like a flag", args: []string{"a", "-o", "--int"}, pos: []string{"a"}, out: "--int", int64: 1},
		{name: "unknown flag", args: []string{"a", "--nope"}, errSub: "unknown flag --nope"},
		{name: "bad number", args: []string{"a", "--int64", "x"}, errSub: `"x"`},
		{name: "bad size", args: []string{"a", "--size", "1G"}, errSub: `invalid size "1G"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := parse(t, tt.args, nil)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Args, tt.pos) || c.Output != tt.out || c.Int64 != tt.int64 || c.Switch != tt.sw {
				t.Fatalf("got pos=%q out=%q int64=%d switch=%v", c.Args, c.Output, c.Int64, c.Switch)
			}
		})
	}
}

// The caller prints err.Error() as the one line on stderr.
func TestErrorMessages(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknown := file("unknown.yaml", "int64: 1\nint46: 2\n")
	wrong := file("wrong.yaml", "switch: yes please\n")
	wrongInt := file("wrongint.yaml", "int64: [1]\n")
	badSize := file("size.yaml", "size: 10 gigs\n")
	syntax := file("syntax.yaml", "int64: [\n")
	twice := file("twice.yaml", "int64: 1\nint64: 2\n")
	nested := file("nested.yaml", "config: other.yaml\n")
	notMap := file("list.yaml", "- a\n- b\n")
	missing := filepath.Join(dir, "missing.yaml")
	tests := []struct {
		args    []string
		env     map[string]string
		want    string
		wantErr error
	}{
		{env: map[string]string{"RINGCACHE_INT64": "x"}, want: `ringcache get: RINGCACHE_INT64: expected a valid 64 bit int but got "x"`, wantErr: ErrInvalidValue},
		{env: map[string]string{"RINGCACHE_SIZE": "-1GiB"}, want: `ringcache get: RINGCACHE_SIZE: invalid size "-1GiB": negative`, wantErr: ErrInvalidSize},
		{args: []string{"--config", unknown}, want: `ringcache get: config ` + unknown + `: line 2: unknown key "int46"`, wantErr: ErrUnknownKey},
		{args: []string{"--config", wrong}, want: `ringcache get: config ` + wrong + `: key "switch": bool value must be true, 1, yes, false, 0 or no but got "yes please"`, wantErr: ErrInvalidValue},
		{args: []string{"--config", wrongInt}, want: `ringcache get: config ` + wrongInt + `: key "int64": want a single value, got a list`, wantErr: ErrInvalidValue},
		{args: []string{"--config", badSize}, want: `ringcache get: config ` + badSize + `: key "size": invalid size "10 gigs": unknown unit "gigs" (want B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)`, wantErr: ErrInvalidSize},
		{args: []string{"--config", twice}, want: `ringcache get: config ` + twice + `: line 2: key "int64" given twice`, wantErr: ErrInvalidValue},
		{args: []string{"--config", nested}, want: `ringcache get: config ` + nested + `: line 1: unknown key "config"`, wantErr: ErrUnknownKey},
		{args: []string{"--config", notMap}, want: `ringcache get: config ` + notMap + `: want a mapping of flag names to values, got a list`, wantErr: ErrInvalidValue},
		{args: []string{"--config", syntax}, want: `ringcache get: config ` + syntax + `: yaml: line 1: did not find expected node content`},
		{env: map[string]string{"RINGCACHE_CONFIG": missing}, want: `ringcache get: RINGCACHE_CONFIG: open ` + missing + `: no such file or directory`, wantErr: fs.ErrNotExist},
	}
	for _, tt := range tests {
		_, _, err := parse(t, tt.args, tt.env)
		var ue *UsageError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUsage) {
			t.Errorf("%q %v: err %v is not a *UsageError", tt.args, tt.env, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.args, err, tt.want)
		}
		if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("%q: %v does not match %v", tt.args, err, tt.wantErr)
		}
	}
}

// A bad env value for a flag given on the command line is never read, and
// empty variables count as unset.
func TestEnvShadowedOrEmpty(t *testing.T) {
	c, _, err := parse(t, []string{"--int64", "7"}, map[string]string{"RINGCACHE_INT64": "x"})
	if err != nil || c.Int64 != 7 {
		t.Fatalf("flag over bad env: got %d, %v", c.Int64, err)
	}
	c, src, err := parse(t, nil, map[string]string{"RINGCACHE_STR": "", "RINGCACHE_SIZE": ""})
	if err != nil || c.Str != "d" || c.Size != 1<<30 || src.IsSet("str") {
		t.Fatalf("empty env: got %q %d %v", c.Str, c.Size, err)
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{"data-dir": "RINGCACHE_DATA_DIR", "s3-path-style": "RINGCACHE_S3_PATH_STYLE", "id": "RINGCACHE_ID"} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A whole config file with every value shape.
func TestConfigFileShapes(t *testing.T) {
	p := writeConfig(t, `# a config
str: /var/lib/ringcache
size: 10GiB
int64: 1048576
switch: true
comma:
  - 10.0.0.1:7946
  - 10.0.0.2:7946
list: "warehouse/a=1GiB, warehouse/b=2GiB"
duration: 90s
output:
float: 1.25
`)
	c, src, err := parse(t, []string{"--config", p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Str != "/var/lib/ringcache" || c.Size != 10<<30 || c.Int64 != 1<<20 || !c.Switch ||
		!reflect.DeepEqual(c.Comma, []string{"10.0.0.1:7946", "10.0.0.2:7946"}) ||
		!reflect.DeepEqual(c.List, []string{"warehouse/a=1GiB", "warehouse/b=2GiB"}) ||
		c.Duration != 90*time.Second || c.Output != "" || c.Float != 1.25 {
		t.Fatalf("got %+v", c)
	}
	for _, name := range []string{"str", "comma", "output"} {
		if src.Source(name) != SourceFile {
			t.Errorf("Source(%q) = %v", name, src.Source(name))
		}
	}
}

func TestEmptyConfigFile(t *testing.T) {
	for _, text := range []string{"", "# nothing\n", "---\n"} {
		if c, _, err := parse(t, []string{"--config", writeConfig(t, text)}, nil); err != nil || c.Str != "d" {
			t.Errorf("%q: %q, %v", text, c.Str, err)
		}
	}
}

func TestHelpValue(t *testing.T) {
	app := &testApp{}
	var out bytes.Buffer
	k, err := kong.New(app, kong.Name("ringcache"), kong.Writers(&out, &out), kong.Exit(func(int) {}), kong.ValueFormatter(HelpValue))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Parse([]string{"get", "--help"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(default 1GiB; env RINGCACHE_SIZE)", "(env RINGCACHE_SWITCH)", "(env RINGCACHE_CONFIG)"} {
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUsagef(t *testing.T) {
	err := error(Usagef("ringcache get", "--length %d must not be negative", -2))
	if err.Error() != "ringcache get: --length -2 must not be negative" || !errors.Is(err, ErrUsage) {
		t.Fatalf("got %v", err)
	}
}
