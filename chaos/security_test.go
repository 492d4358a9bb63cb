//go:build chaos

package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringcache/ringcache/client"
)

// wrongGossipKey is a valid AES key that is not the compose cluster's.
const wrongGossipKey = "HrzGyx3YUJtxoctqPly9PsgQm+FktNcg6lg5DL4wWRs="

// refusals checks that the security of the compose file is on, not just
// configured: a node refuses a client without TLS, and one with TLS but no
// client certificate (mTLS), on its data port; its HTTP port speaks only
// HTTPS; and a node with another gossip key cannot join and exits 1.
func (s *suite) refusals(t *testing.T) {
	n := s.nodes[0]
	for _, tc := range []struct {
		what string
		cfg  client.Config
	}{
		{"plaintext client", client.Config{Seeds: []string{n.grpc()}, CallTimeout: 5 * time.Second}},
		{"client without a certificate", client.Config{Seeds: []string{n.grpc()}, CallTimeout: 5 * time.Second, TLSFiles: certFiles("")}},
	} {
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		cl, err := client.New(ctx, tc.cfg)
		if err == nil {
			_, err = cl.Stat(ctx, s.load.hot[0])
			cl.Close()
		}
		cancel()
		if err == nil {
			t.Errorf("%s: %s answered a Stat", tc.what, n.service)
		} else {
			t.Logf("%s refused: %v", tc.what, err)
		}
	}
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + n.http() + "/readyz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plaintext GET /readyz on %s: 200, want HTTPS only", n.service)
		}
	}

	certs, err := filepath.Abs(certsDir())
	if err != nil {
		t.Fatal(err)
	}
	// A node with the wrong gossip key, on a spare address of the compose
	// network, joining the running nodes.
	ctx, cancel := context.WithTimeout(s.ctx, 90*time.Second)
	defer cancel()
	t.Cleanup(func() { _, _ = docker(context.Background(), "rm", "-f", project+"-wrongkey") }) // if it hung
	cmd := exec.CommandContext(ctx, "docker", "run", "--rm", "--name", project+"-wrongkey",
		"--network", project+"_ringnet", "--ip", serviceIP(20),
		"-v", certs+":/certs:ro",
		"-e", "AWS_ACCESS_KEY_ID="+accessKey, "-e", "AWS_SECRET_ACCESS_KEY="+secretKey, "-e", "AWS_REGION=us-east-1",
		imageName(),
		"node", "--id", "wrongkey", "--data-dir", "/tmp/data", "--understore", "s3://lake",
		"--s3-endpoint", fmt.Sprintf("http://%s:8666", serviceIP(3)), "--s3-path-style",
		"--grpc-addr", "0.0.0.0:7100", "--gossip-addr", "0.0.0.0:7946", "--http-addr", "0.0.0.0:7180",
		"--advertise-host", serviceIP(20), "--join", nodeN(1).ip+":7946",
		"--cluster-name", "ringcache-compose", "--gossip-key", wrongGossipKey,
		"--tls-ca", "/certs/ca.crt", "--tls-cert", "/certs/node4.crt", "--tls-key", "/certs/node4.key")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("node with a wrong gossip key: %v, want exit 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "gossip key") {
		t.Errorf("node with a wrong gossip key exited 1 without naming the key:\n%s", out)
	}
	t.Logf("node with a wrong gossip key exited 1: %s", lastLine(string(out)))
	if got := s.converged(s.nodes); !got {
		t.Errorf("the ring changed after the refused join")
	}
}

// imageName is the ringcache image of docker-compose.yml.
func imageName() string {
	if v := os.Getenv("RINGCACHE_IMAGE"); v != "" {
		return v
	}
	return "ringcache/ringcache:local"
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
