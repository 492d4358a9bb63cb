package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ringcache/ringcache/internal/testseed"
)

// TestEdgeReads: GETs that span the gateway's read pieces (1 MiB in the
// harness), tiny and empty objects, HEAD with a Range, keys that name a
// directory or pass through a file, and presigned URLs made by the SDK's
// presigner.
func TestEdgeReads(t *testing.T) {
	c := localCluster(t, 2, "sigv4")
	data := randomBytes(90, 3<<20+4321)
	c.put(t, "lake/p/multi.bin", data)
	c.put(t, "lake/p/one.bin", []byte{42})
	c.put(t, "lake/p/empty.bin", nil)
	c.put(t, "lake/p/dir/inside.txt", []byte("inside"))
	ctx := context.Background()
	size := int64(len(data))

	for n := range c.lc.Nodes {
		cl := sdk(c.endpoint(n), testAccess, testSecret)
		get := func(key, rng string) ([]byte, *s3.GetObjectOutput, error) {
			out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(key), Range: rangePtr(rng)})
			if err != nil {
				return nil, nil, err
			}
			b, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil {
				t.Fatalf("node %d: GET %s %s: body: %v after %d bytes", n, key, rng, err, len(b))
			}
			return b, out, nil
		}
		b, _, err := get("p/multi.bin", "")
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, fmt.Sprintf("node %d: multi-piece GET", n), b, data)
		// Twice: cold, then from the owner's cached pages, which arrive
		// widened to whole CRC chunks (a piece once ended past its end
		// and the GET was cut short).
		ranges := []rangeCase{
			{"bytes=1048570-3145740", 1048570, 3145741},
			{fmt.Sprintf("bytes=%d-", 1<<20), 1 << 20, size},
			{"bytes=-2500000", size - 2500000, size},
			{fmt.Sprintf("bytes=%d-%d", 2<<20-1, 2<<20), 2<<20 - 1, 2<<20 + 1},
			{fmt.Sprintf("bytes=%d-%d", size-1, size+1000), size - 1, size},
			{"bytes=0-0", 0, 1},
		}
		for _, r := range append(ranges, ranges...) {
			b, out, err := get("p/multi.bin", r.hdr)
			if err != nil {
				t.Fatalf("node %d %s: %v", n, r.hdr, err)
			}
			if want := fmt.Sprintf("bytes %d-%d/%d", r.start, r.end-1, size); aws.ToString(out.ContentRange) != want || aws.ToInt64(out.ContentLength) != r.end-r.start {
				t.Errorf("node %d %s: Content-Range %q length %d", n, r.hdr, aws.ToString(out.ContentRange), aws.ToInt64(out.ContentLength))
			}
			mustEqual(t, r.hdr, b, data[r.start:r.end])
		}
		if b, _, err := get("p/one.bin", "bytes=-5"); err != nil || string(b) != "*" {
			t.Errorf("suffix longer than a 1-byte object: %q, %v", b, err)
		}
		if b, out, err := get("p/empty.bin", ""); err != nil || len(b) != 0 || aws.ToInt64(out.ContentLength) != 0 {
			t.Errorf("empty object: %q, %v", b, err)
		}
		resp, body := do(t, signedRequestAt(t, http.MethodGet, c.endpoint(n)+"/lake/p/empty.bin", map[string]string{"Range": "bytes=0-"}, time.Now()))
		checkError(t, "range of an empty object", resp, body, 416, "InvalidRange")
		if got := resp.Header.Get("Content-Range"); got != "bytes */0" {
			t.Errorf("range of an empty object: Content-Range %q", got)
		}
		resp, _ = do(t, signedRequestAt(t, http.MethodHead, c.endpoint(n)+"/lake/p/multi.bin", map[string]string{"Range": "bytes=10-19"}, time.Now()))
		if resp.StatusCode != 206 || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", size) || resp.ContentLength != 10 {
			t.Errorf("HEAD with Range: %d %q %d", resp.StatusCode, resp.Header.Get("Content-Range"), resp.ContentLength)
		}
		// A key naming a directory, and one passing through a file: no
		// such keys in S3 terms.
		for _, key := range []string{"p/dir", "p/one.bin/x", "p/dir/inside.txt/y"} {
			for _, m := range []string{http.MethodGet, http.MethodHead} {
				resp, body := do(t, signedRequest(t, m, c.endpoint(n)+"/lake/"+key, testAccess, testSecret, time.Now()))
				checkError(t, m+" "+key, resp, body, 404, "NoSuchKey")
			}
		}
		// The SDK's presigner, as applications hand out links.
		ps, err := s3.NewPresignClient(cl).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("p/multi.bin"),
			Range: aws.String("bytes=100-199")}, s3.WithPresignExpires(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		r, _ := http.NewRequest(ps.Method, ps.URL, nil)
		for k, v := range ps.SignedHeader {
			if k != "Host" {
				r.Header[k] = v
			}
		}
		resp, body = do(t, r)
		if resp.StatusCode != 206 {
			t.Fatalf("presigned ranged GET: %d %s", resp.StatusCode, body)
		}
		mustEqual(t, "presigned ranged GET", body, data[100:200])
		ps, err = s3.NewPresignClient(cl).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("p/one.bin"),
			ResponseContentDisposition: aws.String(`attachment; filename="one.bin"`)})
		if err != nil {
			t.Fatal(err)
		}
		resp, body = do(t, mustRequest(t, http.MethodGet, ps.URL))
		if resp.StatusCode != 200 || string(body) != "*" || resp.Header.Get("Content-Disposition") != `attachment; filename="one.bin"` {
			t.Errorf("presigned GET with an override: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Disposition"))
		}
	}

	// Bounds: a URI longer than the gateway takes is an S3 error.
	long := c.endpoint(0) + "/lake/" + strings.Repeat("a", 9000)
	resp, body := do(t, mustRequest(t, http.MethodGet, long))
	checkError(t, "9000-byte URI", resp, body, 400, "InvalidURI")
}

