//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringcache/ringcache/tlsconf"
)

// project is the compose project name: container, network and volume names
// derive from it.
const project = "rcchaos"

// netPrefix is the first three octets of the compose network (RINGCACHE_NET
// in docker-compose.yml).
func netPrefix() string {
	if v := os.Getenv("RINGCACHE_NET"); v != "" {
		return v
	}
	return "172.29.77"
}

// Ports inside the containers (docker-compose.yml).
const (
	grpcPort  = 7100
	httpPort  = 7180
	s3Port    = 7070 // versitygw, direct (seeding only)
	toxicPort = 8474 // toxiproxy API
)

// Fixed test credentials of docker-compose.yml.
const (
	accessKey = "ringcache-test"
	secretKey = "ringcache-test-secret"
)

// node is one ringcache service of the compose file.
type node struct {
	service string // node1
	ip      string
}

func (n node) grpc() string { return fmt.Sprintf("%s:%d", n.ip, grpcPort) }
func (n node) http() string { return fmt.Sprintf("%s:%d", n.ip, httpPort) }

func nodeN(i int) node {
	return node{service: fmt.Sprintf("node%d", i), ip: fmt.Sprintf("%s.%d", netPrefix(), 10+i)}
}

func serviceIP(last int) string { return fmt.Sprintf("%s.%d", netPrefix(), last) }

// compose runs docker-compose (Debian's 1.29) or the compose plugin,
// whichever this machine has.
type compose struct {
	argv []string
	dir  string // repository root (docker-compose.yml)
}

func newCompose(t testing.TB) *compose {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	c := &compose{dir: root}
	if exec.Command("docker", "compose", "version").Run() == nil {
		c.argv = []string{"docker", "compose"}
	} else if p, err := exec.LookPath("docker-compose"); err == nil {
		c.argv = []string{p}
	} else {
		t.Skip("neither `docker compose` nor docker-compose is installed")
	}
	t.Logf("compose: %s", strings.Join(c.argv, " "))
	return c
}

// run runs one compose command with the scaleout profile enabled, so that
// down and ps also see node4; up always names its services.
func (c *compose) run(ctx context.Context, args ...string) (string, error) {
	argv := append(slices.Clone(c.argv[1:]), "-p", project, "-f", filepath.Join(c.dir, "docker-compose.yml"), "--profile", "scaleout")
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, c.argv[0], argv...)
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %w\n%s", c.argv[0], strings.Join(argv, " "), err, out.String())
	}
	return out.String(), nil
}

// containerID is the id of a service's container.
func (c *compose) containerID(ctx context.Context, service string) (string, error) {
	out, err := c.run(ctx, "ps", "-q", service)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(out)
	if id == "" || strings.Contains(id, "\n") {
		return "", fmt.Errorf("service %s: container id %q", service, id)
	}
	return id, nil
}

// docker runs the docker CLI.
func docker(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// certsDir holds the compose cluster's development CA and certificates
// (`make compose-certs`, mounted at /certs in the containers).
func certsDir() string {
	if v := os.Getenv("RINGCACHE_CERTS"); v != "" {
		return v
	}
	return filepath.Join("..", "bin", "certs")
}

// certFiles are the TLS files of a client certificate of certsDir ("admin"
// may load and invalidate, "chaos" only read); name "" is the CA alone.
func certFiles(name string) tlsconf.Files {
	f := tlsconf.Files{CA: filepath.Join(certsDir(), "ca.crt")}
	if name != "" {
		f.Cert, f.Key = filepath.Join(certsDir(), name+".crt"), filepath.Join(certsDir(), name+".key")
	}
	return f
}

// httpsTransport verifies the nodes' HTTPS certificates against the
// compose CA and presents client certificate name ("" for none).
func httpsTransport(t testing.TB, name string) *http.Transport {
	t.Helper()
	tcfg, err := tlsconf.LoadClient(certFiles(name))
	if err != nil {
		t.Fatalf("compose certificates (make compose-certs): %v", err)
	}
	return &http.Transport{TLSClientConfig: tcfg}
}

// httpc talks HTTPS to the nodes' HTTP ports; a paused node must not stall
// a poll. TestChaos sets it before any node is asked anything.
var httpc *http.Client

// membersView is a node's GET /v1/members.
type membersView struct {
	RingVersion string `json:"ring_version"`
	Members     []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"members"`
}

// active lists the ids in the ring (active or suspect), sorted.
func (v membersView) active() []string {
	var ids []string
	for _, m := range v.Members {
		if m.State == "active" || m.State == "suspect" {
			ids = append(ids, m.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func members(n node) (membersView, error) {
	var v membersView
	resp, err := httpc.Get("https://" + n.http() + "/v1/members")
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return v, fmt.Errorf("%s /v1/members: %s", n.service, resp.Status)
	}
	return v, json.NewDecoder(resp.Body).Decode(&v)
}

func ready(n node) bool {
	resp, err := httpc.Get("https://" + n.http() + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// metric reads one unlabelled sample of a node's /metrics.
func metric(n node, name string) (float64, error) {
	resp, err := httpc.Get("https://" + n.http() + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			return strconv.ParseFloat(strings.Fields(line)[1], 64)
		}
	}
	return 0, fmt.Errorf("%s: no metric %s", n.service, name)
}

// metricSum sums every sample of a metric on a node whose labels contain
// all of want (`result="ok"`); a "!" prefix excludes instead.
func metricSum(n node, name string, want ...string) (float64, error) {
	resp, err := httpc.Get("https://" + n.http() + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var sum float64
lines:
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		for _, w := range want {
			if neg, ok := strings.CutPrefix(w, "!"); ok == strings.Contains(f[0], neg) {
				continue lines
			}
		}
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

// poll calls cond until it is true or the deadline passes; it returns how
// long that took.
func poll(t testing.TB, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not true after %v", what, timeout)
		}
		time.Sleep(100 * time.Millisecond) // polling external processes
	}
	return time.Since(start)
}

// toxiproxy drives the toxiproxy HTTP API (the "s3" proxy of
// docker/toxiproxy.json, between the nodes and versitygw).
type toxiproxy struct{ base string }

func (tp toxiproxy) do(method, path string, body any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, tp.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("toxiproxy %s %s: %s: %s", method, path, resp.Status, msg)
	}
	return nil
}

// addToxic adds a toxic to the s3 proxy, on the downstream (server to node)
// direction.
func (tp toxiproxy) addToxic(name, typ string, attrs map[string]any) error {
	return tp.do("POST", "/proxies/s3/toxics", map[string]any{
		"name": name, "type": typ, "stream": "downstream", "toxicity": 1.0, "attributes": attrs,
	})
}

func (tp toxiproxy) removeToxic(name string) error {
	return tp.do("DELETE", "/proxies/s3/toxics/"+name, nil)
}
