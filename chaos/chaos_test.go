//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/storage"
	"github.com/ringcache/ringcache/understore/s3test"
)

// Sizes of the run. Seeded files: hot ones are warmed and read all the
// time; cold ones only in the under-store scenario, invalidated first so
// that every read there goes through toxiproxy.
const (
	hotFiles    = 300
	coldFiles   = 60
	maxFileSize = 1 << 20
	workers     = 6
	coldWorkers = 3
	// measureWindow is how long the load runs before and after each fault
	// to measure the hit ratio around it.
	measureWindow = 3 * time.Second
	// partitionHold is how long a cut-off node stays cut off after the
	// others dropped it.
	partitionHold = 35 * time.Second
	// convergeTimeout bounds every wait for the ring (failure detection is
	// ~5s with memberlist's LAN defaults; a restart adds journal replay).
	convergeTimeout = 90 * time.Second
)

type result struct {
	name                  string
	attempts, failed      int64
	wrong                 int64
	p99                   time.Duration
	before, during, after float64
	converge              time.Duration // -1: the ring did not change
	note                  string
}

func (r result) String() string {
	conv := "-"
	if r.converge >= 0 {
		conv = fmt.Sprintf("%.1fs", r.converge.Seconds())
	}
	ratio := func(v float64) string {
		if v < 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%-20s reads=%-6d failed=%-4d wrong_bytes=%d p99=%-7s hit_ratio(before/during/after)=%s/%s/%s converged=%s %s",
		r.name, r.attempts, r.failed, r.wrong, r.p99.Round(time.Millisecond), ratio(r.before), ratio(r.during), ratio(r.after), conv, r.note)
}

type suite struct {
	t       *testing.T
	ctx     context.Context
	c       *compose
	rng     *rand.Rand
	nodes   []node
	cl      *client.Client
	load    *load
	tp      toxiproxy
	results []result
}

