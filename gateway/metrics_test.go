package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// scrape returns node i's /metrics as series (name{labels} as written,
// labels sorted by the exposition) to value.
func scrape(t *testing.T, c *cluster, i int) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	c.lc.Nodes[i].Metrics().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	series := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		series[line[:i]] = v
	}
	return series
}

// TestMetrics: the gateway's series on the node's /metrics count the
// requests, their durations and the bytes sent.
func TestMetrics(t *testing.T) {
	c := localCluster(t, 1, "sigv4")
	data := randomBytes(80, 300<<10)
	c.put(t, "lake/m.bin", data)
	cl := sdk(c.endpoint(0), testAccess, testSecret)
	ctx := context.Background()
	start := time.Now()
	const gets = 5
	for range gets {
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("m.bin")})
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "GET", readAll(t, out.Body), data)
	}
	if _, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("nope")}); apiCode(err) != "NoSuchKey" {
		t.Fatalf("missing key: %v", err)
	}
	out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("m.bin"), Range: aws.String("bytes=0-99")})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, out.Body)
	if _, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("m.bin")}); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start).Seconds()

	m := scrape(t, c, 0)
	want := map[string]float64{
		`ringcache_s3_requests_total{code="200",op="GetObject"}`:      gets,
		`ringcache_s3_requests_total{code="404",op="GetObject"}`:      1,
		`ringcache_s3_requests_total{code="206",op="GetObject"}`:      1,
		`ringcache_s3_requests_total{code="200",op="HeadObject"}`:     1,
		`ringcache_s3_request_duration_seconds_count{op="GetObject"}`: gets + 2,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if sum := m[`ringcache_s3_request_duration_seconds_sum{op="GetObject"}`]; sum <= 0 || sum > elapsed {
		t.Errorf("GetObject durations sum to %vs, want within (0, %v]", sum, elapsed)
	}
	if inf := m[`ringcache_s3_request_duration_seconds_bucket{op="GetObject",le="+Inf"}`]; inf != gets+2 {
		t.Errorf("GetObject histogram +Inf bucket %v", inf)
	}
	// Bytes out: the object bodies, plus the NoSuchKey document (a few
	// hundred bytes of XML).
	body := float64(gets*len(data) + 100)
	if out := m[`ringcache_s3_bytes_total{direction="out"}`]; out < body+100 || out > body+1024 {
		t.Errorf(`ringcache_s3_bytes_total{direction="out"} = %v, want %v and an error document`, out, body)
	}
	if in := m[`ringcache_s3_bytes_total{direction="in"}`]; in != 0 {
		t.Errorf(`bytes in = %v after reads only`, in)
	}
	if t.Failed() {
		for k, v := range m {
			if strings.HasPrefix(k, "ringcache_s3_") {
				t.Log(fmt.Sprint(k, " ", v))
			}
		}
	}
}
