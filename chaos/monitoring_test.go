//go:build chaos

package chaos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/ringcache/ringcache/internal/monitoring"
	"github.com/ringcache/ringcache/understore/s3test"
)

// alertTimeout bounds the waits for an alert to fire or clear: RingcacheNodeDown
// needs a failed scrape (5s interval), 15s of `for`, and an evaluation (5s).
const alertTimeout = 60 * time.Second

// gatewayPort is the nodes' S3 gateway (RINGCACHE_S3_ADDR in docker-compose.yml).
const gatewayPort = 7200

func (s *suite) prom() prom { return prom{base: fmt.Sprintf("http://%s:%d", serviceIP(9), promPort)} }

// scraped reports whether Prometheus scrapes exactly the nodes of the ring,
// all up; if not, what it sees.
func (s *suite) scraped(p prom) (bool, string) {
	ss, err := p.query(`up{job="ringcache"}`)
	if err != nil {
		return false, err.Error()
	}
	var up, all []string
	for _, x := range ss {
		all = append(all, fmt.Sprintf("%s=%v", x.Metric["instance"], x.float()))
		if x.float() == 1 {
			up = append(up, x.Metric["instance"])
		}
	}
	var want []string
	for _, n := range s.nodes {
		want = append(want, n.instance())
	}
	slices.Sort(up)
	slices.Sort(want)
	return slices.Equal(up, want), fmt.Sprintf("up: %v, want %v up", all, want)
}

// waitScraped waits until Prometheus scrapes every node of the ring.
func (s *suite) waitScraped(t *testing.T, p prom) {
	t.Helper()
	var seen string
	deadline := time.Now().Add(alertTimeout)
	for {
		ok, what := s.scraped(p)
		if ok {
			return
		}
		if seen = what; time.Now().After(deadline) {
			t.Fatalf("prometheus does not scrape every node after %v: %s", alertTimeout, seen)
		}
		time.Sleep(200 * time.Millisecond) // polling an external process
	}
}

// 8: SIGKILL a node: RingcacheNodeDown (deploy/prometheus/rules.yml) fires
// in the compose Prometheus for that node alone while it is down, and
// clears once it is back.
func (s *suite) nodeDownAlert(t *testing.T, r *result) {
	p := s.prom()
	s.waitScraped(t, p)
	state := func(n node) string {
		st, err := p.alertState("RingcacheNodeDown", n.instance())
		if err != nil {
			t.Logf("alerts: %v", err)
			return "?"
		}
		return st
	}
	for _, n := range s.nodes {
		if st := state(n); st != "" {
			t.Fatalf("RingcacheNodeDown is %s for %s before the kill", st, n.instance())
		}
	}
	victim := s.nodes[1]
	id := s.container(t, victim)
	s.docker(t, "kill", "-s", "KILL", id)
	fired := poll(t, "RingcacheNodeDown fires for "+victim.instance(), alertTimeout, func() bool { return state(victim) == "firing" })
	for _, n := range s.without(victim) {
		if st := state(n); st != "" {
			t.Errorf("RingcacheNodeDown is %s for %s, which is up", st, n.instance())
		}
	}
	s.docker(t, "start", id)
	restarted := time.Now()
	r.converge = s.waitConverged(t, "ring takes "+victim.service+" back")
	poll(t, "RingcacheNodeDown clears for "+victim.instance(), alertTimeout, func() bool { return state(victim) == "" })
	r.note = fmt.Sprintf("(%s: RingcacheNodeDown fired %.1fs after the kill, cleared %.1fs after the restart)",
		victim.service, fired.Seconds(), time.Since(restarted).Seconds())
}

// s3Traffic sends S3 gateway requests to every node, signed with the
// compose file's test key: reads of seeded files (whole and ranged), a
// HEAD, a listing, and a miss (404), so that the gateway's metrics have
// series for a few operations and codes.
func (s *suite) s3Traffic(t *testing.T) {
	p := s.load.hot[0]
	key := strings.TrimPrefix(p, "lake/")
	for _, n := range s.nodes {
		c := gatewayClient(t, n)
		for range 3 {
			out, err := c.GetObject(s.ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("%s gateway: GetObject %s: %v", n.service, p, err)
			}
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(got, s.load.files[p]) {
				t.Fatalf("%s gateway: GetObject %s: %d bytes, err %v: not the seeded bytes", n.service, p, len(got), err)
			}
			out, err = c.GetObject(s.ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(key), Range: aws.String("bytes=0-0")})
			if err != nil {
				t.Fatalf("%s gateway: ranged GetObject %s: %v", n.service, p, err)
			}
			out.Body.Close()
			if _, err := c.HeadObject(s.ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)}); err != nil {
				t.Fatalf("%s gateway: HeadObject %s: %v", n.service, p, err)
			}
			if _, err := c.ListObjectsV2(s.ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("chaos/hot/"), MaxKeys: aws.Int32(10)}); err != nil {
				t.Fatalf("%s gateway: ListObjectsV2: %v", n.service, err)
			}
			_, err = c.GetObject(s.ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("chaos/no-such-file")})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchKey" {
				t.Fatalf("%s gateway: GetObject of a missing key: %v, want NoSuchKey", n.service, err)
			}
		}
	}
}

