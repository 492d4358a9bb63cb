package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/understore"
)

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(Env{Args: args, Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

// TestKeyringCommands rotates a real 2-node cluster's gossip key with the
// CLI, and checks the failure of removing the primary key: exit 1, one
// line on stderr, each member's answer on stdout.
func TestKeyringCommands(t *testing.T) {
	dir := t.TempDir()
	under, err := understore.Open(context.Background(), understore.Config{URL: "file://" + dir})
	if err != nil {
		t.Fatal(err)
	}
	defer under.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	k, _ := base64.StdEncoding.DecodeString(oldKey)
	c, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: 2, BaseDir: t.TempDir(), UnderStore: under,
		Template: node.Config{PageSize: 64 << 10, Capacity: 1 << 20, GossipKey: k, GossipKeyring: "keyring.json"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	seeds := strings.Join(c.GRPCAddrs(), ",")
	for _, step := range [][]string{{"install", newKey}, {"use", newKey}, {"remove", oldKey}, {"list"}} {
		args := append([]string{"keyring"}, step...)
		code, out, errOut := run(append(args, "--seeds", seeds)...)
		if code != 0 || !strings.Contains(out, "2/2 members") || errOut != "" {
			t.Fatalf("%v: exit %d\nstdout %s\nstderr %s", step, code, out, errOut)
		}
		t.Logf("%v:\n%s", step, out)
	}
	code, out, errOut := run("keyring", "remove", newKey, "--seeds", seeds)
	if code != 1 || !strings.Contains(out, "0/2 members") || !strings.Contains(errOut, "primary") ||
		strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("remove primary: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	t.Logf("remove primary: %s", errOut)
	if code, _, errOut := run("keyring", "install", "c2hvcnQ=", "--seeds", seeds); code != 2 || !strings.Contains(errOut, "16, 24 or 32") {
		t.Fatalf("short key: exit %d, stderr %s", code, errOut)
	}

	// `ringcache node` with another cluster name: exit 1, one line.
	var errb bytes.Buffer
	nctx, ncancel := context.WithTimeout(ctx, 30*time.Second)
	defer ncancel()
	code = Main(Env{Context: nctx, Stdout: &bytes.Buffer{}, Stderr: &errb, Args: []string{"node",
		"--understore", "file://" + dir, "--data-dir", t.TempDir(), "--page-size", "64KiB", "--capacity", "1MiB",
		"--grpc-addr", "127.0.0.1:0", "--gossip-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--gossip-key", newKey, "--cluster-name", "other", "--join", c.Nodes[0].GossipAddr(), "--log-format", "json"}})
	last := lastLine(errb.String())
	if code != 1 || !strings.Contains(last, "join refused") || !strings.HasPrefix(last, "ringcache node: ") {
		t.Fatalf("refused node: exit %d, last stderr line %q", code, last)
	}
	t.Logf("refused node: %s", last)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
