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

// TestPrecedence runs every flag type through all eight combinations of
// flag, env and file being present and checks value and Source.
func TestPrecedence(t *testing.T) {
	type kind struct {
		name                 string
		define               func(fs *FlagSet) func() any
		def, file, env, flag any
		fileText, envText    string
		flagArgs             []string
	}
	kinds := []kind{
		{
			name:   "string",
			define: func(fs *FlagSet) func() any { p := fs.String("x", "d", ""); return func() any { return *p } },
			def:    "d", file: "f", env: "e", flag: "c",
			fileText: "x: f", envText: "e", flagArgs: []string{"--x", "c"},
		},
		{
			name:   "switch",
			define: func(fs *FlagSet) func() any { p := fs.Switch("x", false, ""); return func() any { return *p } },
			def:    false, file: true, env: false, flag: true,
			fileText: "x: true", envText: "false", flagArgs: []string{"--x"},
		},
		{
			name:   "int",
			define: func(fs *FlagSet) func() any { p := fs.Int("x", 1, ""); return func() any { return *p } },
			def:    1, file: 2, env: 3, flag: 4,
			fileText: "x: 2", envText: "3", flagArgs: []string{"-x=4"},
		},
		{
			name:   "int64",
			define: func(fs *FlagSet) func() any { p := fs.Int64("x", 1, ""); return func() any { return *p } },
			def:    int64(1), file: int64(1 << 40), env: int64(-3), flag: int64(4),
			fileText: "x: 1099511627776", envText: "-3", flagArgs: []string{"-x", "4"},
		},
		{
			name:   "float64",
			define: func(fs *FlagSet) func() any { p := fs.Float64("x", 1.25, ""); return func() any { return *p } },
			def:    1.25, file: 2.0, env: 0.5, flag: 1e3,
			fileText: "x: 2", envText: "0.5", flagArgs: []string{"--x=1e3"},
		},
		{
			name:   "size",
			define: func(fs *FlagSet) func() any { p := fs.Size("x", 1<<30, ""); return func() any { return *p } },
			def:    int64(1 << 30), file: int64(64 << 20), env: int64(1e9), flag: int64(4096),
			fileText: "x: 64MiB", envText: "1GB", flagArgs: []string{"--x", "4096"},
		},
		{
			name: "duration",
			define: func(fs *FlagSet) func() any {
				p := fs.Duration("x", time.Minute, "")
				return func() any { return *p }
			},
			def: time.Minute, file: 30 * time.Second, env: 2 * time.Hour, flag: 1500 * time.Millisecond,
			fileText: "x: 30s", envText: "2h", flagArgs: []string{"--x", "1.5s"},
		},
		{
			name: "string list",
			define: func(fs *FlagSet) func() any {
				p := fs.StringList("x", []string{"d"}, "")
				return func() any { return *p }
			},
			def: []string{"d"}, file: []string{"f1", "f2"}, env: []string{"e1", "e2"}, flag: []string{"c=1,2", "c2"},
			fileText: "x: [f1, f2]", envText: "e1, e2", flagArgs: []string{"--x", "c=1,2", "--x=c2"},
		},
		{
			name: "comma list",
			define: func(fs *FlagSet) func() any {
				p := fs.CommaList("x", nil, "")
				return func() any { return *p }
			},
			def: []string(nil), file: []string{"f1", "f2"}, env: []string{"e1"}, flag: []string{"a", "b", "c"},
			fileText: "x: f1,f2", envText: "e1", flagArgs: []string{"--x", "a,b", "--x", "c"},
		},
	}
	for _, k := range kinds {
		for mask := 0; mask < 8; mask++ {
			hasFile, hasEnv, hasFlag := mask&1 != 0, mask&2 != 0, mask&4 != 0
			fs := NewFlagSet("t", "t")
			cfg := fs.EnableConfigFile()
			get := k.define(fs)
			var args []string
			env := map[string]string{}
			want, wantSrc := k.def, SourceDefault
			if hasFile {
				env["RINGCACHE_CONFIG"] = writeConfig(t, k.fileText+"\n")
				want, wantSrc = k.file, SourceFile
			}
			if hasEnv {
				env["RINGCACHE_X"] = k.envText
				want, wantSrc = k.env, SourceEnv
			}
			if hasFlag {
				args = append(args, k.flagArgs...)
				want, wantSrc = k.flag, SourceFlag
			}
			pos, err := fs.Parse(args, envMap(env))
			if err != nil {
				t.Errorf("%s file=%v env=%v flag=%v: %v", k.name, hasFile, hasEnv, hasFlag, err)
				continue
			}
			if got := get(); !reflect.DeepEqual(got, want) {
				t.Errorf("%s file=%v env=%v flag=%v: got %#v, want %#v", k.name, hasFile, hasEnv, hasFlag, got, want)
			}
			if src := fs.Source("x"); src != wantSrc || fs.IsSet("x") != (wantSrc != SourceDefault) {
				t.Errorf("%s file=%v env=%v flag=%v: source %v, want %v", k.name, hasFile, hasEnv, hasFlag, src, wantSrc)
			}
			if len(pos) != 0 {
				t.Errorf("%s: positionals %q", k.name, pos)
			}
			if hasFile && (*cfg == "" || fs.Source("config") != SourceEnv) {
				t.Errorf("%s: config path %q from %v", k.name, *cfg, fs.Source("config"))
			}
		}
	}
}

