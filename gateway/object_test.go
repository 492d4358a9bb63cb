package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// TestGetObjectEveryNode: every gateway serves every object byte-exact,
// whole and in ranges across page boundaries, whichever node owns it.
func TestGetObjectEveryNode(t *testing.T) {
	c := localCluster(t, 3, "sigv4")
	data := randomBytes(1, 3*pageSize+12345)
	c.put(t, "lake/t/a.bin", data)
	ctx := context.Background()
	size := int64(len(data))
	ranges := []struct {
		hdr        string
		start, end int64
	}{
		{"bytes=0-99", 0, 100},
		{fmt.Sprintf("bytes=%d-%d", pageSize-10, pageSize+9), pageSize - 10, pageSize + 10},
		{fmt.Sprintf("bytes=%d-", 2*pageSize+7), 2*pageSize + 7, size},
		{"bytes=-1000", size - 1000, size},
		{fmt.Sprintf("bytes=10-%d", size+100), 10, size},
	}
	for i := range c.lc.Nodes {
		cl := sdk(c.endpoint(i), testAccess, testSecret)
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("t/a.bin")})
		if err != nil {
			t.Fatalf("node %d: GetObject: %v", i, err)
		}
		if aws.ToInt64(out.ContentLength) != size || out.ETag == nil || out.LastModified == nil {
			t.Fatalf("node %d: length %d, etag %v, last-modified %v", i, aws.ToInt64(out.ContentLength), out.ETag, out.LastModified)
		}
		mustEqual(t, "whole object", readAll(t, out.Body), data)
		for _, r := range ranges {
			out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("t/a.bin"), Range: aws.String(r.hdr)})
			if err != nil {
				t.Fatalf("node %d: %s: %v", i, r.hdr, err)
			}
			want := fmt.Sprintf("bytes %d-%d/%d", r.start, r.end-1, size)
			if aws.ToString(out.ContentRange) != want {
				t.Fatalf("node %d: %s: Content-Range %q, want %q", i, r.hdr, aws.ToString(out.ContentRange), want)
			}
			mustEqual(t, r.hdr, readAll(t, out.Body), data[r.start:r.end])
		}
	}
}

// TestGetObjectErrors: the S3 errors of reads.
func TestGetObjectErrors(t *testing.T) {
	c := localCluster(t, 1, "sigv4")
	c.put(t, "lake/x", []byte("hello"))
	cl := sdk(c.endpoint(0), testAccess, testSecret)
	ctx := context.Background()
	cases := []struct {
		name, bucket, key, rng, code string
	}{
		{"missing key", "lake", "nope", "", "NoSuchKey"},
		{"missing bucket", "nobucket", "x", "", "NoSuchBucket"},
		{"range past end", "lake", "x", "bytes=5-", "InvalidRange"},
		{"dotdot", "lake", "a/../x", "", "InvalidArgument"},
	}
	for _, tc := range cases {
		_, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tc.bucket), Key: aws.String(tc.key), Range: rangePtr(tc.rng)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
			t.Errorf("%s: err %v, want %s", tc.name, err, tc.code)
		}
	}
	bad := sdk(c.endpoint(0), testAccess, "wrong")
	_, err := bad.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("x")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
	if n := c.store.requests(); n != 4 { // the one Stat+read of x, missing key, ...
		t.Logf("under-store requests: %d", n)
	}
}

func rangePtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
