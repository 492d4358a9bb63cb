package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestConditionalRequests: If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since on GET and HEAD, alone and in the pairs whose
// precedence S3 documents (RFC 9110 section 13.2.2), through the owner and
// a node that does not own the object.
func TestConditionalRequests(t *testing.T) {
	c := localCluster(t, 2, "sigv4")
	data := randomBytes(70, pageSize+100)
	c.put(t, "lake/c/x.bin", data)
	owner, other := c.owners(t, "lake/c/x.bin")
	head, err := sdk(c.endpoint(owner), testAccess, testSecret).HeadObject(context.Background(),
		&s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("c/x.bin")})
	if err != nil {
		t.Fatal(err)
	}
	etag, mod := aws.ToString(head.ETag), aws.ToTime(head.LastModified)
	lm := mod.UTC().Format(http.TimeFormat)
	before := mod.Add(-time.Hour).UTC().Format(http.TimeFormat)
	after := mod.Add(time.Hour).UTC().Format(http.TimeFormat)
	bare := strings.Trim(etag, `"`)
	cases := []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"If-Match etag", map[string]string{"If-Match": etag}, 200},
		{"If-Match bare etag", map[string]string{"If-Match": bare}, 200},
		{"If-Match *", map[string]string{"If-Match": "*"}, 200},
		{"If-Match list", map[string]string{"If-Match": `"nope", ` + etag}, 200},
		{"If-Match other", map[string]string{"If-Match": `"nope"`}, 412},
		{"If-None-Match etag", map[string]string{"If-None-Match": etag}, 304},
		{"If-None-Match *", map[string]string{"If-None-Match": "*"}, 304},
		{"If-None-Match other", map[string]string{"If-None-Match": `"nope"`}, 200},
		{"If-Modified-Since Last-Modified", map[string]string{"If-Modified-Since": lm}, 304},
		{"If-Modified-Since later", map[string]string{"If-Modified-Since": after}, 304},
		{"If-Modified-Since earlier", map[string]string{"If-Modified-Since": before}, 200},
		{"If-Modified-Since not a date", map[string]string{"If-Modified-Since": "yesterday"}, 200},
		{"If-Unmodified-Since earlier", map[string]string{"If-Unmodified-Since": before}, 412},
		{"If-Unmodified-Since Last-Modified", map[string]string{"If-Unmodified-Since": lm}, 200},
		{"If-Unmodified-Since later", map[string]string{"If-Unmodified-Since": after}, 200},
		// If-Match true decides over If-Unmodified-Since false: 200.
		{"If-Match true, If-Unmodified-Since false", map[string]string{"If-Match": etag, "If-Unmodified-Since": before}, 200},
		{"If-Match false, If-Unmodified-Since true", map[string]string{"If-Match": `"nope"`, "If-Unmodified-Since": after}, 412},
		// If-None-Match false (it matches) decides over If-Modified-Since true: 304.
		{"If-None-Match false, If-Modified-Since true", map[string]string{"If-None-Match": etag, "If-Modified-Since": before}, 304},
		{"If-None-Match true, If-Modified-Since false", map[string]string{"If-None-Match": `"nope"`, "If-Modified-Since": after}, 200},
		// 412 comes before 304.
		{"If-Match false, If-None-Match false", map[string]string{"If-Match": `"nope"`, "If-None-Match": etag}, 412},
		{"If-Unmodified-Since false, If-Modified-Since false", map[string]string{"If-Unmodified-Since": before, "If-Modified-Since": after}, 412},
		{"If-Match true, If-None-Match true", map[string]string{"If-Match": etag, "If-None-Match": `"nope"`}, 200},
	}
	for _, n := range []int{owner, other} {
		ep := c.endpoint(n) + "/lake/c/x.bin"
		for _, tc := range cases {
			for _, m := range []string{http.MethodGet, http.MethodHead} {
				what := fmt.Sprintf("node %d %s %s", n, m, tc.name)
				resp, body := do(t, signedRequestAt(t, m, ep, tc.hdr, time.Now()))
				switch tc.status {
				case 200:
					if resp.StatusCode != 200 {
						t.Errorf("%s: %d %s", what, resp.StatusCode, body)
					} else if m == http.MethodGet {
						mustEqual(t, what, body, data)
					}
				case 304:
					if resp.StatusCode != 304 || len(body) != 0 || resp.Header.Get("ETag") != etag || resp.Header.Get("Last-Modified") != lm {
						t.Errorf("%s: %d, ETag %q, Last-Modified %q, %d body bytes", what, resp.StatusCode,
							resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"), len(body))
					}
					if !requestIDPattern.MatchString(resp.Header.Get("x-amz-request-id")) {
						t.Errorf("%s: no request id", what)
					}
				case 412:
					checkError(t, what, resp, body, 412, "PreconditionFailed")
				}
			}
		}
		// A condition with a range: 206 of the pinned version.
		hdr := map[string]string{"If-Match": etag, "Range": fmt.Sprintf("bytes=%d-%d", pageSize-5, pageSize+5)}
		resp, body := do(t, signedRequestAt(t, http.MethodGet, ep, hdr, time.Now()))
		if resp.StatusCode != 206 {
			t.Fatalf("If-Match with Range: %d", resp.StatusCode)
		}
		mustEqual(t, "If-Match with Range", body, data[pageSize-5:pageSize+6])
		hdr = map[string]string{"If-None-Match": `"nope"`, "Range": "bytes=-10"}
		resp, body = do(t, signedRequestAt(t, http.MethodGet, ep, hdr, time.Now()))
		if resp.StatusCode != 206 {
			t.Fatalf("If-None-Match with suffix Range: %d", resp.StatusCode)
		}
		mustEqual(t, "If-None-Match with suffix Range", body, data[len(data)-10:])
	}

	t.Run("SDK", func(t *testing.T) {
		cl := sdk(c.endpoint(other), testAccess, testSecret)
		ctx := context.Background()
		if _, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("c/x.bin"), IfMatch: aws.String(`"nope"`)}); apiCode(err) != "PreconditionFailed" {
			t.Errorf("SDK If-Match other: %v", err)
		}
		if _, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("c/x.bin"), IfNoneMatch: aws.String(etag)}); !strings.Contains(fmt.Sprint(err), "304") {
			t.Errorf("SDK If-None-Match etag: %v, want a 304", err)
		}
		if _, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("c/x.bin"), IfUnmodifiedSince: aws.Time(mod.Add(-time.Hour))}); apiCode(err) != "PreconditionFailed" {
			t.Errorf("SDK If-Unmodified-Since earlier: %v", err)
		}
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("c/x.bin"), IfModifiedSince: aws.Time(mod.Add(-time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "SDK If-Modified-Since earlier", readAll(t, out.Body), data)
	})
}