func TestConfigFlagBeatsConfigEnv(t *testing.T) {
	good := writeConfig(t, "data-dir: /from-flag-file\n")
	fs := NewFlagSet("node", "ringcache node")
	fs.EnableConfigFile()
	dir := fs.String("data-dir", "./ringcache-data", "")
	_, err := fs.Parse([]string{"--config", good}, envMap(map[string]string{"RINGCACHE_CONFIG": "/does/not/exist.yaml"}))
	if err != nil || *dir != "/from-flag-file" {
		t.Fatalf("got %q, %v", *dir, err)
	}
}

// newGet builds a flag set shaped like `ringcache get`.
func newGet() (*FlagSet, *string, *int64, *int64, *bool) {
	fs := NewFlagSet("get", "ringcache get PATH [flags]")
	out := fs.String("output", "", "write to `FILE` instead of stdout")
	fs.Alias("o", "output")
	off := fs.Int64("offset", 0, "first byte")
	n := fs.Size("length", -1, "bytes to read")
	pin := fs.Switch("pin", false, "pin")
	fs.WantArgs(1, 1)
	return fs, out, off, n, pin
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		pos     []string
		out     string
		off     int64
		length  int64
		pin     bool
		wantErr error
	}{
		{name: "flags after positional", args: []string{"lake/a", "-o", "F", "--offset", "5"}, pos: []string{"lake/a"}, out: "F", off: 5, length: -1},
		{name: "flags before positional", args: []string{"--offset=5", "-output=F", "lake/a"}, pos: []string{"lake/a"}, out: "F", off: 5, length: -1},
		{name: "interleaved", args: []string{"-o", "F", "lake/a", "--length", "1KiB", "--pin"}, pos: []string{"lake/a"}, out: "F", length: 1024, pin: true},
		{name: "switch does not eat positional", args: []string{"--pin", "lake/a"}, pos: []string{"lake/a"}, length: -1, pin: true},
		{name: "switch =false", args: []string{"--pin=false", "lake/a"}, pos: []string{"lake/a"}, length: -1},
		{name: "switch =TRUE", args: []string{"-pin=TRUE", "lake/a"}, pos: []string{"lake/a"}, length: -1, pin: true},
		{name: "value may start with dash", args: []string{"lake/a", "-o", "-"}, pos: []string{"lake/a"}, out: "-", length: -1},
		{name: "lone dash is positional", args: []string{"-"}, pos: []string{"-"}, length: -1},
		{name: "double dash ends flags", args: []string{"--offset", "1", "--", "--pin"}, pos: []string{"--pin"}, off: 1, length: -1},
		{name: "empty value", args: []string{"a", "--output="}, pos: []string{"a"}, length: -1},
		{name: "last wins", args: []string{"a", "--offset", "1", "--offset", "2"}, pos: []string{"a"}, off: 2, length: -1},
		{name: "unknown flag", args: []string{"a", "--nope"}, wantErr: ErrUnknownFlag},
		{name: "unknown after value", args: []string{"a", "--offset", "1", "-x"}, wantErr: ErrUnknownFlag},
		{name: "missing value", args: []string{"a", "--offset"}, wantErr: ErrMissingValue},
		{name: "bad number", args: []string{"a", "--offset", "x"}, wantErr: ErrInvalidValue},
		{name: "bad size", args: []string{"a", "--length", "1G"}, wantErr: ErrInvalidSize},
		{name: "bad switch value", args: []string{"a", "--pin=maybe"}, wantErr: ErrInvalidValue},
		{name: "no positional", args: []string{"--pin"}, wantErr: ErrArgCount},
		{name: "two positionals", args: []string{"a", "b"}, wantErr: ErrArgCount},
		{name: "help", args: []string{"a", "--help"}, wantErr: ErrHelp},
		{name: "help short without positional", args: []string{"-h"}, wantErr: ErrHelp},
		{name: "help after -- is positional", args: []string{"--", "-h"}, pos: []string{"-h"}, length: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, out, off, n, pin := newGet()
			var help bytes.Buffer
			fs.SetOutput(&help)
			pos, err := fs.Parse(tt.args, nil)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var ue *UsageError
				if tt.wantErr == ErrHelp {
					if errors.As(err, &ue) || !strings.Contains(help.String(), "Usage: ringcache get PATH") {
						t.Fatalf("help: err %v, printed %q", err, help.String())
					}
				} else if !errors.As(err, &ue) || !errors.Is(err, ErrUsage) {
					t.Fatalf("err %T %v is not a *UsageError", err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pos, tt.pos) || *out != tt.out || *off != tt.off || *n != tt.length || *pin != tt.pin {
				t.Fatalf("got pos=%q out=%q off=%d length=%d pin=%v", pos, *out, *off, *n, *pin)
			}
		})
	}
}

