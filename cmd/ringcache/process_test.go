package main_test

// These tests run the real binary: three `ringcache node` processes on
// loopback, killed with SIGKILL and restarted on their data dirs, and the
// CLI's exit codes and messages.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/internal/testseed"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ringcache-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ringcache")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build ringcache:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		// Gossip needs the UDP port too.
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		u.Close()
		return port
	}
	t.Fatal("no free port")
	return 0
}

type proc struct {
	id                 string
	grpc, gossip, http string
	dataDir, lake      string
	cmd                *exec.Cmd
	exited             chan struct{} // closed when cmd has exited
	stderr             *bytes.Buffer
	join               string
	// extra are more flags (TLS); https, when set, polls /readyz over
	// HTTPS with this client.
	extra []string
	https *http.Client
	log   *syncWriter // stderr's writer; logged reads what it holds so far
}

// logged is the node's stderr so far, read under the writer's lock.
func (p *proc) logged() string {
	p.log.mu.Lock()
	defer p.log.mu.Unlock()
	return p.stderr.String()
}

func newProc(t testing.TB, id, lake, join string) *proc {
	p := &proc{id: id, lake: lake, join: join, dataDir: t.TempDir()}
	p.pickPorts(t)
	return p
}

func (p *proc) pickPorts(t testing.TB) {
	p.grpc = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.gossip = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.http = fmt.Sprintf("127.0.0.1:%d", freePort(t))
}

// start runs the node and waits until it is ready. A free port can be taken
// by another process between freePort and the node's bind (tests of other
// packages run alongside): a node that exits because an address is in use
// is started again on new ports.
func (p *proc) start(t testing.TB) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		err := p.startOnce(t)
		if err == nil {
			return
		}
		if attempt < 3 && strings.Contains(p.stderr.String(), "address already in use") {
			t.Logf("%s: a port was taken meanwhile; new ports (%v)", p.id, err)
			p.pickPorts(t)
			continue
		}
		t.Fatalf("%s not ready: %v\n%s", p.id, err, p.stderr)
	}
}

