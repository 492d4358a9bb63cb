package sigv4

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ringcache/ringcache/internal/testseed"
)

// TestCanonicalSignatureAgreesWithSDK: the fallback canonicalisation gives
// the SDK signer's signature on random requests both can sign, for both
// forms, so using it where the SDK cannot cannot drift from the SDK.
func TestCanonicalSignatureAgreesWithSDK(t *testing.T) {
	rng := testseed.Rand(t)
	v, err := New(Config{Keys: map[string]string{"AK": "SK"}})
	if err != nil {
		t.Fatal(err)
	}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	names := []string{"content-type", "range", "user-agent", "expect", "x-amz-meta-a", "x-amz-meta-b", "content-md5", "x-amzn-trace-id", "if-match", "content-length"}
	values := []string{"a", "  two  spaces  ", "x,y", "ü", "", "100-continue", "bytes=0-9", "1234"}
	params := []string{"prefix", "list-type", "delimiter", "response-content-type", "uploads", "a~b", "x*y"}
	pvalues := []string{"", "a b", "a+b", "ü/é", "~*%", "2", "=&?"}
	for i := 0; i < 500; i++ {
		tm := time.Date(2026, 1, 1+rng.IntN(300), rng.IntN(24), rng.IntN(60), rng.IntN(60), 0, time.UTC)
		in := &signingInput{
			method: pick([]string{"GET", "PUT", "HEAD"}), path: pick([]string{"/", "/b/k", "/b/a%20b/%C3%BC%2A~", "/b//x"}),
			query: url.Values{}, headers: map[string][]string{"host": {pick([]string{"h", "127.0.0.1:7200", "example.com:80"})}},
			scope:       credentialScope{"AK", tm.Format(scopeDate), pick([]string{"us-east-1", "eu-west-3"}), "s3"},
			payloadHash: pick([]string{unsignedPayload, strings.Repeat("e3", 32)}), time: tm, presigned: rng.IntN(2) == 0,
		}
		for range rng.IntN(4) {
			k := pick(params)
			in.query[k] = append(in.query[k], pick(pvalues))
		}
		for range rng.IntN(5) {
			n := pick(names)
			if n == "content-length" {
				in.headers[n] = []string{fmt.Sprint(1 + rng.IntN(1000))}
				continue
			}
			in.headers[n] = append(in.headers[n], pick(values))
		}
		if in.presigned {
			for k, val := range map[string]string{"X-Amz-Algorithm": algorithm, "X-Amz-Credential": "AK/" + in.scope.date + "/" + in.scope.region + "/s3/aws4_request", "X-Amz-Date": tm.Format(amzDateLayout), "X-Amz-Expires": "60"} {
				in.query.Set(k, val)
			}
		} else {
			in.headers["x-amz-date"] = []string{tm.Format(amzDateLayout)}
		}
		for n := range in.headers {
			in.signedHeaders = append(in.signedHeaders, n)
		}
		sort.Strings(in.signedHeaders)
		if in.presigned {
			in.query.Set("X-Amz-SignedHeaders", strings.Join(in.signedHeaders, ";"))
		}
		if !sdkCanSign(in) {
			t.Fatalf("sdkCanSign false for %+v", in)
		}
		sdk, err := v.sdkSignature(in, "SK")
		if err != nil {
			t.Fatal(err)
		}
		if own := canonicalSignature(in, "SK"); own != sdk {
			t.Fatalf("case %d: canonicalSignature %s, SDK %s for %+v", i, own, sdk, in)
		}
	}
}

