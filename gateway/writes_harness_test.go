package gateway_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// What the write tests share: clients of every gateway (HTTPS when the
// cluster has TLS), a transport that records what a client sent (and can
// corrupt a body in flight), a server-side log of the gateways' requests,
// and the check that a written object is served everywhere.

// sentRequest is one request a client sent, as it left the client.
type sentRequest struct {
	method, path, query string
	header              http.Header
}

// recorder is a client transport that keeps the headers of every request
// and, for the requests corrupt picks, flips one byte of the body at
// offset corruptAt (after the client signed and checksummed it, as a bad
// network or proxy would).
type recorder struct {
	base      http.RoundTripper
	mu        sync.Mutex
	sent      []sentRequest
	corrupt   func(*http.Request) bool
	corruptAt int64
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.sent = append(r.sent, sentRequest{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone()})
	corrupt := r.corrupt != nil && req.Body != nil && r.corrupt(req)
	r.mu.Unlock()
	if corrupt {
		req = req.Clone(req.Context())
		req.Body = &flipBody{ReadCloser: req.Body, at: r.corruptAt}
	}
	return r.base.RoundTrip(req)
}

// setCorrupt changes which requests are corrupted (nil: none).
func (r *recorder) setCorrupt(pick func(*http.Request) bool, at int64) {
	r.mu.Lock()
	r.corrupt, r.corruptAt = pick, at
	r.mu.Unlock()
}

// bodySHA256s lists the x-amz-content-sha256 of the PUTs sent (object
// bodies and parts).
func (r *recorder) bodySHA256s() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, q := range r.sent {
		if q.method == http.MethodPut {
			s = append(s, q.header.Get("X-Amz-Content-Sha256"))
		}
	}
	return s
}

// flipBody inverts the byte at offset at of the body.
type flipBody struct {
	io.ReadCloser
	at, off int64
}

func (f *flipBody) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if f.at >= f.off && f.at < f.off+int64(n) {
		p[f.at-f.off] ^= 0xff
	}
	f.off += int64(n)
	return n, err
}

// transport is a fresh client transport for the cluster's gateways,
// trusting the cluster's CA when it has TLS.
func (c *cluster) transport(t testing.TB) *http.Transport {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.ca != "" {
		pem, err := os.ReadFile(c.ca)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			t.Fatal("no CA certificate in " + c.ca)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return tr
}

// sdkAt is an aws-sdk-go-v2 client of node i's gateway with the default
// settings of config.LoadDefaultConfig (checksums when supported), sending through rec when given; retries
// only with retry (the fault tests want the first answer).
func (c *cluster) sdkAt(t testing.TB, i int, rec *recorder, retry bool) *s3.Client {
	t.Helper()
	var rt http.RoundTripper = c.transport(t)
	if rec != nil {
		rec.base = rt
		rt = rec
	}
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(c.endpoint(i)), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(testAccess, testSecret, ""),
		HTTPClient:  &http.Client{Transport: rt},
		// What config.LoadDefaultConfig resolves when nothing is set
		// (s3.New alone leaves it unset: no checksums at all).
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}, func(o *s3.Options) {
		if !retry {
			o.RetryMaxAttempts = 1
		}
	})
}

// understoreBytes is what every node's metrics say it read from the
// under-store, summed.
func (c *cluster) understoreBytes(t *testing.T) float64 {
	t.Helper()
	var sum float64
	for i := range c.lc.Nodes {
		sum += scrape(t, c, i)[`ringcache_read_bytes_total{source="understore"}`]
	}
	return sum
}

// s3Requests is how many requests of op every gateway has answered.
func (c *cluster) s3Requests(t *testing.T, op string) float64 {
	t.Helper()
	var sum float64
	for i := range c.lc.Nodes {
		for k, v := range scrape(t, c, i) {
			if strings.HasPrefix(k, "ringcache_s3_requests_total{") && strings.Contains(k, `op="`+op+`"`) {
				sum += v
			}
		}
	}
	return sum
}