// The caller prints err.Error() as the one line on stderr.
func TestErrorMessages(t *testing.T) {
	cfgDir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(cfgDir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknown := file("unknown.yaml", "offset: 1\nofset: 2\n")
	wrong := file("wrong.yaml", "pin: yes please\n")
	wrongInt := file("wrongint.yaml", "offset: [1]\n")
	badSize := file("size.yaml", "length: 10 gigs\n")
	syntax := file("syntax.yaml", "offset: [\n")
	twice := file("twice.yaml", "offset: 1\noffset: 2\n")
	nested := file("nested.yaml", "config: other.yaml\n")
	notMap := file("list.yaml", "- a\n- b\n")
	tests := []struct {
		args    []string
		env     map[string]string
		want    string
		wantErr error
	}{
		{args: []string{"a", "--offset", "x"}, want: `ringcache get: --offset: invalid number "x"`, wantErr: ErrInvalidValue},
		{args: []string{"a", "-o"}, want: `ringcache get: -o: missing value`, wantErr: ErrMissingValue},
		{args: []string{"a", "--bogus=1"}, want: `ringcache get: --bogus: unknown flag`, wantErr: ErrUnknownFlag},
		{args: []string{"a", "--offset", "99999999999999999999"}, want: `ringcache get: --offset: number "99999999999999999999" out of range`, wantErr: ErrInvalidValue},
		{args: []string{"a", "--length", "-1GiB"}, want: `ringcache get: --length: invalid size "-1GiB": negative`, wantErr: ErrInvalidSize},
		{args: []string{"a", "--wait", "5"}, want: `ringcache get: --wait: invalid duration "5" (want Go syntax such as 30s)`, wantErr: ErrInvalidValue},
		{args: []string{"a", "--ratio", "NaN"}, want: `ringcache get: --ratio: invalid number "NaN"`, wantErr: ErrInvalidValue},
		{args: []string{}, want: `ringcache get: want 1 argument, got 0 (usage: ringcache get PATH [flags])`, wantErr: ErrArgCount},
		{args: []string{"a"}, env: map[string]string{"RINGCACHE_OFFSET": "x"}, want: `ringcache get: RINGCACHE_OFFSET: invalid number "x"`, wantErr: ErrInvalidValue},
		{args: []string{"a", "--config", unknown}, want: `ringcache get: config ` + unknown + `: line 2: unknown key "ofset"`, wantErr: ErrUnknownKey},
		{args: []string{"a", "--config", wrong}, want: `ringcache get: config ` + wrong + `: key "pin": want a boolean, got str "yes please"`, wantErr: ErrInvalidValue},
		{args: []string{"a", "--config", wrongInt}, want: `ringcache get: config ` + wrongInt + `: key "offset": want an integer, got a list`, wantErr: ErrInvalidValue},
		{args: []string{"a", "--config", badSize}, want: `ringcache get: config ` + badSize + `: key "length": invalid size "10 gigs": unknown unit "gigs" (want B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)`, wantErr: ErrInvalidSize},
		{args: []string{"a", "--config", twice}, want: `ringcache get: config ` + twice + `: line 2: key "offset" given twice`, wantErr: ErrInvalidValue},
		{args: []string{"a", "--config", nested}, want: `ringcache get: config ` + nested + `: line 1: unknown key "config"`, wantErr: ErrUnknownKey},
		{args: []string{"a", "--config", notMap}, want: `ringcache get: config ` + notMap + `: want a mapping of flag names to values, got a list`, wantErr: ErrInvalidValue},
		{args: []string{"a", "--config", syntax}, want: `ringcache get: config ` + syntax + `: yaml: line 1: did not find expected node content`},
		{args: []string{"a"}, env: map[string]string{"RINGCACHE_CONFIG": filepath.Join(cfgDir, "missing.yaml")}, want: `ringcache get: RINGCACHE_CONFIG: open ` + filepath.Join(cfgDir, "missing.yaml") + `: no such file or directory`, wantErr: fs.ErrNotExist},
	}
	for _, tt := range tests {
		set, _, _, _, _ := newGet()
		set.EnableConfigFile()
		set.Duration("wait", 0, "")
		set.Float64("ratio", 0, "")
		_, err := set.Parse(tt.args, envMap(tt.env))
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: err %v is not a *UsageError", tt.args, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.args, err, tt.want)
		}
		if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("%q: %v does not match %v", tt.args, err, tt.wantErr)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: message has several lines", tt.args)
		}
	}
}

