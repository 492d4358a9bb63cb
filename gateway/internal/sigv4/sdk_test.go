package sigv4

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// oddKey has every character class the path canonicalisation must keep.
const oddKey = "dir with space/ünïcode+plus=eq~tilde*star%pct.txt"

// roundTripFunc lets a test change a request after the SDK signed it.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func sdkClient(g *gateway, ak, sk string, opts ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:           "eu-west-3",
		Credentials:      credentials.NewStaticCredentialsProvider(ak, sk, ""),
		BaseEndpoint:     aws.String(g.URL),
		UsePathStyle:     true,
		RetryMaxAttempts: 1,
	}, opts...)
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSDKClientSignaturesVerify(t *testing.T) {
	g := newGateway(t, nil)
	c := sdkClient(g, testAK, testSK)
	ctx := context.Background()

	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(oddKey), Range: aws.String("bytes=0-4")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	_, _ = io.Copy(io.Discard, out.Body)
	out.Body.Close()
	if s := g.last(t); !strings.Contains(strings.Join(s.cred.SignedHeaders, ";"), "range") {
		t.Errorf("GetObject with Range: signed headers %v lack range", s.cred.SignedHeaders)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String(oddKey)}); err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket"), Prefix: aws.String(oddKey), Delimiter: aws.String("/"), StartAfter: aws.String("a b+c")}); err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	g.requireAllValid(t)
	s := g.last(t)
	if s.cred.AccessKey != testAK || s.cred.Region != "eu-west-3" || s.cred.Service != "s3" || len(s.cred.Signature) != 64 || s.cred.PayloadHash == "" {
		t.Errorf("credential %+v", s.cred)
	}
}

func TestSDKPresignedURLs(t *testing.T) {
	var now func() time.Time // set per case below; nil means the real clock
	g := newGateway(t, func() time.Time {
		if now != nil {
			return now()
		}
		return time.Now()
	})
	pc := s3.NewPresignClient(sdkClient(g, testAK, testSK))
	ctx := context.Background()
	signedAt := time.Now()
	get := func(t *testing.T, in *s3.GetObjectInput) (*http.Response, string) {
		t.Helper()
		p, err := pc.PresignGetObject(ctx, in, s3.WithPresignExpires(10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(p.Method, p.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range p.SignedHeader {
			if !strings.EqualFold(k, "host") {
				req.Header[k] = vs
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	t.Run("plain", func(t *testing.T) {
		resp, body := get(t, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(oddKey)})
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if c := g.last(t).cred; c.PayloadHash != unsignedPayload {
			t.Errorf("payload hash %q", c.PayloadHash)
		}
	})
	t.Run("response-content-type", func(t *testing.T) {
		resp, body := get(t, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(oddKey), ResponseContentType: aws.String("text/plain; charset=utf-8"), ResponseContentDisposition: aws.String(`attachment; filename="a b.txt"`)})
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if !strings.Contains(g.last(t).uri, "response-content-type=") {
			t.Errorf("URL %s lacks the override", g.last(t).uri)
		}
	})
	t.Run("expired", func(t *testing.T) {
		now = func() time.Time { return signedAt.Add(11 * time.Minute) }
		defer func() { now = nil }()
		resp, body := get(t, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k")})
		if resp.StatusCode != 403 || !strings.Contains(body, "AccessDenied") || !errors.Is(g.last(t).err, ErrExpired) {
			t.Fatalf("status %d, %v: %s", resp.StatusCode, g.last(t).err, body)
		}
	})
	t.Run("future", func(t *testing.T) {
		now = func() time.Time { return signedAt.Add(-time.Hour) }
		defer func() { now = nil }()
		resp, _ := get(t, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k")})
		if resp.StatusCode != 403 || !errors.Is(g.last(t).err, ErrRequestTimeTooSkewed) {
			t.Fatalf("status %d, %v", resp.StatusCode, g.last(t).err)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		p, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), ResponseContentType: aws.String("text/plain")})
		if err != nil {
			t.Fatal(err)
		}
		for name, change := range map[string]func(u *url.URL){
			"path":  func(u *url.URL) { u.Path = "/bucket/other" },
			"query": func(u *url.URL) { u.RawQuery = strings.Replace(u.RawQuery, "text%2Fplain", "text%2Fhtml", 1) },
			"added": func(u *url.URL) { u.RawQuery += "&versionId=1" },
		} {
			u, _ := url.Parse(p.URL)
			change(u)
			resp, err := http.Get(u.String())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 403 || !errors.Is(g.last(t).err, ErrSignatureDoesNotMatch) {
				t.Errorf("%s: status %d, %v", name, resp.StatusCode, g.last(t).err)
			}
		}
	})
}

func TestSDKRefusals(t *testing.T) {
	ctx := context.Background()
	get := func(c *s3.Client) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Range: aws.String("bytes=0-1")})
		if err == nil {
			out.Body.Close()
		}
		return err
	}
	tamper := func(f func(r *http.Request)) func(*s3.Options) {
		return func(o *s3.Options) {
			o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				f(r)
				return http.DefaultTransport.RoundTrip(r)
			})}
		}
	}
	cases := []struct {
		name     string
		ak, sk   string
		skew     time.Duration
		opt      func(*s3.Options)
		code     string
		sentinel error
	}{
		{"wrong secret", testAK, "wrong", 0, nil, "SignatureDoesNotMatch", ErrSignatureDoesNotMatch},
		{"unknown key", "NOSUCHKEY", testSK, 0, nil, "InvalidAccessKeyId", ErrInvalidAccessKeyID},
		{"skewed clock", testAK, testSK, 20 * time.Minute, nil, "RequestTimeTooSkewed", ErrRequestTimeTooSkewed},
		{"tampered header", testAK, testSK, 0, tamper(func(r *http.Request) { r.Header.Set("Range", "bytes=0-100") }), "SignatureDoesNotMatch", ErrSignatureDoesNotMatch},
		{"tampered path", testAK, testSK, 0, tamper(func(r *http.Request) { r.URL.Path, r.URL.RawPath = "/bucket/j", "" }), "SignatureDoesNotMatch", ErrSignatureDoesNotMatch},
		{"tampered query", testAK, testSK, 0, tamper(func(r *http.Request) { r.URL.RawQuery = "versionId=2" }), "SignatureDoesNotMatch", ErrSignatureDoesNotMatch},
		{"unsigned x-amz header", testAK, testSK, 0, tamper(func(r *http.Request) { r.Header.Set("X-Amz-Copy-Source", "other/obj") }), "AccessDenied", ErrHeadersNotSigned},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, func() time.Time { return time.Now().Add(tc.skew) })
			var opts []func(*s3.Options)
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			err := get(sdkClient(g, tc.ak, tc.sk, opts...))
			if got := apiCode(err); got != tc.code {
				t.Errorf("client error %v: code %q, want %q", err, got, tc.code)
			}
			if !errors.Is(g.last(t).err, tc.sentinel) {
				t.Errorf("Verify: %v, want %v", g.last(t).err, tc.sentinel)
			}
		})
	}
	t.Run("anonymous", func(t *testing.T) {
		g := newGateway(t, nil)
		resp, err := http.Get(g.URL + "/bucket/k")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 || !errors.Is(g.last(t).err, ErrMissingAuth) {
			t.Fatalf("status %d, %v", resp.StatusCode, g.last(t).err)
		}
	})
}
