package gateway

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// fakeCluster stands in for the node in the handler fuzz target, where a
// real cluster per input would be too slow: one object, lake/obj, served
// the way the read path serves it (header, then the bytes asked for).
// The integration tests (harness_test.go) use real nodes.
type fakeCluster struct{ data []byte }

var fakeMod = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (f *fakeCluster) ServeRead(_ context.Context, req *transport.ReadRequest, w transport.ResponseWriter) error {
	if req.Path != "lake/obj" {
		return transport.Errorf(transport.StatusNotFound, "no %s", req.Path)
	}
	size := int64(len(f.data))
	if req.Offset > size {
		return transport.Errorf(transport.StatusOutOfRange, "offset %d", req.Offset)
	}
	if err := w.WriteHeader(transport.ReadHeader{Size: size, ETag: "etag1", ModTime: fakeMod}); err != nil {
		return err
	}
	end := min(size, req.Offset+req.Length)
	if end == req.Offset {
		return nil
	}
	return w.WriteSegment(req.Offset, f.data[req.Offset:end])
}

func (f *fakeCluster) StatObject(_ context.Context, p string) (transport.StatResponse, error) {
	if p != "lake/obj" {
		return transport.StatResponse{}, transport.Errorf(transport.StatusNotFound, "no %s", p)
	}
	return transport.StatResponse{Path: p, Size: int64(len(f.data)), ETag: "etag1", ModTime: fakeMod}, nil
}

// panicLog fails on the handler's panic log line.
type panicLog struct{ panics atomic.Int64 }

func (p *panicLog) Enabled(context.Context, slog.Level) bool { return true }
func (p *panicLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "s3 handler panic" {
		p.panics.Add(1)
	}
	return nil
}
func (p *panicLog) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *panicLog) WithGroup(string) slog.Handler      { return p }

func fuzzGateway(f testing.TB, auth string) (*Gateway, *panicLog) {
	dir := f.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "lake", "d"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lake", "d", "k"), []byte("x"), 0o644); err != nil {
		f.Fatal(err)
	}
	store, err := understore.Open(context.Background(), understore.Config{URL: "file://" + dir})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	pl := &panicLog{}
	g, err := New(Config{Auth: auth, Keys: map[string]string{"ak": "sk"}, Logger: slog.New(pl)}, &fakeCluster{data: bytes.Repeat([]byte("0123456789"), 100)}, store)
	if err != nil {
		f.Fatal(err)
	}
	return g, pl
}

// FuzzServeHTTP feeds raw HTTP requests (request line, headers: paths,
// queries, Range, If-*, Authorization) to the gateway: none may panic,
// every answer carries a request id, and an error answer is S3 XML.
func FuzzServeHTTP(f *testing.F) {
	seeds := []string{
		"GET /lake/obj HTTP/1.1\r\nHost: h\r\nRange: bytes=0-9\r\n\r\n",
		"GET /lake/obj HTTP/1.1\r\nHost: h\r\nRange: bytes=-5\r\nIf-None-Match: \"etag1\"\r\n\r\n",
		"HEAD /lake/obj HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n",
		"GET /lake?list-type=2&prefix=d/&delimiter=/&max-keys=1001&encoding-type=url HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /lake?marker=a&max-keys=abc HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /lake/%2e%2e/obj HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /lake//obj HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /lake/d/ HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /?location HTTP/1.1\r\nHost: h\r\n\r\n",
		"PUT /lake/obj?acl HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /lake/obj?response-content-type=text/plain&X-Amz-Signature=00 HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /lake/obj HTTP/1.1\r\nHost: h\r\nAuthorization: AWS4-HMAC-SHA256 Credential=ak/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\nX-Amz-Date: 20260101T000000Z\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	open, openLog := fuzzGateway(f, AuthNone)
	signed, signedLog := fuzzGateway(f, AuthSigV4)
	f.Fuzz(func(t *testing.T, raw string, sign bool) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		req.RequestURI = req.URL.RequestURI()
		g, log := open, openLog
		if sign {
			g, log = signed, signedLog
		}
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		if log.panics.Load() != 0 {
			t.Fatalf("handler panicked on %q", raw)
		}
		if rec.Header().Get("x-amz-request-id") == "" {
			t.Fatalf("no request id: %q", raw)
		}
		if rec.Code >= 400 && req.Method != http.MethodHead && !strings.Contains(rec.Body.String(), "<Error>") {
			t.Fatalf("status %d without an S3 error document: %q", rec.Code, raw)
		}
	})
}

// TestFuzzSeedsAnswers pins what the fuzz seeds answer, so the target's
// corpus stays meaningful.
func TestFuzzSeedsAnswers(t *testing.T) {
	g, _ := fuzzGateway(t, AuthNone)
	for raw, want := range map[string]int{
		"GET /lake/obj HTTP/1.1\r\nHost: h\r\nRange: bytes=0-9\r\n\r\n":                                 206,
		"GET /lake/obj HTTP/1.1\r\nHost: h\r\nRange: bytes=2000-\r\n\r\n":                               416,
		"GET /lake/obj HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"etag1\"\r\n\r\n":                         304,
		"GET /lake/obj HTTP/1.1\r\nHost: h\r\nIf-Match: \"nope\"\r\n\r\n":                               412,
		"GET /lake/%2e%2e/obj HTTP/1.1\r\nHost: h\r\n\r\n":                                              400,
		"GET /lake//obj HTTP/1.1\r\nHost: h\r\n\r\n":                                                    400,
		"GET /lake/missing HTTP/1.1\r\nHost: h\r\n\r\n":                                                 404,
		"GET /nobucket/missing HTTP/1.1\r\nHost: h\r\n\r\n":                                             404,
		"PUT /lake/obj HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n":                                501,
		"GET /lake?list-type=2&max-keys=-1 HTTP/1.1\r\nHost: h\r\n\r\n":                                 400,
		"GET /lake/d/ HTTP/1.1\r\nHost: h\r\n\r\n":                                                      200,
		"GET /lake/obj?response-content-type=text/plain HTTP/1.1\r\nHost: h\r\n\r\n":                    200,
		"GET /lake/obj?partNumber=1 HTTP/1.1\r\nHost: h\r\n\r\n":                                        501,
		"HEAD /lake HTTP/1.1\r\nHost: h\r\n\r\n":                                                        200,
		"HEAD /nobucket HTTP/1.1\r\nHost: h\r\n\r\n":                                                    404,
		"GET /lake/obj HTTP/1.1\r\nHost: h\r\nRange: bytes=5-3\r\n\r\n":                                 200,
		"GET /lake/" + strings.Repeat("k", 9000) + " HTTP/1.1\r\nHost: h\r\n\r\n":                       400,
		"GET /lake/obj HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n": 304,
	} {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		req.RequestURI = req.URL.RequestURI()
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%.60q: %d, want %d (%s)", raw, rec.Code, want, rec.Body.String())
		}
	}
}
