package app

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestExitCodes runs command lines that end before any connection and
// checks CONTRACT's exit codes: 0 for help, 2 for bad usage with one line
// on stderr naming the culprit.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		env    map[string]string
		code   int
		stdout string // substring of stdout
		stderr string // substring of the one stderr line
	}{
		{args: nil, code: 2, stdout: "Commands:"},
		{args: []string{"--help"}, code: 0, stdout: "Commands:"},
		{args: []string{"help"}, code: 0, stdout: "Commands:"},
		{args: []string{"get", "--help"}, code: 0, stdout: "Usage: ringcache get <path>"},
		{args: []string{"node", "-h"}, code: 0, stdout: "RINGCACHE_DATA_DIR"},
		{args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{args: []string{"get", "lake/a", "--bogus"}, code: 2, stderr: "ringcache get: unknown flag --bogus"},
		{args: []string{"get"}, code: 2, stderr: "ringcache get:"},
		{args: []string{"get", "lake/a", "--offset"}, code: 2, stderr: "ringcache get: --offset: missing value"},
		{args: []string{"get", "lake/a", "-o"}, code: 2, stderr: "ringcache get: --output: missing value"},
		{args: []string{"get", "lake/a", "--offset", "-5"}, code: 2, stderr: "negative"},
		{args: []string{"get", "lake/a"}, env: map[string]string{"RINGCACHE_OFFSET": "-5"}, code: 2, stderr: "--offset -5: must not be negative"},
		{args: []string{"get", "lake/a", "--offset", "1"}, env: map[string]string{"RINGCACHE_OFFSET": "x", "RINGCACHE_LENGTH": "-2"}, code: 2, stderr: "--length -2"},
		{args: []string{"get", "lake/../a"}, code: 2, stderr: ".."},
		{args: []string{"node"}, code: 2, stderr: "--understore is required"},
		{args: []string{"node", "--understore", "file:///x", "--log-format", "xml"}, code: 2, stderr: "--log-format"},
		{args: []string{"bench", "--nodes", "2", "--understore", "file:///x"}, code: 2, stderr: "--nodes applies to --dev only"},
		{args: []string{"bench", "--understore", "file:///x"}, env: map[string]string{"RINGCACHE_UNDERSTORE_LATENCY": "5ms"}, code: 2, stderr: "--understore-latency applies to --dev only"},
		{args: []string{"bench", "--dev", "--baseline", "--compare"}, code: 2, stderr: "pick one"},
		{args: []string{"completion", "tcsh"}, code: 2, stderr: "bash"},
		{args: []string{"completion", "bash"}, code: 0, stdout: "complete -o default -C"},
		{args: []string{"completion", "fish"}, code: 0, stdout: "__complete_ringcache"},
	} {
		var out, errb bytes.Buffer
		env := tc.env
		code := Main(Env{Args: tc.args, Stdout: &out, Stderr: &errb, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("%q %v: exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", tc.args, tc.env, code, tc.code, out.String(), tc.stdout, errb.String(), tc.stderr)
		}
		if lines := strings.Count(strings.TrimSpace(errb.String()), "\n"); lines != 0 {
			t.Errorf("%q: stderr has %d lines, want one: %q", tc.args, lines+1, errb.String())
		}
	}
}

// Every command builds and prints its help: a malformed tag would fail here.
func TestEveryCommandHelp(t *testing.T) {
	for _, name := range []string{"node", "dev", "get", "stat", "load", "unpin", "invalidate", "members", "affinity", "bench", "healthcheck", "completion", "keyring", "certs"} {
		var out, errb bytes.Buffer
		if code := Main(Env{Args: []string{name, "--help"}, Stdout: &out, Stderr: &errb}); code != 0 || !strings.Contains(out.String(), "ringcache "+name) {
			t.Errorf("%s --help: exit %d, stderr %q", name, code, errb.String())
		}
	}
}

// The shell asks for completions by running the binary with COMP_LINE set.
func TestShellCompletion(t *testing.T) {
	for line, want := range map[string]string{"ringcache ge": "get", "ringcache get --se": "--seeds", "ringcache completion ": "bash"} {
		t.Setenv("COMP_LINE", line)
		t.Setenv("COMP_POINT", fmt.Sprint(len(line)))
		var out, errb bytes.Buffer
		code := Main(Env{Args: nil, Stdout: &out, Stderr: &errb, LookupEnv: os.LookupEnv})
		if code != 0 || !strings.Contains(out.String(), want) {
			t.Errorf("COMP_LINE=%q: exit %d, stdout %q (want %q), stderr %q", line, code, out.String(), want, errb.String())
		}
	}
}

// A short --dev bench with --compare: the default under-store latency is
// printed in the header, and the run ends with the cache-vs-no-cache line.
func TestBenchDevCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	var out, errb bytes.Buffer
	args := []string{"bench", "--dev", "--compare", "--nodes", "1", "--ops", "40", "--files", "4", "--file-size", "256KiB",
		"--read-size", "64KiB", "--seed", "1", "--charts=false"}
	if code := Main(Env{Args: args, Stdout: &out, Stderr: &errb}); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
	}
	for _, want := range []string{"+ " + DevUnderstoreLatency.String() + " per request", "cache vs no-cache:", "seed 1 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
