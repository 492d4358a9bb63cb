package app

import (
	"bytes"
	"strings"
	"testing"
)

// TestCertsCommand runs `ringcache certs` in a temporary directory: files
// are written once, a second run refuses with exit 1 and one line.
func TestCertsCommand(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{args: []string{"certs", "node", "--dir", dir, "--name", "n1", "--hosts", "127.0.0.1"}, code: 1, stderr: "ringcache certs init --dir"},
		{args: []string{"certs", "init", "--dir", dir}, code: 0},
		{args: []string{"certs", "init", "--dir", dir}, code: 1, stderr: "file exists, not overwritten"},
		{args: []string{"certs", "node", "--dir", dir, "--name", "n1", "--hosts", "127.0.0.1,localhost"}, code: 0},
		{args: []string{"certs", "node", "--dir", dir, "--name", "n1", "--hosts", "127.0.0.1"}, code: 1, stderr: "n1.crt"},
		{args: []string{"certs", "node", "--dir", dir, "--name", "n2"}, code: 2, stderr: "--hosts"},
		{args: []string{"certs", "client", "--dir", dir, "--name", "ops", "--admin"}, code: 0},
		{args: []string{"certs", "client", "--dir", dir, "--name", "../x"}, code: 2, stderr: "plain file name"},
	} {
		var out, errb bytes.Buffer
		code := Main(Env{Args: tc.args, Stdout: &out, Stderr: &errb})
		if code != tc.code || !strings.Contains(errb.String(), tc.stderr) || strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
			t.Errorf("%q: exit %d (want %d), stderr %q (want %q)", tc.args, code, tc.code, errb.String(), tc.stderr)
		}
	}
}
