package gateway_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// listKeys lists the bucket lake (through the gateway's listing cache).
func listKeys(t testing.TB, cl *s3.Client, prefix string) []string {
	t.Helper()
	out, err := cl.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// TestPutObjectSDK: the SDK's default PutObject (a signed SHA-256 and a
// CRC32 header) stores the bytes, answers a quoted ETag and echoes the
// checksum; a read and a listing see the new version at once; the
// metrics count the request and its body.
func TestPutObjectSDK(t *testing.T) {
	e := newWriteEnv(t, "sigv4")
	cl := sdk(e.endpoint, testAccess, testSecret)
	ctx := context.Background()
	if keys := listKeys(t, cl, "p/"); len(keys) != 0 {
		t.Fatalf("listing before: %v", keys)
	}
	// Over plain HTTP the SDK sends no checksum unless asked (trailers
	// need TLS); asked, it sends the header, which is verified and echoed.
	cases := []struct {
		size int
		alg  types.ChecksumAlgorithm
		echo func(*s3.PutObjectOutput) *string
	}{
		{0, "", nil},
		{1, types.ChecksumAlgorithmCrc32, func(o *s3.PutObjectOutput) *string { return o.ChecksumCRC32 }},
		{300 << 10, types.ChecksumAlgorithmCrc32c, func(o *s3.PutObjectOutput) *string { return o.ChecksumCRC32C }},
		{1000, types.ChecksumAlgorithmCrc64nvme, func(o *s3.PutObjectOutput) *string { return o.ChecksumCRC64NVME }},
		{1001, types.ChecksumAlgorithmSha1, func(o *s3.PutObjectOutput) *string { return o.ChecksumSHA1 }},
		{1002, types.ChecksumAlgorithmSha256, func(o *s3.PutObjectOutput) *string { return o.ChecksumSHA256 }},
	}
	total := 0
	for i, c := range cases {
		data := randomBytes(uint64(100+i), c.size)
		total += c.size
		out, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("p/obj.bin"),
			Body: bytes.NewReader(data), ChecksumAlgorithm: c.alg})
		if err != nil {
			t.Fatalf("put %d bytes with %q: %v", c.size, c.alg, err)
		}
		etag := aws.ToString(out.ETag)
		if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
			t.Errorf("ETag %q is not quoted", etag)
		}
		if c.echo != nil && aws.ToString(c.echo(out)) == "" {
			t.Errorf("%s: no x-amz-checksum echoed", c.alg)
		}
		got, err := e.file(t, "lake/p/obj.bin")
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "stored", got, data)
		g, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("p/obj.bin")})
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "GET after PUT", readAll(t, g.Body), data)
		if aws.ToString(g.ETag) != etag {
			t.Errorf("GET ETag %s, PUT answered %s", aws.ToString(g.ETag), etag)
		}
	}
	if keys := listKeys(t, cl, "p/"); len(keys) != 1 || keys[0] != "p/obj.bin" {
		t.Errorf("listing after the put (cached for an hour before it): %v", keys)
	}
	if n := e.metric(t, "ringcache_s3_requests_total", map[string]string{"op": "PutObject", "code": "200"}); n != float64(len(cases)) {
		t.Errorf("PutObject 200 count %v, want %d", n, len(cases))
	}
	if n := e.metric(t, "ringcache_s3_bytes_total", map[string]string{"direction": "in"}); n < float64(total) {
		t.Errorf("bytes in %v, want at least the bodies' %d", n, total)
	}
}

// TestPutObjectContentMD5: a right Content-MD5 stores, a wrong one is
// BadDigest and leaves the object as it was.
func TestPutObjectContentMD5(t *testing.T) {
	e := newWriteEnv(t, "sigv4")
	cl := sdk(e.endpoint, testAccess, testSecret)
	ctx := context.Background()
	data := []byte("hello, md5")
	sum := md5.Sum(data)
	_, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("m"), Body: bytes.NewReader(data),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:]))})
	if err != nil {
		t.Fatal(err)
	}
	wrong := md5.Sum([]byte("other"))
	_, err = cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("m"), Body: strings.NewReader("changed!!!"),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
	if code := apiCode(err); code != "BadDigest" {
		t.Fatalf("wrong Content-MD5: %v, want BadDigest", err)
	}
	got, _ := e.file(t, "lake/m")
	mustEqual(t, "after a refused put", got, data)
}

// TestPutDirectoryMarker: a key ending in "/" reaches the Writer as the
// marker's path (what the under-store makes of it is its own business).
func TestPutDirectoryMarker(t *testing.T) {
	e := newWriteEnv(t, "none")
	req, _ := http.NewRequest(http.MethodPut, e.endpoint+"/lake/dir/", http.NoBody)
	req.ContentLength = 0
	req.Header.Set("Content-Length", "0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.w.mu.Lock()
	puts := append([]string(nil), e.w.puts...)
	e.w.mu.Unlock()
	if len(puts) != 1 || puts[0] != "lake/dir/" {
		t.Errorf("Writer got %v (status %d), want [lake/dir/]", puts, resp.StatusCode)
	}
}

// TestObjectChanged: a write announced by another node (ObjectChanged)
// drops the cached listing as a write through this gateway does.
func TestObjectChanged(t *testing.T) {
	e := newWriteEnv(t, "sigv4")
	cl := sdk(e.endpoint, testAccess, testSecret)
	if keys := listKeys(t, cl, ""); len(keys) != 0 {
		t.Fatalf("listing before: %v", keys)
	}
	if _, err := e.st.Put(context.Background(), "lake/a/b", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if keys := listKeys(t, cl, ""); len(keys) != 0 {
		t.Fatalf("a write behind the gateway's back was listed before the cache expired: %v", keys)
	}
	e.g.ObjectChanged("lake/a/b")
	if keys := listKeys(t, cl, ""); len(keys) != 1 {
		t.Fatalf("after ObjectChanged: %v, want [a/b]", keys)
	}
}