func (p *proc) startOnce(t testing.TB) error {
	args := []string{"node", "--id", p.id, "--data-dir", p.dataDir, "--understore", "file://" + p.lake,
		"--grpc-addr", p.grpc, "--gossip-addr", p.gossip, "--http-addr", p.http,
		"--page-size", "256KiB", "--capacity", "1GiB", "--sync-interval", "1h", "--log-format", "json"}
	if p.join != "" {
		args = append(args, "--join", p.join)
	}
	args = append(args, p.extra...)
	p.cmd = exec.Command(binary, args...)
	p.stderr = &bytes.Buffer{}
	p.log = &syncWriter{w: p.stderr}
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(p.cmd, p.exited)
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(60 * time.Second)
	hc, scheme := http.DefaultClient, "http://"
	if p.https != nil {
		hc, scheme = p.https, "https://"
	}
	for {
		resp, err := hc.Get(scheme + p.http + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-p.exited:
			p.cmd = nil
			return fmt.Errorf("exited before it was ready")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after 60s: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling an external process's readiness
	}
}

func (p *proc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
		p.cmd = nil
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// ringMembers reads /v1/members of a node and returns the ids it lists as
// active or suspect (the ring's members).
func ringMembers(t testing.TB, httpAddr string) []string {
	resp, err := http.Get("http://" + httpAddr + "/v1/members")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out struct {
		Members []struct{ ID, State string } `json:"members"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range out.Members {
		if m.State == "active" || m.State == "suspect" {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

func writeLake(t testing.TB, rng *rand.Rand, lake string, count int) map[string][]byte {
	files := map[string][]byte{}
	for i := range count {
		data := make([]byte, rng.IntN(3<<20))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		p := fmt.Sprintf("lake/kill/f-%03d.bin", i)
		full := filepath.Join(lake, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files[p] = data
	}
	return files
}

func TestSIGKILLOwnerUnderLoadThenRestartWarm(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	rng := rand.New(rand.NewPCG(testseed.New(t), 9))
	lake := t.TempDir()
	files := writeLake(t, rng, lake, 60)
	procs := startCluster(t, "p", lake, 3)
	n0, n1, n2 := procs[0], procs[1], procs[2]

	ctx := context.Background()
	cl, err := client.New(ctx, client.Config{Seeds: []string{n0.grpc, n1.grpc, n2.grpc}, AttemptTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Load(ctx, "lake/kill/", false, nil); err != nil {
		t.Fatal(err)
	}

	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	var reads, failures atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				select {
				case <-stop:
					return
				default:
				}
				p := paths[r.IntN(len(paths))]
				want := files[p]
				off := r.Int64N(int64(len(want)) + 1)
				buf := make([]byte, min(int64(len(want))-off, 300_000))
				n, err := cl.ReadAt(ctx, p, buf, off)
				reads.Add(1)
				if (err != nil && !errors.Is(err, io.EOF)) || !bytes.Equal(buf[:n], want[off:off+int64(n)]) || n != len(buf) {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Errorf("%s@%d: n=%d err=%v", p, off, n, err))
				}
			}
		}()
	}
	// Let the load run, then kill the owner of the most files.
	waitReads(&reads, 200)
	owned := map[string]int{}
	ownerOf := map[string]string{}
	for _, p := range paths {
		ownerOf[p] = cl.Preferred(p, 1)[0].ID
		owned[ownerOf[p]]++
	}
	victim := n0
	for _, p := range procs {
		if owned[p.id] > owned[victim.id] {
			victim = p
		}
	}
	pagesBefore := nodeMetric(t, victim.http, "ringcache_cache_pages")
	t.Logf("killing %s (owner of %d files, %v pages cached)", victim.id, owned[victim.id], pagesBefore)
	victim.kill()
	killedAt := time.Now()
	var survivors []*proc
	for _, p := range procs {
		if p != victim {
			survivors = append(survivors, p)
		}
	}
	waitMembers(t, survivors, 2)
	t.Logf("ring dropped %s after %v", victim.id, time.Since(killedAt).Round(time.Millisecond))
	waitReads(&reads, reads.Load()+200)
	close(stop)
	wg.Wait()
	if f := failures.Load(); f > 0 {
		t.Fatalf("%d of %d reads failed while the owner was killed; first: %v", f, reads.Load(), firstErr.Load())
	}
	t.Logf("%d reads, 0 failures", reads.Load())

	// Restart on the same data dir: its old pages are hits.
	victim.start(t)
	waitMembers(t, procs, 3)
	var st client.ReadStats
	for _, p := range paths {
		if ownerOf[p] != victim.id {
			continue
		}
		buf := make([]byte, len(files[p]))
		waitOwner(t, cl, p, victim.id)
		if _, err := cl.ReadAt(ctx, p, buf, 0, client.WithStats(&st)); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, files[p]) {
			t.Fatalf("%s: wrong bytes after restart", p)
		}
	}
	total := st.PagesHit + st.PagesMissed
	if total == 0 || float64(st.PagesHit) < 0.99*float64(total) {
		t.Fatalf("after SIGKILL and restart, %d of %d pages were hits", st.PagesHit, total)
	}
	t.Logf("after SIGKILL and restart: %d/%d pages hits", st.PagesHit, total)
}

func waitReads(reads *atomic.Int64, n int64) {
	deadline := time.Now().Add(60 * time.Second)
	for reads.Load() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling a counter the readers advance
	}
}

func waitOwner(t testing.TB, cl *client.Client, p, id string) {
	deadline := time.Now().Add(30 * time.Second)
	for cl.Preferred(p, 1)[0].ID != id {
		if time.Now().After(deadline) {
			t.Fatalf("client ring never made %s the owner of %s again", id, p)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitMembers waits until every proc's ring has exactly the procs.
// startCluster starts n nodes named prefix0, prefix1, ... on one lake, the
// first the others join, and returns once each sees all n.
func startCluster(t testing.TB, prefix, lake string, n int) []*proc {
	t.Helper()
	procs := make([]*proc, n)
	for i := range procs {
		join := ""
		if i > 0 {
			join = procs[0].gossip
		}
		procs[i] = newProc(t, prefix+strconv.Itoa(i), lake, join)
		procs[i].start(t)
	}
	waitMembers(t, procs, n)
	return procs
}

func waitMembers(t testing.TB, procs []*proc, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok := true
		for _, p := range procs {
			if got := ringMembers(t, p.http); len(got) != n {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range procs {
				t.Logf("%s sees %v", p.id, ringMembers(t, p.http))
			}
			t.Fatalf("rings did not converge to %d members", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func nodeMetric(t testing.TB, httpAddr, name string) float64 {
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			v, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return v
		}
	}
	return 0
}

// run runs the binary and returns its exit code, stdout and stderr.
func run(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func TestCLIAgainstARealNode(t *testing.T) {
	lake := t.TempDir()
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	if err := os.MkdirAll(filepath.Join(lake, "lake/d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lake, "lake/d/f.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	n := newProc(t, "c0", lake, "")
	n.start(t)
	seeds := "--seeds=" + n.grpc
	out := filepath.Join(t.TempDir(), "out.bin")

	code, _, stderr := run(t, "get", "lake/d/f.bin", "-o", out, seeds, "--offset", "10", "--length", "1000")
	if code != 0 {
		t.Fatalf("get: exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data[10:1010]) {
		t.Fatal("get -o: wrong bytes")
	}
	code, stdout, _ := run(t, "get", "lake/d/f.bin", seeds)
	if code != 0 || stdout != string(data) {
		t.Fatalf("get to stdout: exit %d, %d bytes", code, len(stdout))
	}
	if code, stdout, stderr := run(t, "get", "lake/d/f.bin", "--no-cache", seeds); code != 0 || stdout != string(data) {
		t.Fatalf("get --no-cache: exit %d, %d bytes: %s", code, len(stdout), stderr)
	}
	// Offset equal to the size: 0 bytes, and -o is still created.
	empty := filepath.Join(t.TempDir(), "empty.bin")
	if code, _, stderr := run(t, "get", "lake/d/f.bin", "--offset", strconv.Itoa(len(data)), "-o", empty, seeds); code != 0 {
		t.Fatalf("get at EOF: exit %d: %s", code, stderr)
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Fatalf("get at EOF: -o file: %v", err)
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"get", "lake/d/f.bin", "--offset", strconv.Itoa(len(data) + 1), seeds}, 1, "past the end"},
		{[]string{"get", "lake/d/missing.bin", seeds}, 1, "not found"},
		{[]string{"get", "lake/../d/f.bin", seeds}, 2, ".."},
		{[]string{"get", "lake//f.bin", seeds}, 2, "empty element"},
		{[]string{"get", "lake/d/f.bin", "--offset", "-5", seeds}, 2, "negative"},
		{[]string{"get", "lake/d/f.bin", "--bogus", seeds}, 2, "bogus"},
		{[]string{"get", seeds}, 2, ""},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"get", "lake/d/f.bin", "--seeds", "127.0.0.1:1"}, 1, ""},
	} {
		code, _, stderr := run(t, tc.args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, code, tc.code, stderr)
		}
		if lines := strings.Count(strings.TrimSpace(stderr), "\n"); code != 0 && lines != 0 {
			t.Errorf("%v: stderr has %d lines, want one: %q", tc.args, lines+1, stderr)
		}
		if tc.msg != "" && !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: stderr %q does not mention %q", tc.args, stderr, tc.msg)
		}
	}

	code, stdout, stderr = run(t, "stat", "lake/d/f.bin", seeds)
	if code != 0 || !strings.Contains(stdout, "size:") || !strings.Contains(stdout, "1000000") {
		t.Fatalf("stat: exit %d: %s %s", code, stdout, stderr)
	}
	if code, stdout, stderr = run(t, "load", "lake/d/", "--pin", seeds); code != 0 {
		t.Fatalf("load: exit %d: %s %s", code, stdout, stderr)
	}
	if code, stdout, _ = run(t, "members", seeds); code != 0 || !strings.Contains(stdout, "c0") ||
		!strings.Contains(stdout, "SHADOW-WS") || !strings.Contains(stdout, "shadow cache window 24h") {
		t.Fatalf("members: exit %d: %s", code, stdout)
	}
	if code, stdout, _ = run(t, "affinity", "lake/d/f.bin", seeds); code != 0 || !strings.Contains(stdout, "c0") {
		t.Fatalf("affinity: exit %d: %s", code, stdout)
	}
	if code, _, stderr = run(t, "unpin", "lake/d/", seeds); code != 0 {
		t.Fatalf("unpin: exit %d: %s", code, stderr)
	}
	if code, _, stderr = run(t, "invalidate", "lake/d/f.bin", seeds); code != 0 {
		t.Fatalf("invalidate: exit %d: %s", code, stderr)
	}
	// Env and config file feed flags.
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("seeds: "+n.grpc+"\n"), 0o644)
	if code, _, stderr = run(t, "stat", "lake/d/f.bin", "--config", cfg); code != 0 {
		t.Fatalf("stat --config: exit %d: %s", code, stderr)
	}

	// HTTP: members, affinity, assign, bad input.
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + n.http + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/v1/members"); code != 200 || !strings.Contains(body, `"ring_version"`) {
		t.Fatalf("/v1/members: %d %s", code, body)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, `fetch("v1/status"`) {
		t.Fatalf("/ (status page): %d %.200s", code, body)
	}
	if code, body := get("/v1/status"); code != 200 || !strings.Contains(body, `"shadow_working_set_bytes"`) {
		t.Fatalf("/v1/status: %d %s", code, body)
	}
	if code, body := get("/v1/affinity?path=lake/d/f.bin&n=2"); code != 200 || !strings.Contains(body, `"c0"`) {
		t.Fatalf("/v1/affinity: %d %s", code, body)
	}
	if code, _ := get("/v1/affinity?path=lake/../x"); code != 400 {
		t.Fatalf("/v1/affinity with ..: %d", code)
	}
	post := func(body string) (int, string) {
		resp, err := http.Post("http://"+n.http+"/v1/affinity/assign", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(`{"splits":[{"path":"lake/d/f.bin","offset":0,"length":10}],"max_load":1.25}`); code != 200 || !strings.Contains(body, `"preferred_rank": 0`) {
		t.Fatalf("assign: %d %s", code, body)
	}
	for _, bad := range []string{`{`, `{"splits":[{"path":""}]}`, `{"splits":[{"path":"lake/x"}],"max_load":0.5}`} {
		if code, body := post(bad); code != 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("assign %q: %d %s", bad, code, body)
		}
	}
}

func TestSIGTERMLeavesAndExitsZero(t *testing.T) {
	lake := t.TempDir()
	files := writeLake(t, rand.New(rand.NewPCG(testseed.New(t), 3)), lake, 5)
	two := startCluster(t, "t", lake, 2)
	n0, n1 := two[0], two[1]
	cl, err := client.New(context.Background(), client.Config{Seeds: []string{n0.grpc}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Load(context.Background(), "lake/kill/", false, nil); err != nil {
		t.Fatal(err)
	}
	pages := nodeMetric(t, n1.http, "ringcache_cache_pages")
	// The effective capacity is --capacity unless the disk has less room.
	if capacity, eff := nodeMetric(t, n1.http, "ringcache_cache_capacity_bytes"), nodeMetric(t, n1.http, "ringcache_cache_effective_capacity_bytes"); eff <= 0 || eff > capacity {
		t.Fatalf("effective capacity %v, capacity %v", eff, capacity)
	}
	if err := n1.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-n1.exited
	if st := n1.cmd.ProcessState; st == nil || !st.Success() {
		t.Fatalf("SIGTERM: exit %v\n%s", st, n1.stderr)
	}
	n1.cmd = nil
	// The survivor sees it as left (not dead) and drops it from the ring.
	waitMembers(t, []*proc{n0}, 1)
	resp, err := http.Get("http://" + n0.http + "/v1/members")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"state": "left"`) {
		t.Fatalf("after SIGTERM the node is not listed as left: %s", body)
	}
	// Restarted, it has every page it had.
	n1.start(t)
	if got := nodeMetric(t, n1.http, "ringcache_cache_pages"); got != pages {
		t.Fatalf("pages after a graceful restart: %v, before %v", got, pages)
	}
	for p, want := range files {
		buf := make([]byte, len(want))
		if _, err := cl.ReadAt(context.Background(), p, buf, 0); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, want) {
			t.Fatalf("%s: wrong bytes", p)
		}
	}
}

// TestSIGTERMAllNodesAtOnce stops a whole cluster at the same moment, as a
// deploy, `docker-compose down` or a rollout does: nobody is left to hear the
// last node's leave, and every node must still exit 0 within a few seconds
// (CONTRACT.md: well inside Kubernetes' 30s grace period).
func TestSIGTERMAllNodesAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	// Each node must be gone this long after the signal; without the fix the
	// last one needed ~5.8s and exited 1 ("timeout waiting for leave broadcast").
	const exitBound = 4 * time.Second
	lake := t.TempDir()
	procs := startCluster(t, "a", lake, 3)

	signalled := time.Now()
	for _, p := range procs {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	type exit struct {
		p    *proc
		took time.Duration
	}
	exits := make(chan exit, len(procs))
	for _, p := range procs {
		go func() {
			<-p.exited
			exits <- exit{p, time.Since(signalled)}
		}()
	}
	deadline := time.NewTimer(exitBound)
	defer deadline.Stop()
	for range procs {
		select {
		case e := <-exits:
			t.Logf("%s exited after %v", e.p.id, e.took.Round(time.Millisecond))
		case <-deadline.C:
			for _, p := range procs {
				t.Logf("%s:\n%s", p.id, p.stderr)
			}
			t.Fatalf("a node still runs %v after SIGTERM to every node", exitBound)
		}
	}
	for _, p := range procs {
		if st := p.cmd.ProcessState; !st.Success() {
			t.Errorf("%s: %v after SIGTERM, want exit 0\n%s", p.id, st, p.stderr)
		}
		p.cmd = nil
	}
}
