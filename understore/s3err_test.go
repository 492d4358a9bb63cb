package understore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/understore"
)

// TestS3ErrorMapping answers every request with one canned S3 error and
// checks the sentinel Stat (HEAD: status only, no body) and ReadAt (GET: XML
// error code) report. This server is a stub because real servers cannot be
// made to throttle or fail on demand.
func TestS3ErrorMapping(t *testing.T) {
	for _, c := range []struct {
		status   int
		code     string
		want     error // for GET (code known)
		wantHead error // for HEAD (status only)
	}{
		{404, "NoSuchKey", understore.ErrNotFound, understore.ErrNotFound},
		{404, "NoSuchBucket", understore.ErrNotFound, understore.ErrNotFound},
		{403, "AccessDenied", understore.ErrAccessDenied, understore.ErrAccessDenied},
		{403, "SignatureDoesNotMatch", understore.ErrAccessDenied, understore.ErrAccessDenied},
		{503, "SlowDown", understore.ErrThrottled, understore.ErrUnavailable},
		{429, "TooManyRequests", understore.ErrThrottled, understore.ErrThrottled},
		{500, "InternalError", understore.ErrUnavailable, understore.ErrUnavailable},
		{503, "ServiceUnavailable", understore.ErrUnavailable, understore.ErrUnavailable},
		{412, "PreconditionFailed", understore.ErrChanged, understore.ErrChanged},
	} {
		t.Run(fmt.Sprintf("%d-%s", c.status, c.code), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(c.status)
				fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>canned</Message></Error>`, c.code)
			}))
			defer srv.Close()
			st := openStub(t, srv.URL, nil)
			_, err := st.ReadAt(t.Context(), "b/k", understore.ObjectInfo{ETag: `"e"`}, make([]byte, 10), 0)
			if !errors.Is(err, c.want) {
				t.Errorf("ReadAt: %v, want %v", err, c.want)
			}
			_, err = st.Stat(t.Context(), "b/k")
			if !errors.Is(err, c.wantHead) {
				t.Errorf("Stat: %v, want %v", err, c.wantHead)
			}
		})
	}
}

func openStub(t *testing.T, endpoint string, hc understore.HTTPClient) understore.Store {
	t.Helper()
	st, err := understore.Open(t.Context(), understore.Config{
		URL: "s3://", Endpoint: endpoint, PathStyle: true,
		AccessKey: "a", SecretKey: "s", MaxAttempts: 1, HTTPClient: hc,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestS3Unreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	st := openStub(t, url, nil)
	if _, err := st.Stat(t.Context(), "b/k"); !errors.Is(err, understore.ErrUnavailable) {
		t.Errorf("connection refused: %v, want ErrUnavailable", err)
	}
}

// TestS3Timeout: a server that never answers within the caller's deadline
// is ErrUnavailable, and the error still says it was the deadline.
func TestS3Timeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	st := openStub(t, srv.URL, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := st.Stat(ctx, "b/k")
	if !errors.Is(err, understore.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v, want ErrUnavailable and DeadlineExceeded", err)
	}
}

// countingClient is an injected transport, as the chaos suite uses.
type countingClient struct{ n atomic.Int64 }

func (c *countingClient) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultClient.Do(r)
}

func TestS3HTTPClientAndRetries(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(500) // first attempt fails, the retryer tries again
			return
		}
		w.Header().Set("ETag", `"abc"`)
		w.Header().Set("Content-Length", "7")
		w.Header().Set("Last-Modified", time.Unix(1e9, 0).UTC().Format(http.TimeFormat))
	}))
	defer srv.Close()
	hc := &countingClient{}
	st, err := understore.Open(t.Context(), understore.Config{
		URL: "s3://", Endpoint: srv.URL, PathStyle: true, AccessKey: "a", SecretKey: "s",
		HTTPClient: hc, MaxAttempts: 2, MaxBackoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Stat(t.Context(), "b/k")
	if err != nil || info.Size != 7 || info.ETag != `"abc"` {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
	if hc.n.Load() != 2 {
		t.Errorf("injected client saw %d requests, want 2", hc.n.Load())
	}
}

// TestS3IgnoredRange: a server that ignores Range and sends the whole object
// must not have those bytes taken for the requested range.
func TestS3IgnoredRange(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"e"`)
		w.Header().Set("Content-Length", "4")
		w.Write([]byte("abcd"))
	}))
	defer srv.Close()
	st := openStub(t, srv.URL, nil)
	buf := make([]byte, 8)
	if n, err := st.ReadAt(t.Context(), "b/k", understore.ObjectInfo{ETag: `"e"`}, buf, 2); !errors.Is(err, understore.ErrUnavailable) {
		t.Errorf("ReadAt at 2 = %d, %v; want ErrUnavailable", n, err)
	}
	if n, err := st.ReadAt(t.Context(), "b/k", understore.ObjectInfo{ETag: `"e"`}, buf, 0); n != 4 || err != io.EOF {
		t.Errorf("ReadAt at 0 = %d, %v; want 4, EOF", n, err)
	}
}