// A bad env value for a flag given on the command line is never read.
func TestFlagShadowsBadEnv(t *testing.T) {
	set, _, off, _, _ := newGet()
	if _, err := set.Parse([]string{"a", "--offset", "7"}, envMap(map[string]string{"RINGCACHE_OFFSET": "x"})); err != nil || *off != 7 {
		t.Fatalf("got %d, %v", *off, err)
	}
}

// Empty env variables count as unset.
func TestEmptyEnvIgnored(t *testing.T) {
	set := NewFlagSet("node", "ringcache node")
	dir := set.String("data-dir", "./ringcache-data", "")
	n := set.Size("capacity", 1<<30, "")
	_, err := set.Parse(nil, envMap(map[string]string{"RINGCACHE_DATA_DIR": "", "RINGCACHE_CAPACITY": ""}))
	if err != nil || *dir != "./ringcache-data" || *n != 1<<30 || set.IsSet("data-dir") {
		t.Fatalf("got %q %d %v", *dir, *n, err)
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{"data-dir": "RINGCACHE_DATA_DIR", "s3-path-style": "RINGCACHE_S3_PATH_STYLE", "id": "RINGCACHE_ID"} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A whole node-style config file with every value shape.
func TestConfigFileShapes(t *testing.T) {
	p := writeConfig(t, `# node config
data-dir: /var/lib/ringcache
capacity: 10GiB
page-size: 1048576
s3-path-style: true
join:
  - 10.0.0.1:7946
  - 10.0.0.2:7946
scope-quota: "warehouse/a=1GiB, warehouse/b=2GiB"
sync-interval: 90s
tls-ca:
max-load: 1.25
`)
	set := NewFlagSet("node", "ringcache node [flags]")
	set.EnableConfigFile()
	dir := set.String("data-dir", "./ringcache-data", "")
	capacity := set.Size("capacity", 1<<30, "")
	page := set.Size("page-size", 1<<20, "")
	ps := set.Switch("s3-path-style", false, "")
	join := set.CommaList("join", nil, "")
	quota := set.StringList("scope-quota", nil, "")
	sync := set.Duration("sync-interval", time.Minute, "")
	ca := set.String("tls-ca", "x", "")
	ml := set.Float64("max-load", 1, "")
	set.WantArgs(0, 0)
	if _, err := set.Parse([]string{"--config", p}, nil); err != nil {
		t.Fatal(err)
	}
	if *dir != "/var/lib/ringcache" || *capacity != 10<<30 || *page != 1<<20 || !*ps ||
		!reflect.DeepEqual(*join, []string{"10.0.0.1:7946", "10.0.0.2:7946"}) ||
		!reflect.DeepEqual(*quota, []string{"warehouse/a=1GiB", "warehouse/b=2GiB"}) ||
		*sync != 90*time.Second || *ca != "" || *ml != 1.25 {
		t.Fatalf("got %q %d %d %v %q %q %v %q %v", *dir, *capacity, *page, *ps, *join, *quota, *sync, *ca, *ml)
	}
	for _, name := range []string{"data-dir", "join", "tls-ca"} {
		if set.Source(name) != SourceFile {
			t.Errorf("Source(%q) = %v", name, set.Source(name))
		}
	}
}

func TestEmptyConfigFile(t *testing.T) {
	for _, text := range []string{"", "# nothing\n", "---\n"} {
		set := NewFlagSet("node", "ringcache node")
		set.EnableConfigFile()
		dir := set.String("data-dir", "d", "")
		if _, err := set.Parse([]string{"--config", writeConfig(t, text)}, nil); err != nil || *dir != "d" {
			t.Errorf("%q: %q, %v", text, *dir, err)
		}
	}
}

func TestUsageText(t *testing.T) {
	set, _, _, _, _ := newGet()
	set.EnableConfigFile()
	set.Size("capacity", 1<<30, "bytes of pages")
	set.StringList("scope-quota", nil, "PREFIX=SIZE quota")
	set.CommaList("join", nil, "gossip addresses")
	var b bytes.Buffer
	set.SetOutput(&b)
	if _, err := set.Parse([]string{"--help"}, nil); err != ErrHelp {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{
		"Usage: ringcache get PATH [flags]\n",
		"  -o, --output FILE\n        write to FILE instead of stdout (env RINGCACHE_OUTPUT)\n",
		"  --capacity SIZE\n        bytes of pages (default 1 GiB; env RINGCACHE_CAPACITY)\n",
		"  --length SIZE\n",
		"  --pin\n",
		"  --scope-quota VALUE (repeatable)\n",
		"  --join A,B,...\n",
		"  --config FILE\n",
		"  -h, --help\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, b.String())
		}
	}
}

func TestDefinitionPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func(fs *FlagSet)
	}{
		{"duplicate", func(fs *FlagSet) { fs.String("a", "", ""); fs.Int("a", 0, "") }},
		{"upper case", func(fs *FlagSet) { fs.String("Data", "", "") }},
		{"help", func(fs *FlagSet) { fs.Switch("help", false, "") }},
		{"alias of nothing", func(fs *FlagSet) { fs.Alias("o", "output") }},
		{"alias clash", func(fs *FlagSet) { fs.String("o", "", ""); fs.String("output", "", ""); fs.Alias("o", "output") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tt.f(NewFlagSet("x", "x"))
		})
	}
}

func TestUsagef(t *testing.T) {
	err := error(NewFlagSet("get", "").Usagef("--length %d must not be negative", -2))
	if err.Error() != "ringcache get: --length -2 must not be negative" || !errors.Is(err, ErrUsage) {
		t.Fatalf("got %v", err)
	}
	if NewFlagSet("", "").Command() != "ringcache" {
		t.Fatal("bare command name")
	}
}