// promqlCheck evaluates every PromQL expression of the Grafana dashboard
// (deploy/grafana/ringcache.json) and of the alert rules
// (deploy/prometheus/rules.yml) against the compose Prometheus, after the
// suite's read load and some S3 gateway requests:
//
//   - a dashboard expression must return at least one sample with a number
//     (no panel that can never show anything);
//   - a rule expression is a condition (empty while nothing is wrong), so it
//     must evaluate without error and every metric it names must exist in
//     Prometheus (a misspelt metric is an alert that never fires).
//
// An expression that fails only because a metric of monitoring.Pending is
// not exported yet is reported as pending, by name, and does not fail.
func (s *suite) promqlCheck(t *testing.T) {
	p := s.prom()
	s.waitScraped(t, p)
	// Two rounds of gateway requests, each seen by a scrape of every node:
	// the first creates the gateway's series, the second makes them grow
	// (a rate needs two samples of a series, and the first sample of a new
	// series is not counted as an increase).
	var sent time.Time
	for round := 1; round <= 2; round++ {
		s.s3Traffic(t)
		sent = time.Now()
		poll(t, fmt.Sprintf("prometheus has round %d of the S3 gateway's requests", round), alertTimeout, func() bool {
			ss, err := p.query(fmt.Sprintf(`sum(ringcache_s3_requests_total{op="GetObject",code="404"}) >= %d`, round*3*len(s.nodes)))
			return err == nil && len(ss) == 1
		})
	}
	names, err := p.metricNames()
	if err != nil {
		t.Fatal(err)
	}
	missing := func(expr string) (pending, unknown []string) {
		for _, n := range monitoring.MetricNames(expr) {
			if names[n] {
				continue
			}
			if _, ok := monitoring.Pending[n]; ok {
				pending = append(pending, n)
			} else {
				unknown = append(unknown, n)
			}
		}
		return pending, unknown
	}
	var pendingNotes []string
	notePending := func(where string, ms []string) {
		for _, m := range ms {
			pendingNotes = append(pendingNotes, fmt.Sprintf("%s: %s not exported yet (%s)", where, m, monitoring.Pending[m]))
		}
	}

	d, err := monitoring.LoadDashboard("../deploy/grafana/ringcache.json")
	if err != nil {
		t.Fatal(err)
	}
	var withData int
	for _, q := range d.Queries() {
		expr := monitoring.Instantiate(q.Expr)
		pending, unknown := missing(expr)
		if len(unknown) > 0 {
			t.Errorf("%s: metrics %v exist nowhere in Prometheus: %s", q.Where, unknown, expr)
			continue
		}
		if len(pending) > 0 {
			if ss, err := p.query(expr); err != nil {
				t.Errorf("%s: %v", q.Where, err)
			} else if finite(ss) > 0 {
				t.Errorf("%s: returns data without %v: a pending metric should not be needed", q.Where, pending)
			}
			notePending(q.Where, pending)
			continue
		}
		// Rates need two scrapes after the gateway requests; allow a few.
		var last []sample
		deadline := sent.Add(alertTimeout)
		for {
			ss, err := p.query(expr)
			if err != nil {
				t.Errorf("%s: %v", q.Where, err)
				break
			}
			if last = ss; finite(ss) > 0 {
				withData++
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: no data (%d samples, none a number) from %s", q.Where, len(last), expr)
				break
			}
			time.Sleep(time.Second) // waiting for the next scrapes
		}
	}

	rules, err := monitoring.LoadRules("../deploy/prometheus/rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var active []string
	for _, q := range rules.Queries() {
		pending, unknown := missing(q.Expr)
		if len(unknown) > 0 {
			t.Errorf("%s: metrics %v exist nowhere in Prometheus: %s", q.Where, unknown, q.Expr)
		}
		notePending(q.Where, pending)
		ss, err := p.query(q.Expr)
		if err != nil {
			t.Errorf("%s: %v", q.Where, err)
		} else if len(ss) > 0 {
			active = append(active, fmt.Sprintf("%s (%d series)", q.Where, len(ss)))
		}
	}
	t.Logf("dashboard: %d of %d expressions return data; rules: %d expressions evaluated, condition true now for %v",
		withData, len(d.Queries()), len(rules.Queries()), active)
	for _, n := range pendingNotes {
		t.Logf("PENDING %s", n)
	}
	for m := range monitoring.Pending {
		if names[m] {
			t.Logf("NOTE: %s is exported now: remove it from monitoring.Pending", m)
		}
	}
}

// gatewayClient is an S3 client of a node's gateway: HTTPS verified against
// the compose CA, signed with the compose file's test key.
func gatewayClient(t testing.TB, n node) *s3.Client {
	tr := httpsTransport(t, "")
	return s3.New(s3test.Client(fmt.Sprintf("https://%s:%d", n.ip, gatewayPort), accessKey, secretKey).Options(),
		func(o *s3.Options) { o.HTTPClient = &http.Client{Transport: tr} })
}
