package node_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringcache/ringcache/node"
)

// ringVersionSample is the version label of a node's
// ringcache_ring_version_info sample, and how many such samples it exports.
func ringVersionSample(t *testing.T, n *node.Node) (version string, samples int) {
	t.Helper()
	resp, err := http.Get("http://" + n.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), `ringcache_ring_version_info{version="`)
		if !ok {
			continue
		}
		samples++
		v, val, _ := strings.Cut(rest, `"} `)
		if val != "1" {
			t.Fatalf("ringcache_ring_version_info{version=%q} = %s, want 1", v, val)
		}
		version = v
	}
	return version, samples
}

func membersVersion(t *testing.T, n *node.Node) string {
	t.Helper()
	resp, err := http.Get("http://" + n.HTTPAddr() + "/v1/members")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		RingVersion string `json:"ring_version"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.RingVersion
}

// The ring metrics agree with GET /v1/members on every node of a converged
// cluster: one version sample each, the same version everywhere, and at
// least one ring change (the node's own join).
func TestRingVersionMetric(t *testing.T) {
	c := startCluster(t, 3, localStore(t), node.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	want := membersVersion(t, c.Nodes[0])
	for _, n := range c.Nodes {
		got, samples := ringVersionSample(t, n)
		if samples != 1 || got != want || membersVersion(t, n) != want {
			t.Errorf("%s: ringcache_ring_version_info version %q (%d samples), /v1/members %q, want %q", n.ID(), got, samples, membersVersion(t, n), want)
		}
		if ch := metric(t, n, "ringcache_ring_changes_total", ""); ch < 1 {
			t.Errorf("%s: ringcache_ring_changes_total = %v, want >= 1", n.ID(), ch)
		}
	}
}
