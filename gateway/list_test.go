package gateway_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// listFixture is 1,200 keys in 12 "directories" of 100, plus keys that
// need encoding.
func listFixture(t *testing.T, c *cluster) (keys, odd []string) {
	t.Helper()
	objs := map[string][]byte{}
	for i := range 1200 {
		k := fmt.Sprintf("big/d%02d/k%04d", i/100, i)
		keys = append(keys, k)
		objs["lake/"+k] = []byte(k)
	}
	odd = []string{"odd/a b.txt", "odd/c+d.txt", "odd/grüße/é.txt", "odd/x&y=z%.txt"}
	for _, k := range odd {
		objs["lake/"+k] = []byte(k)
	}
	c.putMany(t, objs)
	slices.Sort(odd)
	return keys, odd
}

// listV2 runs a ListObjectsV2 paginator and returns the keys, common
// prefixes and page count.
func listV2(t *testing.T, cl *s3.Client, in *s3.ListObjectsV2Input) (keys, prefixes []string, pages int) {
	t.Helper()
	p := s3.NewListObjectsV2Paginator(cl, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListObjectsV2 %+v: %v", in, err)
		}
		pages++
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, cp := range page.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(cp.Prefix))
		}
	}
	return keys, prefixes, pages
}

// TestListing: ListObjectsV2 and v1 over 1,200 keys, as S3 pages them.
func TestListing(t *testing.T) {
	t.Run("local directory", func(t *testing.T) { testListing(t, localCluster(t, 1, "sigv4")) })
	t.Run("versitygw", func(t *testing.T) { testListing(t, s3Cluster(t, 1, "sigv4")) })
}

// TestListingAnyNode: a continuation token one gateway gives works on
// another (clients behind a load balancer).
func TestListingAnyNode(t *testing.T) {
	ctx := context.Background()
	c2 := localCluster(t, 2, "sigv4")
	for i := range 250 {
		c2.put(t, fmt.Sprintf("lake/k%03d", i), nil)
	}
	cls := []*s3.Client{sdk(c2.endpoint(0), testAccess, testSecret), sdk(c2.endpoint(1), testAccess, testSecret)}
	var got []string
	var token *string
	for page := 0; ; page++ {
		out, err := cls[page%2].ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), MaxKeys: aws.Int32(40), ContinuationToken: token})
		if err != nil {
			t.Fatalf("page %d through node %d: %v", page, page%2, err)
		}
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		token = out.NextContinuationToken
	}
	if len(got) != 250 || got[0] != "k000" || got[249] != "k249" || !slices.IsSorted(got) {
		t.Fatalf("alternating nodes listed %d keys", len(got))
	}
}