// TestResponseOverrides: the response-* query parameters set their headers
// on GET and HEAD, signed into the URL as SDKs send them.
func TestResponseOverrides(t *testing.T) {
	c := localCluster(t, 1, "sigv4")
	data := []byte("a,b\n1,2\n")
	c.put(t, "lake/t.csv", data)
	ctx := context.Background()
	cl := sdk(c.endpoint(0), testAccess, testSecret)
	out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("t.csv"),
		ResponseContentType: aws.String("text/csv"), ResponseContentDisposition: aws.String(`attachment; filename="t.csv"`),
		ResponseCacheControl: aws.String("no-store"), ResponseContentLanguage: aws.String("en"),
		ResponseExpires: aws.Time(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "GET with overrides", readAll(t, out.Body), data)
	if aws.ToString(out.ContentType) != "text/csv" || aws.ToString(out.ContentDisposition) != `attachment; filename="t.csv"` ||
		aws.ToString(out.CacheControl) != "no-store" || aws.ToString(out.ContentLanguage) != "en" {
		t.Errorf("overrides: type %q disposition %q cache %q language %q", aws.ToString(out.ContentType), aws.ToString(out.ContentDisposition),
			aws.ToString(out.CacheControl), aws.ToString(out.ContentLanguage))
	}
	if !strings.HasPrefix(aws.ToString(out.ExpiresString), "Wed, 02 Jan 2030 03:04:05") {
		t.Errorf("response-expires: %q", aws.ToString(out.ExpiresString))
	}
	// Without overrides: S3's default type.
	out, err = cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("t.csv")})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, out.Body)
	if aws.ToString(out.ContentType) != "binary/octet-stream" {
		t.Errorf("default content type %q", aws.ToString(out.ContentType))
	}
	// HEAD and a raw request with response-content-encoding.
	q := url.Values{"response-content-type": {"application/x-parquet"}, "response-content-encoding": {"identity"}}
	for _, m := range []string{http.MethodHead, http.MethodGet} {
		resp, _ := do(t, signedRequest(t, m, c.endpoint(0)+"/lake/t.csv?"+strings.ReplaceAll(q.Encode(), "+", "%20"), testAccess, testSecret, time.Now()))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-parquet" || resp.Header.Get("Content-Encoding") != "identity" {
			t.Errorf("%s with overrides: %d %q %q", m, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"))
		}
	}
}
