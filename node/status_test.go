package node_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/node"
)

// readAll reads every file once, whole, through the client.
func readAll(t *testing.T, cl *client.Client, files map[string][]byte) {
	t.Helper()
	for p, data := range files {
		if len(data) > 0 {
			checkRange(t, cl, p, data, 0, int64(len(data)))
		}
	}
}

// TestShadowCacheThroughTheNode reads a set of files twice: the shadow
// working set is their bytes (each node's share of them, summed), the
// shadow hit ratio one half, on /metrics, in Members and in /v1/status.
func TestShadowCacheThroughTheNode(t *testing.T) {
	rng := testseed.Rand(t)
	under := localStore(t)
	files := putFiles(t, rng, under, "lake/shadow", 20)
	c := startCluster(t, 3, under, node.Config{})
	cl := newClient(t, c, client.Config{})
	readAll(t, cl, files)
	readAll(t, cl, files)

	var total int64
	for _, d := range files {
		total += int64(len(d))
	}
	ws := clusterMetric(t, c, "ringcache_shadow_working_set_bytes", "")
	if math.Abs(ws-float64(total)) > 0.02*float64(total) {
		t.Errorf("shadow working set %.0f bytes over the cluster, want the %d bytes read (within 2%%)", ws, total)
	}
	for _, n := range c.Nodes {
		if hr := metric(t, n, "ringcache_shadow_hit_ratio", ""); hr != 0 && math.Abs(hr-0.5) > 0.01 {
			t.Errorf("%s: shadow hit ratio %.3f, want 0.5 (every page read twice)", n.ID(), hr)
		}
	}

	var st node.StatusJSON
	httpGet(t, "http://"+c.Nodes[0].HTTPAddr()+"/v1/status", &st)
	if len(st.Members) != 3 {
		t.Fatalf("/v1/status lists %d members, want 3: %+v", len(st.Members), st)
	}
	var sum int64
	var share float64
	for _, m := range st.Members {
		if m.Stats == nil {
			t.Fatalf("/v1/status: no stats for %s (%s)", m.ID, m.Error)
		}
		sum += m.Stats.ShadowWorkingSetBytes
		share += m.Share
		if m.Stats.ShadowWindowSeconds != (24 * time.Hour).Seconds() {
			t.Errorf("%s: shadow window %vs, want the default 24h", m.ID, m.Stats.ShadowWindowSeconds)
		}
		if m.Stats.PagesHit+m.Stats.PagesMissed > 0 && m.Stats.CapacityBytes != 1<<30 {
			t.Errorf("%s: capacity %d, want 1 GiB", m.ID, m.Stats.CapacityBytes)
		}
	}
	if float64(sum) != ws {
		t.Errorf("/v1/status working sets sum to %d, /metrics to %.0f", sum, ws)
	}
	if math.Abs(share-1) > 1e-9 {
		t.Errorf("ring shares sum to %v, want 1", share)
	}
	stats := cl.MemberStats(context.Background())
	if len(stats) != 3 {
		t.Fatalf("client MemberStats: %d nodes answered, want 3", len(stats))
	}
}

func TestShadowWindowValidated(t *testing.T) {
	for _, w := range []time.Duration{-time.Hour, time.Second} {
		_, err := node.Start(context.Background(), node.Config{UnderStore: localStore(t), DataDir: t.TempDir(), ShadowWindow: w})
		if err == nil {
			t.Fatalf("shadow window %s: started", w)
		}
	}
}

// chromium finds a headless-capable Chromium, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (apt-get install -y chromium): the status page's browser test needs one")
	return ""
}

// browse loads url in headless Chromium, lets its scripts run for five
// seconds of virtual time (the first poll and two more), and returns the
// DOM; extra flags (a screenshot) ride along.
func browse(t *testing.T, bin, url string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=5000"}, extra...)
	if len(extra) == 0 {
		args = append(args, "--dump-dom")
	}
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return string(out)
}

var memberRow = regexp.MustCompile(`<tr class="member[^"]*" data-id="([^"]+)" data-state="([^"]+)"[^>]*>(.*?)</tr>`)

// pageRow is one member's row of the rendered page.
type pageRow struct {
	state string
	cells map[string]string // td class -> text
}

var cell = regexp.MustCompile(`<td class="([^"]+)">(.*?)</td>`)
var tags = regexp.MustCompile(`<[^>]*>`)

func pageRows(dom string) map[string]pageRow {
	rows := map[string]pageRow{}
	for _, m := range memberRow.FindAllStringSubmatch(dom, -1) {
		r := pageRow{state: m[2], cells: map[string]string{}}
		for _, c := range cell.FindAllStringSubmatch(m[3], -1) {
			r.cells[c[1]] = strings.TrimSpace(tags.ReplaceAllString(c[2], ""))
		}
		rows[m[1]] = r
	}
	return rows
}

// TestStatusPageInBrowser renders GET / in a real headless Chromium: the
// three members with their live numbers, then a node that leaves
// gracefully shows as leaving or left.
func TestStatusPageInBrowser(t *testing.T) {
	bin := chromium(t)
	rng := rand.New(rand.NewPCG(testseed.New(t), 2))
	under := localStore(t)
	files := putFiles(t, rng, under, "lake/page", 12)
	c := startCluster(t, 3, under, node.Config{})
	cl := newClient(t, c, client.Config{})
	readAll(t, cl, files)
	readAll(t, cl, files)
	url := "http://" + c.Nodes[0].HTTPAddr() + "/"

	dom := browse(t, bin, url)
	rows := pageRows(dom)
	for _, n := range c.Nodes {
		r, ok := rows[n.ID()]
		if !ok {
			t.Fatalf("the page shows no row for %s:\n%s", n.ID(), dom)
		}
		if r.state != "active" {
			t.Errorf("%s: state %q on the page, want active", n.ID(), r.state)
		}
		for _, cls := range []string{"hit-ratio num", "shadow-hit num", "shadow-ws num", "share num", "used num"} {
			if v := r.cells[cls]; v == "" || v == "–" {
				t.Errorf("%s: cell %q is %q, want a number", n.ID(), cls, v)
			}
		}
		if !strings.HasSuffix(r.cells["shadow-hit num"], "%") {
			t.Errorf("%s: shadow hit ratio %q", n.ID(), r.cells["shadow-hit num"])
		}
	}
	if !strings.Contains(dom, `id="sum-members">3<`) {
		t.Errorf("the summary does not count 3 members in the ring")
	}
	if shot := os.Getenv("RINGCACHE_STATUS_SCREENSHOT"); shot != "" {
		abs, err := filepath.Abs(shot)
		if err != nil {
			t.Fatal(err)
		}
		browse(t, bin, url, "--screenshot="+abs, "--window-size=1200,800", "--hide-scrollbars")
		t.Logf("screenshot: %s", abs)
	}

	gone := c.Nodes[2]
	if err := gone.Close(context.Background()); err != nil {
		t.Fatalf("close %s: %v", gone.ID(), err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows = pageRows(browse(t, bin, url))
		r, ok := rows[gone.ID()]
		if ok && (r.state == "leaving" || r.state == "left") {
			t.Logf("after its graceful leave the page shows %s as %s", gone.ID(), r.state)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30s after %s left, the page shows it as %+v (present %v)", gone.ID(), r, ok)
		}
	}
	for _, n := range c.Nodes[:2] {
		if rows[n.ID()].state != "active" {
			t.Errorf("%s: %q after %s left, want active", n.ID(), rows[n.ID()].state, gone.ID())
		}
	}
}