// TestRandomRanges: seeded random ranges (all three forms) of an object
// spanning several read pieces, through both nodes, starting cold with a
// range in the middle so that later reads find some pages cached and
// others not.
func TestRandomRanges(t *testing.T) {
	c := localCluster(t, 2, "sigv4")
	rnd := testseed.Rand(t)
	data := randomBytes(rnd.Uint64(), 3<<20+int(rnd.IntN(pageSize)))
	c.put(t, "lake/r.bin", data)
	size := int64(len(data))
	ctx := context.Background()
	cls := []*s3.Client{sdk(c.endpoint(0), testAccess, testSecret), sdk(c.endpoint(1), testAccess, testSecret)}
	for i := range 60 {
		var r rangeCase
		switch i % 3 {
		case 0:
			a := rnd.Int64N(size)
			z := min(a+rnd.Int64N(2<<20), size-1)
			r = rangeCase{fmt.Sprintf("bytes=%d-%d", a, z), a, z + 1}
		case 1:
			a := rnd.Int64N(size)
			r = rangeCase{fmt.Sprintf("bytes=%d-", a), a, size}
		case 2:
			n := 1 + rnd.Int64N(size)
			r = rangeCase{fmt.Sprintf("bytes=-%d", n), size - n, size}
		}
		out, err := cls[i%2].GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("r.bin"), Range: aws.String(r.hdr)})
		if err != nil {
			t.Fatalf("node %d %s: %v", i%2, r.hdr, err)
		}
		b, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			t.Fatalf("node %d %s: body: %v after %d bytes", i%2, r.hdr, err, len(b))
		}
		mustEqual(t, fmt.Sprintf("node %d %s", i%2, r.hdr), b, data[r.start:r.end])
	}
	mustEqual(t, "whole", readAll(t, mustGet(t, cls[1], "r.bin")), data)
}
