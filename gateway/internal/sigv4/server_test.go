package sigv4

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const (
	testAK = "AKIDRINGCACHE"
	testSK = "s3cr3t/with+odd:chars"
)

// seen is what the test server's Verify said about one request.
type seen struct {
	method, uri string
	cred        Credential
	err         error
}

// gateway is a real HTTP server whose handler is Verify: 200 with a body
// a client can parse, or the S3 error document of Code(err).
type gateway struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newGateway(t *testing.T, now func() time.Time) *gateway {
	t.Helper()
	v, err := New(Config{Keys: map[string]string{testAK: testSK, "OTHER": "other-secret"}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cred, err := v.Verify(r)
		g.mu.Lock()
		g.reqs = append(g.reqs, seen{r.Method, r.RequestURI, cred, err})
		g.mu.Unlock()
		if err != nil {
			code, status := Code(err)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			if r.Method != http.MethodHead {
				_ = xml.NewEncoder(w).Encode(struct {
					XMLName xml.Name `xml:"Error"`
					Code    string
					Message string
				}{Code: code, Message: err.Error()})
			}
			return
		}
		if r.URL.Query().Get("list-type") == "2" {
			w.Header().Set("Content-Type", "application/xml")
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`))
			return
		}
		if r.URL.Query().Has("location") {
			w.Header().Set("Content-Type", "application/xml")
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>`))
			return
		}
		w.Header().Set("Content-Length", "5")
		w.Header().Set("ETag", `"5d41402abc4b2a76b9719d911017c592"`)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte("hello"))
		}
	}))
	t.Cleanup(g.Close)
	return g
}

// all returns the requests seen so far.
func (g *gateway) all() []seen {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]seen(nil), g.reqs...)
}

// last returns the last request seen.
func (g *gateway) last(t *testing.T) seen {
	t.Helper()
	all := g.all()
	if len(all) == 0 {
		t.Fatal("the gateway saw no request")
	}
	return all[len(all)-1]
}

// requireAllValid fails unless every request the gateway saw verified.
func (g *gateway) requireAllValid(t *testing.T) {
	t.Helper()
	all := g.all()
	if len(all) == 0 {
		t.Fatal("the gateway saw no request")
	}
	for _, s := range all {
		if s.err != nil {
			t.Errorf("%s %s: %v", s.method, s.uri, s.err)
		}
	}
}