func testListing(t *testing.T, c *cluster) {
	keys, odd := listFixture(t, c)
	cl := sdk(c.endpoint(0), testAccess, testSecret)
	ctx := context.Background()

	t.Run("max-keys 1000", func(t *testing.T) {
		out, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("big/")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Contents) != 1000 || !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" || aws.ToInt32(out.KeyCount) != 1000 {
			t.Fatalf("first page: %d keys, truncated %v, token %q, key count %d", len(out.Contents), aws.ToBool(out.IsTruncated),
				aws.ToString(out.NextContinuationToken), aws.ToInt32(out.KeyCount))
		}
		next, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("big/"), ContinuationToken: out.NextContinuationToken})
		if err != nil {
			t.Fatal(err)
		}
		if len(next.Contents) != 200 || aws.ToBool(next.IsTruncated) || aws.ToString(next.Contents[0].Key) != keys[1000] {
			t.Fatalf("second page: %d keys from %q, truncated %v", len(next.Contents), aws.ToString(next.Contents[0].Key), aws.ToBool(next.IsTruncated))
		}
		// Above 1000 is clamped, as S3 does.
		big, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("big/"), MaxKeys: aws.Int32(5000)})
		if err != nil || len(big.Contents) != 1000 || !aws.ToBool(big.IsTruncated) {
			t.Fatalf("max-keys 5000: %v, %d keys", err, len(big.Contents))
		}
	})

	t.Run("small pages", func(t *testing.T) {
		got, _, pages := listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("big/"), MaxKeys: aws.Int32(7)})
		if !slices.Equal(got, keys) || pages != (1200+6)/7 {
			t.Fatalf("%d keys in %d pages", len(got), pages)
		}
		got, _, _ = listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), MaxKeys: aws.Int32(1000)})
		if want := append(slices.Clone(keys), odd...); !slices.Equal(got, want) {
			t.Fatalf("whole bucket: %d keys, want %d", len(got), len(want))
		}
	})

	t.Run("delimiter", func(t *testing.T) {
		got, prefixes, _ := listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Delimiter: aws.String("/")})
		if len(got) != 0 || !slices.Equal(prefixes, []string{"big/", "odd/"}) {
			t.Fatalf("top level: keys %q, prefixes %q", got, prefixes)
		}
		var want []string
		for i := range 12 {
			want = append(want, fmt.Sprintf("big/d%02d/", i))
		}
		got, prefixes, pages := listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("big/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(5)})
		if len(got) != 0 || !slices.Equal(prefixes, want) || pages != 3 {
			t.Fatalf("big/: keys %q, prefixes %q in %d pages", got, prefixes, pages)
		}
		got, prefixes, _ = listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("big/d03/"), Delimiter: aws.String("/")})
		if !slices.Equal(got, keys[300:400]) || len(prefixes) != 0 {
			t.Fatalf("big/d03/: %d keys, prefixes %q", len(got), prefixes)
		}
		got, prefixes, _ = listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("odd/"), Delimiter: aws.String("/")})
		if !slices.Equal(got, []string{"odd/a b.txt", "odd/c+d.txt", "odd/x&y=z%.txt"}) || !slices.Equal(prefixes, []string{"odd/grüße/"}) {
			t.Fatalf("odd/: keys %q, prefixes %q", got, prefixes)
		}
	})

	t.Run("prefix and start-after", func(t *testing.T) {
		got, _, _ := listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("big/d1")})
		if !slices.Equal(got, keys[1000:]) {
			t.Fatalf("prefix big/d1: %d keys", len(got))
		}
		got, _, _ = listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("big/"), StartAfter: aws.String(keys[550]), MaxKeys: aws.Int32(300)})
		if !slices.Equal(got, keys[551:]) {
			t.Fatalf("start-after %s: %d keys from %q", keys[550], len(got), got[0])
		}
		// start-after between keys and before the prefix.
		got, _, _ = listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("big/"), StartAfter: aws.String("big/d05/k05505")})
		if !slices.Equal(got, keys[551:]) {
			t.Fatalf("start-after between keys: %d keys", len(got))
		}
		got, _, _ = listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("odd/"), StartAfter: aws.String("a")})
		if !slices.Equal(got, odd) {
			t.Fatalf("start-after before the prefix: %q", got)
		}
	})

	t.Run("v1 marker", func(t *testing.T) {
		var got []string
		marker := ""
		for range 100 {
			out, err := cl.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("lake"), Prefix: aws.String("big/"), Marker: aws.String(marker), MaxKeys: aws.Int32(250)})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			marker = aws.ToString(out.Contents[len(out.Contents)-1].Key)
		}
		if !slices.Equal(got, keys) {
			t.Fatalf("v1 with marker: %d keys", len(got))
		}
		// With a delimiter, v1 answers NextMarker.
		out, err := cl.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("lake"), Prefix: aws.String("big/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(5)})
		if err != nil || !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextMarker) != "big/d04/" || len(out.CommonPrefixes) != 5 {
			t.Fatalf("v1 delimiter page: %v, next marker %q, %d prefixes", err, aws.ToString(out.NextMarker), len(out.CommonPrefixes))
		}
		out, err = cl.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("lake"), Prefix: aws.String("big/"), Delimiter: aws.String("/"), Marker: out.NextMarker})
		if err != nil || len(out.CommonPrefixes) != 7 || aws.ToString(out.CommonPrefixes[0].Prefix) != "big/d05/" {
			t.Fatalf("v1 after NextMarker: %v, %+v", err, out.CommonPrefixes)
		}
	})

	t.Run("odd keys read back", func(t *testing.T) {
		for _, k := range odd {
			mustEqual(t, k, readAll(t, mustGet(t, cl, k)), []byte(k))
		}
	})

	t.Run("encoding-type url", func(t *testing.T) {
		for _, v := range []string{"2", "1"} {
			q := url.Values{"prefix": {"odd/"}, "encoding-type": {"url"}}
			if v == "2" {
				q.Set("list-type", "2")
				q.Set("start-after", "odd/a b.txt")
			} else {
				q.Set("marker", "odd/a b.txt")
			}
			r := signedRequest(t, http.MethodGet, c.endpoint(0)+"/lake?"+strings.ReplaceAll(q.Encode(), "+", "%20"), testAccess, testSecret, time.Now())
			resp, body := do(t, r)
			if resp.StatusCode != 200 {
				t.Fatalf("v%s: %d %s", v, resp.StatusCode, body)
			}
			var res struct {
				EncodingType string
				Prefix       string
				StartAfter   string
				Marker       string
				Contents     []struct{ Key string }
			}
			if err := xml.Unmarshal(body, &res); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range res.Contents {
				if strings.ContainsAny(o.Key, " &üé") {
					t.Errorf("v%s: key %q is not URL-encoded", v, o.Key)
				}
				k, err := url.QueryUnescape(o.Key)
				if err != nil {
					t.Errorf("v%s: key %q: %v", v, o.Key, err)
				}
				got = append(got, k)
			}
			if res.EncodingType != "url" || !slices.Equal(got, odd[1:]) {
				t.Errorf("v%s: encoding %q, keys %q, want %q", v, res.EncodingType, got, odd[1:])
			}
			after := res.StartAfter + res.Marker
			if a, _ := url.QueryUnescape(after); a != "odd/a b.txt" || strings.Contains(after, " ") {
				t.Errorf("v%s: start-after/marker answered as %q", v, after)
			}
		}
	})

	t.Run("encoding-type url, prefixes", func(t *testing.T) {
		q := url.Values{"list-type": {"2"}, "prefix": {"odd/"}, "delimiter": {"/"}, "encoding-type": {"url"}}
		resp, body := do(t, signedRequest(t, http.MethodGet, c.endpoint(0)+"/lake?"+strings.ReplaceAll(q.Encode(), "+", "%20"), testAccess, testSecret, time.Now()))
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var res struct {
			CommonPrefixes []struct{ Prefix string }
		}
		if err := xml.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if len(res.CommonPrefixes) != 1 {
			t.Fatalf("prefixes %+v", res.CommonPrefixes)
		}
		if p, _ := url.QueryUnescape(res.CommonPrefixes[0].Prefix); p != "odd/grüße/" || strings.Contains(res.CommonPrefixes[0].Prefix, "ü") {
			t.Errorf("common prefix answered as %q", res.CommonPrefixes[0].Prefix)
		}
	})

	t.Run("bad listing arguments", func(t *testing.T) {
		for _, q := range []string{"list-type=2&max-keys=-1", "list-type=2&max-keys=abc", "list-type=2&continuation-token=garbage",
			"max-keys=-5", "list-type=2&encoding-type=base64"} {
			resp, body := signedGet(t, c.endpoint(0)+"/lake?"+q)
			checkError(t, q, resp, body, 400, "InvalidArgument")
		}
		out, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), MaxKeys: aws.Int32(0)})
		if err != nil || len(out.Contents) != 0 {
			t.Errorf("max-keys 0: %v, %d keys", err, len(out.Contents))
		}
		out, err = cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("big/"), FetchOwner: aws.Bool(true), MaxKeys: aws.Int32(1)})
		if err != nil || len(out.Contents) != 1 || out.Contents[0].Owner == nil || aws.ToString(out.Contents[0].Owner.ID) == "" {
			t.Errorf("fetch-owner: %v %+v", err, out)
		}
	})

	t.Run("20 listings cost one", func(t *testing.T) {
		// A fresh prefix, so no page is cached yet.
		in := func() *s3.ListObjectsV2Input {
			return &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("big/d0")}
		}
		before := c.store.snapshot()
		got, _, pages := listV2(t, cl, in())
		one := c.store.since(before)
		if len(got) != 1000 || one.lists == 0 || one.lists > int64(pages) {
			t.Fatalf("one listing: %d keys, %d pages, %+v", len(got), pages, one)
		}
		for range 19 {
			if again, _, _ := listV2(t, cl, in()); !slices.Equal(again, got) {
				t.Fatal("a repeated listing differs")
			}
		}
		if all := c.store.since(before); all.requests() != one.requests() {
			t.Fatalf("20 listings cost %+v, one cost %+v", all, one)
		}
	})
}
