package sigv4

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The parsers take untrusted bytes: none may panic, and what they accept
// must respect the limits.

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("ab", 32))
	f.Add("AWS AK:c2lnbmF0dXJl")
	f.Add("AWS4-HMAC-SHA256 Credential=,SignedHeaders=,Signature=")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			return
		}
		if len(h) > MaxAuthorizationLen || len(a.signedHeaders) > MaxSignedHeaders || len(a.signature) != 64 || a.cred.service != "s3" {
			t.Fatalf("accepted %q as %+v", h, a)
		}
	})
}

func FuzzParseCredential(f *testing.F) {
	f.Add("AK/20260101/us-east-1/s3/aws4_request")
	f.Add("AK/2026011/us-east-1/s3/aws4_request")
	f.Add("//////")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCredential(s, codeHeaderMalformed)
		if err != nil {
			return
		}
		if c.accessKey == "" || c.region == "" || len(c.date) != 8 || c.accessKey+"/"+c.date+"/"+c.region+"/"+c.service+"/"+terminator != s {
			t.Fatalf("accepted %q as %+v", s, c)
		}
	})
}

func FuzzParsePresigned(f *testing.F) {
	f.Add("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=" + strings.Repeat("0", 64))
	f.Add("X-Amz-Expires=99999999999999999999&X-Amz-Algorithm=AWS4-HMAC-SHA256")
	f.Add("AWSAccessKeyId=AK&Signature=x&Expires=1")
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		p, err := parsePresigned(q, DefaultMaxExpires)
		if err == nil && (p.expires <= 0 || p.expires > DefaultMaxExpires || len(p.signedHeaders) > MaxSignedHeaders) {
			t.Fatalf("accepted %q as %+v", raw, p)
		}
		// The whole of Verify on the same query must not panic either.
		v, verr := New(Config{Keys: map[string]string{"AK": "SK"}, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
		if verr != nil {
			t.Fatal(verr)
		}
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/b/k", RawQuery: raw}, Host: "h", Header: http.Header{}, RequestURI: "/b/k?" + raw}
		if _, err := v.Verify(r); err == nil {
			t.Fatalf("Verify accepted a fuzzed query %q", raw)
		}
	})
}