// checkEverywhere reads key ("lake/"+key) back through every node's
// gateway and straight from the under-store (versitygw, or the file in a
// local one), byte for byte. With fromPages (the
// first reads after a write through the gateway) the reads must cost the
// under-store nothing: the owner serves them from the pages it filled as
// the bytes passed, and every other node from the owner.
func (c *cluster) checkEverywhere(t *testing.T, key string, want []byte, fromPages bool) {
	t.Helper()
	ctx := context.Background()
	before, underBefore := c.store.snapshot(), c.understoreBytes(t)
	owner := -1 // a directory marker has no owner: it is no file of the page store
	if !strings.HasSuffix(key, "/") {
		owner, _ = c.owners(t, "lake/"+key)
	}
	// The owner last, so that a non-owner's read cannot have been served
	// from pages that an earlier read of the owner fetched.
	order := []int{}
	for i := range c.lc.Nodes {
		if i != owner {
			order = append(order, i)
		}
	}
	if owner >= 0 {
		order = append(order, owner)
	}
	for _, i := range order {
		out, err := c.sdkAt(t, i, nil, true).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GET %s through node %d: %v", key, i, err)
		}
		mustEqual(t, "GET "+key+" through node "+string(rune('0'+i)), readAll(t, out.Body), want)
	}
	if fromPages {
		got := c.store.since(before)
		if got.reads != 0 || got.readBytes != 0 || got.stats != 0 {
			t.Errorf("first GETs of %s after its write cost the under-store %d reads of %d bytes and %d stats, want none: %+v",
				key, got.reads, got.readBytes, got.stats, got.calls)
		}
		if d := c.understoreBytes(t) - underBefore; d != 0 {
			t.Errorf("first GETs of %s after its write: nodes' metrics show %v under-store bytes, want 0", key, d)
		}
	}
	if c.raw == nil { // a local directory: the file itself
		if strings.HasSuffix(key, "/") {
			if fi, err := os.Stat(filepath.Join(c.dir, "lake", filepath.FromSlash(key))); err != nil || !fi.IsDir() {
				t.Fatalf("marker %s: no directory in the under-store (%v)", key, err)
			}
			return
		}
		mustEqual(t, key+" in the under-store's directory", readFile(t, filepath.Join(c.dir, "lake", filepath.FromSlash(key))), want)
		return
	}
	out, err := c.raw.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GET %s from versitygw: %v", key, err)
	}
	mustEqual(t, "GET "+key+" from versitygw", readAll(t, out.Body), want)
}

// checkAbsent checks that key is missing through every gateway and in
// versitygw.
func (c *cluster) checkAbsent(t *testing.T, key string) {
	t.Helper()
	ctx := context.Background()
	for i := range c.lc.Nodes {
		_, err := c.sdkAt(t, i, nil, true).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)})
		if code := apiCode(err); code != "NoSuchKey" {
			t.Errorf("GET %s through node %d: %v, want NoSuchKey", key, i, err)
		}
	}
	if c.raw == nil {
		if _, err := os.Stat(filepath.Join(c.dir, "lake", filepath.FromSlash(key))); !os.IsNotExist(err) {
			t.Errorf("the under-store's directory holds %s (%v)", key, err)
		}
		return
	}
	if _, err := c.raw.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)}); err == nil {
		t.Errorf("versitygw holds %s", key)
	}
}

// requestLog records the gateways' "s3 request" debug lines (op, status,
// and the body's x-amz-content-sha256 as signed): the server's side of
// what the clients sent. Install it as node.Config.Logger.
type requestLog struct {
	mu    sync.Mutex
	lines []loggedRequest
}

type loggedRequest struct {
	op, path, contentSHA256 string
	status                  int64
}

func (l *requestLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *requestLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *requestLog) WithGroup(string) slog.Handler            { return l }

func (l *requestLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "s3 request" {
		return nil
	}
	var q loggedRequest
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "op":
			q.op = a.Value.String()
		case "path":
			q.path = a.Value.String()
		case "content_sha256":
			q.contentSHA256 = a.Value.String()
		case "status":
			q.status = a.Value.Int64()
		}
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, q)
	l.mu.Unlock()
	return nil
}

// bodies counts, by x-amz-content-sha256 form, the successful PutObject
// and UploadPart requests of paths under prefix the gateways answered.
func (l *requestLog) bodies(prefix string) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := map[string]int{}
	for _, q := range l.lines {
		if (q.op == "PutObject" || q.op == "UploadPart") && q.status == http.StatusOK && strings.HasPrefix(q.path, prefix) {
			form := q.contentSHA256
			if len(form) == 64 && !strings.Contains(form, "-") {
				form = "hex"
			}
			n[form]++
		}
	}
	return n
}

// ops counts the successful requests per op under prefix.
func (l *requestLog) ops(prefix string) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := map[string]int{}
	for _, q := range l.lines {
		if q.status/100 == 2 && strings.HasPrefix(q.path, prefix) {
			n[q.op]++
		}
	}
	return n
}