// TestDateHeaderAndZeroContentLength covers the two forms only the
// fallback signs, through Verify.
func TestDateHeaderAndZeroContentLength(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	v, err := New(Config{Keys: map[string]string{"AK": "SK"}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	r := &http.Request{Method: "PUT", URL: &url.URL{Path: "/b/dir/"}, RequestURI: "/b/dir/", Host: "gw:7200", Header: http.Header{
		"Date": {now.Format(http.TimeFormat)}, "Content-Length": {"0"},
		"X-Amz-Content-Sha256": {strings.Repeat("e3", 32)},
	}}
	in := &signingInput{method: "PUT", path: "/b/dir/", query: url.Values{}, signedHeaders: []string{"content-length", "date", "host", "x-amz-content-sha256"},
		headers: map[string][]string{"content-length": {"0"}, "date": r.Header["Date"], "host": {"gw:7200"}, "x-amz-content-sha256": r.Header["X-Amz-Content-Sha256"]},
		scope:   credentialScope{"AK", "20260304", "r", "s3"}, payloadHash: strings.Repeat("e3", 32), time: now,
	}
	sig := canonicalSignature(in, "SK")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AK/20260304/r/s3/aws4_request, SignedHeaders=content-length;date;host;x-amz-content-sha256, Signature="+sig)
	if _, err := v.Verify(r); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	r.Header.Set("Content-Length", "1")
	if _, err := v.Verify(r); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Fatalf("changed content-length: %v", err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	v, err := New(Config{Keys: map[string]string{"AK": "SK"}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	sig := strings.Repeat("0", 64)
	good := "AWS4-HMAC-SHA256 Credential=AK/20260304/r/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + sig
	cases := []struct {
		name, authz, date, sha, query string
		want                          error
		code                          string
	}{
		{"v2", "AWS AK:abc", "20260304T050607Z", unsignedPayload, "", ErrMalformed, "InvalidRequest"},
		{"too long", good + strings.Repeat(" ", MaxAuthorizationLen), "20260304T050607Z", unsignedPayload, "", ErrMalformed, "AuthorizationHeaderMalformed"},
		{"too many headers", strings.Replace(good, "host;", "host;"+strings.Repeat("a;", MaxSignedHeaders), 1), "20260304T050607Z", unsignedPayload, "", ErrMalformed, "AuthorizationHeaderMalformed"},
		{"no host", strings.Replace(good, "host;", "", 1), "20260304T050607Z", unsignedPayload, "", ErrMalformed, "AuthorizationHeaderMalformed"},
		{"service", strings.Replace(good, "/s3/", "/ec2/", 1), "20260304T050607Z", unsignedPayload, "", ErrMalformed, "AuthorizationHeaderMalformed"},
		{"credential day", good, "20260305T000000Z", unsignedPayload, "", ErrRequestTimeTooSkewed, "RequestTimeTooSkewed"},
		{"credential day near midnight", strings.Replace(good, "20260304", "20260303", 1), "20260304T050607Z", unsignedPayload, "", ErrMalformed, "AuthorizationHeaderMalformed"},
		{"no sha256", good, "20260304T050607Z", "", "", ErrMalformed, "InvalidRequest"},
		{"bad sha256", good, "20260304T050607Z", "xyz", "", ErrMalformed, "InvalidArgument"},
		{"bad date", good, "2026-03-04", unsignedPayload, "", ErrMalformed, "AccessDenied"},
		{"both forms", good, "20260304T050607Z", unsignedPayload, "X-Amz-Signature=" + sig, ErrMalformed, "InvalidArgument"},
		{"expires too long", "", "", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20260304%2Fr%2Fs3%2Faws4_request&X-Amz-Date=20260304T050607Z&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig, ErrMalformed, "AuthorizationQueryParametersError"},
		{"presigned missing part", "", "", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=" + sig, ErrMalformed, "AuthorizationQueryParametersError"},
		{"v2 presigned", "", "", "", "AWSAccessKeyId=AK&Signature=x&Expires=1", ErrMalformed, "InvalidRequest"},
		{"anonymous", "", "", "", "prefix=a", ErrMissingAuth, "AccessDenied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, val := range map[string]string{"Authorization": tc.authz, "X-Amz-Date": tc.date, "X-Amz-Content-Sha256": tc.sha} {
				if val != "" {
					h.Set(k, val)
				}
			}
			r := &http.Request{Method: "GET", URL: &url.URL{Path: "/b/k", RawQuery: tc.query}, RequestURI: "/b/k?" + tc.query, Host: "h", Header: h}
			_, err := v.Verify(r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
			if code, _ := Code(err); code != tc.code {
				t.Fatalf("Code %q, want %q (%v)", code, tc.code, err)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	got, err := ParseKeys("a:b,c:d:e")
	if err != nil || len(got) != 2 || got["a"] != "b" || got["c"] != "d:e" {
		t.Fatalf("ParseKeys: %v %v", got, err)
	}
	for _, bad := range []string{"", "a:b,", "ab", ":b", "a:", "a:b,a:c", "a/b:c"} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		} else if strings.Contains(err.Error(), ":c") && bad == "a:b,a:c" {
			t.Errorf("error shows a secret: %v", err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{}, {Keys: map[string]string{"": "s"}}, {Keys: map[string]string{"a": ""}}, {Keys: map[string]string{"a": "s"}, MaxSkew: -1}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	v, err := New(Config{Keys: map[string]string{"a": "s"}})
	if err != nil || v.cfg.MaxSkew != DefaultMaxSkew || v.cfg.MaxExpires != DefaultMaxExpires || v.cfg.Now == nil {
		t.Fatalf("defaults: %+v %v", v, err)
	}
	if k, ok := v.SigningKey(Credential{AccessKey: "a", Date: "20130524", Region: "us-east-1", Service: "s3"}); !ok || len(k) != 32 {
		t.Fatalf("SigningKey %x %v", k, ok)
	}
	if _, ok := v.SigningKey(Credential{AccessKey: "nope"}); ok {
		t.Fatal("SigningKey of an unknown key")
	}
}

// TestSigningKeyVector is the derived-key example of the AWS SigV4
// documentation ("Examples of how to derive a signing key").
func TestSigningKeyVector(t *testing.T) {
	v, err := New(Config{Keys: map[string]string{"AK": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := v.SigningKey(Credential{AccessKey: "AK", Date: "20120215", Region: "us-east-1", Service: "iam"})
	if got := fmt.Sprintf("%x", k); got != "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d" {
		t.Fatalf("signing key %s", got)
	}
}
