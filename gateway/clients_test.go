package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// lake is the fixture the client tests read: objects of several sizes (one
// past the 8 MiB at which the aws CLI and boto3 switch to ranged, parallel
// downloads), nested prefixes for delimiters, and a key with a space, a
// '+' and a non-ASCII letter.
type lake struct {
	objects map[string][]byte // key in bucket "lake" -> bytes
	big     string            // several pages, for ranges across page boundaries
	multi   string            // > 8 MiB
	odd     string
}

func seedLake(t *testing.T, c *cluster) *lake {
	t.Helper()
	l := &lake{objects: map[string][]byte{
		"data/small.bin":   randomBytes(10, 1000),
		"data/big.bin":     randomBytes(11, 3*pageSize+12345),
		"data/multi.bin":   randomBytes(12, 9<<20+777),
		"dir/x/1.txt":      []byte("one\n"),
		"dir/x/2.txt":      []byte("two\n"),
		"dir/y/3.txt":      []byte("three\n"),
		"odd/a b+c ü.txt":  []byte("odd key\n"),
		"top.txt":          []byte("top\n"),
		"data/empty.bin":   {},
		"data/sub/z/z.bin": randomBytes(13, 5000),
	}, big: "data/big.bin", multi: "data/multi.bin", odd: "odd/a b+c ü.txt"}
	for k, v := range l.objects {
		c.put(t, "lake/"+k, v)
	}
	return l
}

