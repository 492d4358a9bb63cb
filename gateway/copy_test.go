package gateway_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestCopyObjectSDK: CopyObject with a URL-encoded source (with and
// without the leading slash), its result document, and the
// x-amz-copy-source-if-* conditions against the source.
func TestCopyObjectSDK(t *testing.T) {
	e := newWriteEnv(t, "sigv4")
	cl := sdk(e.endpoint, testAccess, testSecret)
	ctx := context.Background()
	data := randomBytes(300, 70000)
	put, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("src dir/a+b.bin"), Body: strings.NewReader(string(data))})
	if err != nil {
		t.Fatal(err)
	}
	if keys := listKeys(t, cl, "dst/"); len(keys) != 0 {
		t.Fatalf("listing before: %v", keys)
	}
	src := "lake/" + url.PathEscape("src dir") + "/" + url.PathEscape("a+b.bin")
	for i, cs := range []string{src, "/" + src} {
		dst := "dst/copy" + string(rune('0'+i))
		out, err := cl.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("lake"), Key: aws.String(dst), CopySource: aws.String(cs)})
		if err != nil {
			t.Fatalf("copy from %q: %v", cs, err)
		}
		r := out.CopyObjectResult
		if r == nil || !strings.HasPrefix(aws.ToString(r.ETag), `"`) || r.LastModified == nil || time.Since(*r.LastModified) > time.Hour {
			t.Errorf("CopyObjectResult %+v", r)
		}
		got, err := e.file(t, "lake/"+dst)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "copy", got, data)
	}
	if keys := listKeys(t, cl, "dst/"); len(keys) != 2 {
		t.Errorf("listing after the copies: %v", keys)
	}

	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for _, c := range []struct {
		what string
		in   s3.CopyObjectInput
		code string
	}{
		{"if-match the ETag", s3.CopyObjectInput{CopySourceIfMatch: put.ETag}, ""},
		{"if-match another", s3.CopyObjectInput{CopySourceIfMatch: aws.String(`"other"`)}, "PreconditionFailed"},
		{"if-none-match the ETag", s3.CopyObjectInput{CopySourceIfNoneMatch: put.ETag}, "PreconditionFailed"},
		{"if-modified-since the future", s3.CopyObjectInput{CopySourceIfModifiedSince: &future}, "PreconditionFailed"},
		{"if-modified-since the past", s3.CopyObjectInput{CopySourceIfModifiedSince: &past}, ""},
		{"if-unmodified-since the past", s3.CopyObjectInput{CopySourceIfUnmodifiedSince: &past}, "PreconditionFailed"},
		{"if-match wins over if-unmodified-since", s3.CopyObjectInput{CopySourceIfMatch: put.ETag, CopySourceIfUnmodifiedSince: &past}, ""},
		{"a missing source", s3.CopyObjectInput{CopySource: aws.String("lake/nope")}, "NoSuchKey"},
		{"a missing source bucket", s3.CopyObjectInput{CopySource: aws.String("nobucket/x")}, "NoSuchBucket"},
		{"a source version", s3.CopyObjectInput{CopySource: aws.String(src + "?versionId=3")}, "NotImplemented"},
		{"a bad directive", s3.CopyObjectInput{MetadataDirective: "MOVE"}, "InvalidArgument"},
		{"a source with ..", s3.CopyObjectInput{CopySource: aws.String("lake/a/../b")}, "InvalidArgument"},
	} {
		in := c.in
		in.Bucket, in.Key = aws.String("lake"), aws.String("dst/cond")
		if in.CopySource == nil {
			in.CopySource = aws.String(src)
		}
		_, err := cl.CopyObject(ctx, &in)
		if code := apiCode(err); (err == nil) != (c.code == "") || (err != nil && code != c.code) {
			t.Errorf("%s: %v, want %q", c.what, err, c.code)
		}
	}

	// Onto itself: S3 refuses it without REPLACE.
	self := &s3.CopyObjectInput{Bucket: aws.String("lake"), Key: aws.String("src dir/a+b.bin"), CopySource: aws.String(src)}
	if _, err := cl.CopyObject(ctx, self); apiCode(err) != "InvalidRequest" {
		t.Errorf("copy onto itself: %v, want InvalidRequest", err)
	}
	self.MetadataDirective = types.MetadataDirectiveReplace
	if _, err := cl.CopyObject(ctx, self); err != nil {
		t.Errorf("copy onto itself with REPLACE: %v", err)
	}
}

// TestUploadPartCopyNotImplemented: UploadPartCopy stays NotImplemented.
func TestUploadPartCopyNotImplemented(t *testing.T) {
	e := newWriteEnv(t, "none")
	req, _ := http.NewRequest(http.MethodPut, e.endpoint+"/lake/k?partNumber=1&uploadId=x", http.NoBody)
	req.Header.Set("x-amz-copy-source", "lake/src")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("UploadPartCopy: %d", resp.StatusCode)
	}
}