func TestChaos(t *testing.T) {
	seed := testseed.New(t)
	ctx := context.Background()
	s := &suite{t: t, ctx: ctx, c: newCompose(t), rng: rand.New(rand.NewPCG(seed, 5)),
		tp: toxiproxy{base: fmt.Sprintf("http://%s:%d", serviceIP(3), toxicPort)}}

	httpc = &http.Client{Timeout: time.Second, Transport: httpsTransport(t, "")}

	// A leftover cluster of an interrupted run would hold the addresses.
	if out, err := s.c.run(ctx, "down", "-v", "--remove-orphans"); err != nil {
		t.Fatalf("compose down before the run: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if t.Failed() {
			out, _ := s.c.run(dctx, "logs", "--no-color", "--tail", "60")
			t.Logf("compose logs (tail):\n%s", out)
		}
		if out, err := s.c.run(dctx, "down", "-v", "--remove-orphans"); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	start := time.Now()
	if out, err := s.c.run(ctx, "up", "-d", "versitygw", "toxiproxy", "node1", "node2", "node3", "prometheus"); err != nil {
		t.Fatalf("compose up: %v\n%s", err, out)
	}
	s.nodes = []node{nodeN(1), nodeN(2), nodeN(3)}
	poll(t, "nodes ready", convergeTimeout, func() bool {
		for _, n := range s.nodes {
			if !ready(n) {
				return false
			}
		}
		return true
	})
	t.Logf("cluster up in %v", time.Since(start).Round(time.Millisecond))

	files, hot, cold := s.seedLake(t)
	var err error
	s.cl, err = client.New(ctx, client.Config{
		Seeds: []string{s.nodes[0].grpc(), s.nodes[1].grpc(), s.nodes[2].grpc()},
		// mTLS with an admin certificate: the suite warms the cache (Load).
		TLSFiles: certFiles("admin"),
		// Short enough that a paused or cut-off node costs a read 1.5s
		// before the next owner is tried.
		AttemptTimeout:  1500 * time.Millisecond,
		CallTimeout:     10 * time.Second,
		RefreshInterval: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.cl.Close()
	s.waitConverged(t, "initial ring")
	wstart := time.Now()
	if err := s.cl.Load(ctx, "lake/chaos/hot/", false, nil); err != nil {
		t.Fatalf("warm the cache: %v", err)
	}
	t.Logf("warmed %d files in %v", len(hot), time.Since(wstart).Round(time.Millisecond))

	s.load = newLoad(s.cl, files, hot, cold)
	s.load.start(workers, coldWorkers, seed)
	defer s.load.close()

	t.Run("0-refusals", s.refusals)

	scenarios := []struct {
		name string
		run  func(t *testing.T, r *result)
	}{
		{"1-sigkill-restart", s.sigkill},
		{"2-pause", s.pause},
		{"3-partition", s.partition},
		{"4-rolling-restart", s.rolling},
		{"5-understore-faults", s.understore},
		{"6-corrupt-pages", s.corrupt},
		{"7-scale-out", s.scaleOut},
		{"8-node-down-alert", s.nodeDownAlert},
		{"9-gateway-writes", s.gatewayWrites},
	}
	for _, sc := range scenarios {
		ok := t.Run(sc.name, func(t *testing.T) { s.scenario(t, sc.name, sc.run) })
		if !ok && !s.healthy() {
			t.Errorf("cluster did not recover after %s; later scenarios skipped", sc.name)
			break
		}
	}
	// After the load and every fault: the dashboard and the rules against
	// the Prometheus that watched them.
	t.Run("10-promql", s.promqlCheck)
	fmt.Printf("\nchaos summary (seed %d, %d nodes at the end, %v total):\n", seed, len(s.nodes), time.Since(start).Round(time.Second))
	for _, r := range s.results {
		fmt.Println("  " + r.String())
	}
}

// scenario measures a window before the fault, the fault itself (run,
// which returns once the ring has converged again), and a window after it,
// then checks the invariants every scenario shares.
func (s *suite) scenario(t *testing.T, name string, run func(t *testing.T, r *result)) {
	s.waitConverged(t, "ring before "+name)
	r := result{name: name, converge: -1}
	before := s.load.swap()
	time.Sleep(measureWindow) // measuring the steady state on purpose
	during := s.load.swap()
	run(t, &r)
	after := s.load.swap()
	time.Sleep(measureWindow) // measuring the recovered state on purpose
	s.load.swap()             // seals after: its reads are all counted

	for _, w := range []*window{before, during, after} {
		a, f, wb := w.counts()
		r.attempts += a
		r.failed += f
		r.wrong += wb
	}
	r.p99 = during.p99()
	r.before, r.during, r.after = before.hitRatio(), during.hitRatio(), after.hitRatio()
	s.results = append(s.results, r)
	t.Log(r.String())
	mustSucceed := !strings.HasPrefix(name, "5-")
	for i, w := range []*window{before, during, after} {
		w.mu.Lock()
		if w.wrongBytes > 0 {
			t.Errorf("%d reads returned wrong bytes; first: %s", w.wrongReads, w.firstWrong)
		}
		// Under-store faults may fail reads of uncached files while they
		// last; once they are gone (the after window) reads must succeed.
		if w.failed > 0 && (mustSucceed || i == 2) {
			t.Errorf("%d of %d reads failed (%s window); first: %v", w.failed, w.attempts, []string{"before", "during", "after"}[i], w.firstErr)
		}
		w.mu.Unlock()
	}
}

// seedLake creates the bucket and uploads files of seeded random content
// straight to versitygw.
func (s *suite) seedLake(t *testing.T) (files map[string][]byte, hot, cold []string) {
	endpoint := fmt.Sprintf("http://%s:%d", serviceIP(2), s3Port)
	s3c := s3test.Client(endpoint, accessKey, secretKey)
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Minute)
	defer cancel()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	files = map[string][]byte{}
	for i := range hotFiles + coldFiles {
		p := fmt.Sprintf("lake/chaos/hot/f-%03d.bin", i)
		if i >= hotFiles {
			p = fmt.Sprintf("lake/chaos/cold/f-%03d.bin", i-hotFiles)
			cold = append(cold, p)
		} else {
			hot = append(hot, p)
		}
		data := make([]byte, 1+s.rng.IntN(maxFileSize))
		for j := 0; j < len(data); j += 8 {
			v := s.rng.Uint64()
			for k := 0; k < 8 && j+k < len(data); k++ {
				data[j+k] = byte(v >> (8 * k))
			}
		}
		files[p] = data
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(files))
	sem := make(chan struct{}, 8)
	for p, data := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"),
				Key: aws.String(strings.TrimPrefix(p, "lake/")), Body: bytes.NewReader(data)})
			if err != nil {
				errs <- fmt.Errorf("put %s: %w", p, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int
	for _, d := range files {
		total += len(d)
	}
	t.Logf("seeded %d files (%d MiB) in %v", len(files), total>>20, time.Since(start).Round(time.Millisecond))
	return files, hot, cold
}

// converged reports whether every node in want is ready and lists exactly
// want as the ring, all with one ring version, which the client has too.
func (s *suite) converged(want []node) bool {
	ids := make([]string, len(want))
	for i, n := range want {
		ids[i] = n.service
	}
	slices.Sort(ids)
	version := ""
	for _, n := range want {
		v, err := members(n)
		if err != nil || !slices.Equal(v.active(), ids) {
			return false
		}
		if version != "" && v.RingVersion != version {
			return false
		}
		version = v.RingVersion
	}
	return s.cl == nil || fmt.Sprintf("%016x", s.cl.RingVersion()) == version
}

func (s *suite) waitConverged(t *testing.T, what string) time.Duration {
	t.Helper()
	return poll(t, what, convergeTimeout, func() bool { return s.converged(s.nodes) })
}

// healthy reports whether the cluster came back after a failed scenario.
func (s *suite) healthy() bool {
	deadline := time.Now().Add(convergeTimeout)
	for time.Now().Before(deadline) {
		if s.converged(s.nodes) {
			return true
		}
		time.Sleep(200 * time.Millisecond) // polling external processes
	}
	return false
}

func (s *suite) without(victim node) []node {
	var out []node
	for _, n := range s.nodes {
		if n != victim {
			out = append(out, n)
		}
	}
	return out
}

// busiest is the node owning the most hot files.
func (s *suite) busiest() node {
	owned := map[string]int{}
	for _, p := range s.load.hot {
		if o := s.cl.Preferred(p, 1); len(o) > 0 {
			owned[o[0].ID]++
		}
	}
	best := s.nodes[0]
	for _, n := range s.nodes {
		if owned[n.service] > owned[best.service] {
			best = n
		}
	}
	return best
}

func (s *suite) container(t *testing.T, n node) string {
	t.Helper()
	id, err := s.c.containerID(s.ctx, n.service)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (s *suite) docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := docker(s.ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (s *suite) pages(t *testing.T, n node) float64 {
	t.Helper()
	v, err := metric(n, "ringcache_cache_pages")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkWarm fails unless a restarted node kept >= 99% of its pages.
func checkWarm(t *testing.T, n node, before, after float64) {
	if after < 0.99*before {
		t.Errorf("%s came back cold: %v pages before, %v after its restart", n.service, before, after)
	}
}

// 1: SIGKILL the busiest node under load, then start it on the same volume.
func (s *suite) sigkill(t *testing.T, r *result) {
	victim := s.busiest()
	id := s.container(t, victim)
	before := s.pages(t, victim)
	s.docker(t, "kill", "-s", "KILL", id)
	detect := poll(t, "ring drops "+victim.service, convergeTimeout, func() bool { return s.converged(s.without(victim)) })
	s.docker(t, "start", id)
	r.converge = s.waitConverged(t, "ring takes "+victim.service+" back")
	after := s.pages(t, victim)
	checkWarm(t, victim, before, after)
	r.note = fmt.Sprintf("(%s: dropped after %.1fs; pages %.0f -> %.0f)", victim.service, detect.Seconds(), before, after)
}

// 2: docker pause a node until the others drop it, then unpause.
func (s *suite) pause(t *testing.T, r *result) {
	victim := s.nodes[1]
	id := s.container(t, victim)
	s.docker(t, "pause", id)
	detect := poll(t, "ring drops paused "+victim.service, convergeTimeout, func() bool { return s.converged(s.without(victim)) })
	s.docker(t, "unpause", id)
	r.converge = s.waitConverged(t, "ring takes "+victim.service+" back")
	r.note = fmt.Sprintf("(%s paused %.1fs)", victim.service, detect.Seconds())
}

// 3: disconnect a node from the network until the others drop it, then
// reconnect it at its address.
func (s *suite) partition(t *testing.T, r *result) {
	victim := s.nodes[2]
	id := s.container(t, victim)
	network := strings.TrimSpace(s.docker(t, "inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", id))
	if network == "" || strings.ContainsAny(network, " \n") {
		t.Fatalf("%s: network %q", victim.service, network)
	}
	s.docker(t, "network", "disconnect", network, id)
	detect := poll(t, "ring drops cut-off "+victim.service, convergeTimeout, func() bool { return s.converged(s.without(victim)) })
	// The cut lasts on purpose past memberlist's GossipToTheDeadTime (30s
	// on a LAN): after it only the nodes' reconnect loop can heal the split.
	time.Sleep(partitionHold)
	// Back at its address and under its service name (the DNS alias compose
	// gave it, which disconnect dropped: Prometheus scrapes nodes by name).
	s.docker(t, "network", "connect", "--ip", victim.ip, "--alias", victim.service, network, id)
	r.converge = s.waitConverged(t, "ring takes "+victim.service+" back")
	r.note = fmt.Sprintf("(%s cut off %.1fs)", victim.service, (detect + partitionHold).Seconds())
}

// 4: restart every node in turn (SIGTERM: graceful leave), each back in the
// ring and warm before the next.
func (s *suite) rolling(t *testing.T, r *result) {
	var worst time.Duration
	var notes []string
	for _, n := range s.nodes {
		id := s.container(t, n)
		before := s.pages(t, n)
		start := time.Now()
		s.docker(t, "restart", "-t", "20", id)
		s.waitConverged(t, "ring takes "+n.service+" back")
		worst = max(worst, time.Since(start))
		after := s.pages(t, n)
		checkWarm(t, n, before, after)
		notes = append(notes, fmt.Sprintf("%s %.0f->%.0f pages", n.service, before, after))
	}
	r.converge = worst
	r.note = "(slowest restart to converged ring; " + strings.Join(notes, ", ") + ")"
}

// 5: under-store latency of 200ms, then timeouts, then connection resets,
// between the nodes and versitygw, while uncached (cold, just invalidated)
// files are read besides the hot ones. Reads of cold files may fail while
// a fault lasts; the note gives, per phase, cold reads failed/attempted,
// cold pages missed, and the nodes' failed/all under-store requests.
func (s *suite) understore(t *testing.T, r *result) {
	s.load.coldOn.Store(true)
	defer s.load.coldOn.Store(false)
	invalidate := func() {
		if _, err := s.cl.Invalidate(s.ctx, "lake/chaos/cold/"); err != nil {
			t.Logf("invalidate cold files: %v", err)
		}
	}
	usReqs := func() (all, failed float64) {
		for _, n := range s.nodes {
			a, _ := metricSum(n, "ringcache_understore_requests_total")
			f, _ := metricSum(n, "ringcache_understore_requests_total", `!result="ok"`)
			all, failed = all+a, failed+f
		}
		return all, failed
	}
	phases := []struct {
		name, typ string
		attrs     map[string]any
		last      time.Duration
	}{
		{"latency", "latency", map[string]any{"latency": 200, "jitter": 0}, 5 * time.Second},
		{"timeout", "timeout", map[string]any{"timeout": 0}, 4 * time.Second},
		{"reset", "reset_peer", map[string]any{"timeout": 0}, 4 * time.Second},
	}
	var notes []string
	for _, ph := range phases {
		invalidate()
		w := s.load.cur.Load()
		w.resetColdMax()
		a0, f0, m0, _ := w.coldCounts()
		ua0, uf0 := usReqs()
		if err := s.tp.addToxic(ph.name, ph.typ, ph.attrs); err != nil {
			t.Fatal(err)
		}
		time.Sleep(ph.last) // the fault lasts this long on purpose
		if err := s.tp.removeToxic(ph.name); err != nil {
			t.Fatal(err)
		}
		a1, f1, m1, maxLat := w.coldCounts()
		ua1, uf1 := usReqs()
		notes = append(notes, fmt.Sprintf("%s: cold %d/%d failed, %d missed, slowest %v, under-store %.0f/%.0f failed",
			ph.name, f1-f0, a1-a0, m1-m0, maxLat.Round(time.Millisecond), uf1-uf0, ua1-ua0))
	}
	invalidate()
	w := s.load.cur.Load()
	all, failed, _ := w.counts()
	ca, cf, _, _ := w.coldCounts()
	w.mu.Lock()
	if w.firstHotErr != nil {
		t.Logf("first failed read of a hot (cached) file: %v", w.firstHotErr)
	}
	w.mu.Unlock()
	r.note = fmt.Sprintf("(hot %d/%d failed; %s)", failed-cf, all-ca, strings.Join(notes, "; "))
}

// 6: corrupt page data of a node's page files behind its back, pages of
// files it owns. The client must notice (CRC32C per chunk) and re-read with
// verification, and the node must drop the bad page and fetch it again: a
// second pass over those files re-reads nothing.
func (s *suite) corrupt(t *testing.T, r *result) {
	victim := s.busiest()
	id := s.container(t, victim)
	dir := strings.TrimSpace(s.docker(t, "inspect", "-f", `{{range .Mounts}}{{if eq .Destination "/data"}}{{.Source}}{{end}}{{end}}`, id))
	if dir == "" {
		t.Fatalf("%s: no /data mount", victim.service)
	}
	owned := map[string]string{} // file id (hex) -> path
	for p := range s.load.files {
		if o := s.cl.Preferred(p, 1); len(o) > 0 && o[0].ID == victim.service {
			owned[storage.FileIDOf(p).String()] = p
		}
	}
	var pageFiles []string
	err := filepath.WalkDir(filepath.Join(dir, "pages"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pg") {
			if _, ok := owned[strings.SplitN(filepath.Base(p), "_", 2)[0]]; ok {
				pageFiles = append(pageFiles, p)
			}
		}
		return err
	})
	if err != nil || len(pageFiles) == 0 {
		t.Fatalf("page files of %s's files under %s: %d, %v", victim.service, dir, len(pageFiles), err)
	}
	slices.Sort(pageFiles)
	s.rng.Shuffle(len(pageFiles), func(i, j int) { pageFiles[i], pageFiles[j] = pageFiles[j], pageFiles[i] })
	hit := map[string]bool{}
	var corrupted int
	for _, p := range pageFiles {
		if corrupted == 20 {
			break
		}
		if flipTail(t, p) {
			corrupted++
			hit[owned[strings.SplitN(filepath.Base(p), "_", 2)[0]]] = true
		}
	}
	// Two passes over the damaged files, whole, besides the random load.
	w := s.load.enter()
	defer w.active.RUnlock()
	var retried [2]int
	for pass := range 2 {
		for p := range hit {
			if st := s.load.readRange(w, p, 0, len(s.load.files[p])); st.Attempts > 1 {
				retried[pass]++
			}
		}
	}
	if retried[1] > 0 {
		t.Errorf("%d of %d damaged files still needed a verified re-read on the second pass", retried[1], len(hit))
	}
	r.note = fmt.Sprintf("(%s: %d page files of %d files corrupted; re-read with verification: %d files on pass 1, %d on pass 2)",
		victim.service, corrupted, len(hit), retried[0], retried[1])
}

// flipTail inverts the last 32 bytes of a page file: page data, never the
// header (which has its own CRC). Files too short for that are skipped.
func flipTail(t *testing.T, path string) bool {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Logf("corrupt %s: %v", path, err)
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() < 4096 {
		return false
	}
	buf := make([]byte, 32)
	off := fi.Size() - int64(len(buf))
	if _, err := f.ReadAt(buf, off); err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] ^= 0xff
	}
	if _, err := f.WriteAt(buf, off); err != nil {
		t.Fatal(err)
	}
	return true
}

// 7: a fourth node joins under load.
func (s *suite) scaleOut(t *testing.T, r *result) {
	n4 := nodeN(4)
	start := time.Now()
	if out, err := s.c.run(s.ctx, "up", "-d", "--no-deps", n4.service); err != nil {
		t.Fatalf("compose up %s: %v\n%s", n4.service, err, out)
	}
	s.nodes = append(s.nodes, n4)
	s.waitConverged(t, "ring takes "+n4.service)
	r.converge = time.Since(start)
	owned := 0
	for _, p := range s.load.hot {
		if o := s.cl.Preferred(p, 1); len(o) > 0 && o[0].ID == n4.service {
			owned++
		}
	}
	r.note = fmt.Sprintf("(node4 owns %d of %d hot files)", owned, len(s.load.hot))
}