func (l *lake) keys() []string {
	var ks []string
	for k := range l.objects {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// rangeCase is a Range header and the bytes [start, end) it selects.
type rangeCase struct {
	hdr        string
	start, end int64
}

// pageRanges are Range headers of big that cross page boundaries, with the
// bytes [start, end) each selects; the last is a suffix range.
func pageRanges(size int64) []rangeCase {
	return []rangeCase{
		{fmt.Sprintf("bytes=%d-%d", pageSize-10, pageSize+9), pageSize - 10, pageSize + 10},
		{fmt.Sprintf("bytes=%d-%d", pageSize-1, 2*pageSize), pageSize - 1, 2*pageSize + 1},
		{fmt.Sprintf("bytes=%d-", 2*pageSize+7), 2*pageSize + 7, size},
		{"bytes=-70000", size - 70000, size},
	}
}

// TestClients reads one lake over versitygw through the gateways of a
// three-node cluster with every S3 client users run, each through the node
// that owns the object and one that does not, comparing every byte and
// every listing with what the S3 server itself holds and lists.
func TestClients(t *testing.T) {
	c := s3Cluster(t, 3, "sigv4")
	l := seedLake(t, c)
	owner, other := c.owners(t, "lake/"+l.big)
	eps := []struct{ name, url string }{{"owner", c.endpoint(owner)}, {"non-owner", c.endpoint(other)}}
	wantKeys := c.rawKeys(t, "lake", "")
	if !slices.Equal(wantKeys, l.keys()) {
		t.Fatalf("versitygw lists %q, seeded %q", wantKeys, l.keys())
	}
	ctx := context.Background()

	t.Run("aws-sdk-go-v2", func(t *testing.T) {
		for _, ep := range eps {
			cl := sdk(ep.url, testAccess, testSecret)
			for _, k := range l.keys() {
				out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(k)})
				if err != nil {
					t.Fatalf("%s: GetObject %q: %v", ep.name, k, err)
				}
				mustEqual(t, ep.name+" "+k, readAll(t, out.Body), l.objects[k])
			}
			data := l.objects[l.big]
			for _, r := range pageRanges(int64(len(data))) {
				out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(l.big), Range: aws.String(r.hdr)})
				if err != nil {
					t.Fatalf("%s: %s: %v", ep.name, r.hdr, err)
				}
				if want := fmt.Sprintf("bytes %d-%d/%d", r.start, r.end-1, len(data)); aws.ToString(out.ContentRange) != want {
					t.Errorf("%s: %s: Content-Range %q, want %q", ep.name, r.hdr, aws.ToString(out.ContentRange), want)
				}
				mustEqual(t, ep.name+" "+r.hdr, readAll(t, out.Body), data[r.start:r.end])
			}
			// HEAD answers the under-store's ETag, size and Last-Modified.
			for _, k := range []string{l.big, l.odd, "data/empty.bin"} {
				got, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String(k)})
				if err != nil {
					t.Fatalf("%s: HeadObject %q: %v", ep.name, k, err)
				}
				want, err := c.raw.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String(k)})
				if err != nil {
					t.Fatal(err)
				}
				if aws.ToString(got.ETag) != aws.ToString(want.ETag) || aws.ToInt64(got.ContentLength) != aws.ToInt64(want.ContentLength) ||
					!aws.ToTime(got.LastModified).Equal(aws.ToTime(want.LastModified)) {
					t.Errorf("%s: HEAD %q: etag %s size %d modified %v; versitygw: %s %d %v", ep.name, k,
						aws.ToString(got.ETag), aws.ToInt64(got.ContentLength), aws.ToTime(got.LastModified),
						aws.ToString(want.ETag), aws.ToInt64(want.ContentLength), aws.ToTime(want.LastModified))
				}
			}
			var keys []string
			p := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), MaxKeys: aws.Int32(3)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("%s: ListObjectsV2: %v", ep.name, err)
				}
				for _, o := range page.Contents {
					keys = append(keys, aws.ToString(o.Key))
				}
			}
			if !slices.Equal(keys, wantKeys) {
				t.Errorf("%s: paginator listed %q, want %q", ep.name, keys, wantKeys)
			}
		}
	})

	t.Run("minio-go", func(t *testing.T) {
		for _, ep := range eps {
			u, _ := url.Parse(ep.url)
			mc, err := minio.New(u.Host, &minio.Options{Creds: miniocreds.NewStaticV4(testAccess, testSecret, ""),
				Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
			if err != nil {
				t.Fatal(err)
			}
			data := l.objects[l.big]
			obj, err := mc.GetObject(ctx, "lake", l.big, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range pageRanges(int64(len(data))) {
				buf := make([]byte, r.end-r.start)
				if n, err := obj.ReadAt(buf, r.start); err != nil && !(err == io.EOF && n == len(buf)) {
					t.Fatalf("%s: ReadAt %d: %d, %v", ep.name, r.start, n, err)
				}
				mustEqual(t, ep.name+" ReadAt "+r.hdr, buf, data[r.start:r.end])
			}
			if _, err := obj.Seek(pageSize-5, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			mustEqual(t, ep.name+" Seek+read", readAll(t, obj), data[pageSize-5:])
			st, err := mc.StatObject(ctx, "lake", l.odd, minio.StatObjectOptions{})
			if err != nil || st.Size != int64(len(l.objects[l.odd])) || st.ETag == "" {
				t.Errorf("%s: StatObject: %+v, %v", ep.name, st, err)
			}
			var keys []string
			for o := range mc.ListObjects(ctx, "lake", minio.ListObjectsOptions{Recursive: true}) {
				if o.Err != nil {
					t.Fatalf("%s: ListObjects: %v", ep.name, o.Err)
				}
				keys = append(keys, o.Key)
			}
			if !slices.Equal(keys, wantKeys) {
				t.Errorf("%s: recursive listing %q, want %q", ep.name, keys, wantKeys)
			}
			keys = nil
			for o := range mc.ListObjects(ctx, "lake", minio.ListObjectsOptions{Prefix: "dir/"}) {
				if o.Err != nil {
					t.Fatalf("%s: ListObjects dir/: %v", ep.name, o.Err)
				}
				keys = append(keys, o.Key)
			}
			if want := []string{"dir/x/", "dir/y/"}; !slices.Equal(keys, want) {
				t.Errorf("%s: listing dir/ with delimiter: %q, want %q", ep.name, keys, want)
			}
		}
	})

	t.Run("ranged ReaderAt", func(t *testing.T) {
		for _, ep := range eps {
			testParquetPattern(t, sdk(ep.url, testAccess, testSecret), l.big, l.objects[l.big])
		}
	})

	t.Run("aws-cli", func(t *testing.T) { testAWSCLI(t, c, l, eps, wantKeys) })
	t.Run("boto3", func(t *testing.T) { testBoto3(t, l, eps, wantKeys) })
	t.Run("s3cmd", func(t *testing.T) { testS3cmd(t, l, eps) })
	t.Run("rclone", func(t *testing.T) { testRclone(t, l, eps, wantKeys) })

	// The subtests below add objects to the lake.
	t.Run("sample lake Parquet", func(t *testing.T) { testSampleLake(t, c) })

	t.Run("cold GET costs one S3 request", func(t *testing.T) {
		data := randomBytes(14, 1<<20)
		key := c.keyOwnedByFirst(t, "lake", "cold/", ".bin")
		c.put(t, "lake/"+key, data)
		cl := sdk(c.endpoint(1), testAccess, testSecret) // not the owner
		before := c.store.snapshot()
		mustEqual(t, "cold GET", readAll(t, mustGet(t, cl, key)), data)
		if got := c.store.since(before); got.requests() != 1 || got.readBytes != int64(len(data)) {
			t.Errorf("cold 1 MiB GET over versitygw: %+v, want one request of 1 MiB", got)
		}
		before = c.store.snapshot()
		mustEqual(t, "warm GET", readAll(t, mustGet(t, cl, key)), data)
		if _, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
		if got := c.store.since(before); got.requests() != 0 {
			t.Errorf("warm GET and HEAD over versitygw: %+v, want none", got)
		}
	})

	t.Run("buckets and markers", func(t *testing.T) {
		cl := sdk(eps[1].url, testAccess, testSecret)
		lb, err := cl.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil || len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != "lake" {
			t.Fatalf("ListBuckets: %v %+v", err, lb)
		}
		if _, err := cl.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("lake")}); err != nil {
			t.Errorf("HeadBucket: %v", err)
		}
		loc, err := cl.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("lake")})
		if err != nil || loc.LocationConstraint != "" {
			t.Errorf("GetBucketLocation: %v %q", err, loc.LocationConstraint)
		}
		// A directory marker written by another tool, then read here.
		c.put(t, "lake/marked/", nil)
		c.put(t, "lake/marked/in.txt", []byte("in"))
		h, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("marked/")})
		if err != nil || aws.ToInt64(h.ContentLength) != 0 {
			t.Fatalf("HEAD of a marker: %v", err)
		}
		mustEqual(t, "GET of a marker", readAll(t, mustGet(t, cl, "marked/")), nil)
		// On S3 a marker is an object: keys under a prefix do not make one.
		c.put(t, "lake/unmarked/in.txt", []byte("in"))
		if _, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("unmarked/")}); err == nil {
			t.Errorf("HEAD of unmarked/ over S3: 200, want 404 as versitygw answers")
		}
		want := c.rawKeys(t, "lake", "marked/")
		got, _, _ := listV2(t, cl, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("marked/")})
		if !slices.Equal(got, want) || len(want) != 2 {
			t.Errorf("listing under a marker: %q, versitygw lists %q", got, want)
		}
	})
}

// lines splits a tool's output into non-empty lines.
func lines(out []byte) []string {
	var ls []string
	for _, s := range strings.Split(string(out), "\n") {
		if s = strings.TrimRight(s, "\r"); s != "" {
			ls = append(ls, s)
		}
	}
	return ls
}
