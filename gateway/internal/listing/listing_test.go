package listing

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ringcache/ringcache/understore"
	"github.com/ringcache/ringcache/understore/s3test"
)

// testKeys is 1,200 keys: a big flat directory, nested partitions, and
// keys that need URL encoding.
func testKeys() []string {
	var keys []string
	for i := range 1000 {
		keys = append(keys, fmt.Sprintf("data/part-%04d.parquet", i))
	}
	for m := 1; m <= 12; m++ {
		for f := range 10 {
			keys = append(keys, fmt.Sprintf("data/year=2024/month=%02d/f%d", m, f))
		}
	}
	keys = append(keys, "sp ace/one two", "uni/ünïcødé/ç", "uni/日本語", "plus+dir/a+b",
		"pct%25/100%", "x-y", "x/y", "x.y", "top", "z~tilde", "amp&er/eq=sign")
	for i := 0; len(keys) < 1200; i++ {
		keys = append(keys, fmt.Sprintf("a/b/c/d%03d", i))
	}
	return keys
}

type listCase struct {
	prefix, delimiter, after string
	maxKeys                  int
	url                      bool
}

var listCases = []listCase{
	{maxKeys: 1000},
	{maxKeys: 7},
	{delimiter: "/", maxKeys: 1000},
	{delimiter: "/", maxKeys: 2},
	{prefix: "data/", delimiter: "/", maxKeys: 7},
	{prefix: "data/year=2024/", delimiter: "/", maxKeys: 5},
	{prefix: "data/part-", maxKeys: 333},
	{prefix: "a/b", delimiter: "/", maxKeys: 1000},
	{prefix: "nothing/", delimiter: "/", maxKeys: 1000},
	{delimiter: "=", maxKeys: 10},
	{delimiter: "ar", maxKeys: 50},
	{after: "data/part-0500.parquet", maxKeys: 1000},
	{after: "data/x", delimiter: "/", maxKeys: 3},
	{prefix: "data/", delimiter: "/", after: "data/year=2024/month=03/f1", maxKeys: 1000},
	{prefix: "data/", after: "data/year=2024/month=03/f1", maxKeys: 9},
	{after: "zzz", maxKeys: 1000},
	{maxKeys: 1000, url: true},
	{prefix: "uni/", delimiter: "/", maxKeys: 1, url: true},
	{prefix: "sp ace/", maxKeys: 10, url: true},
	{delimiter: "+", maxKeys: 20, url: true},
	{delimiter: "/", after: "plus+dir/a", maxKeys: 3, url: true},
}

// TestListingMatchesS3 lists 1,200 keys on every real under-store, v2 and
// v1, and compares each listing with S3's semantics (model).
func TestListingMatchesS3(t *testing.T) {
	keys := testKeys()
	for _, b := range allBackends() {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t, keys)
			l := newLister(t, st, Config{})
			for _, c := range listCases {
				want := model(keys, c.prefix, c.delimiter, c.after)
				q := Query{Bucket: "lake", Prefix: c.prefix, Delimiter: c.delimiter, StartAfter: c.after,
					MaxKeys: c.maxKeys, EncodingURL: c.url}
				if b.name == "gofakes3" && len(c.delimiter) > 1 {
					continue // gofakes3 v1.2.0 splits keys wrongly at a multi-byte delimiter
				}
				got, sizes := listV2(t, l, q)
				checkListing(t, "v2", c, got, want, sizes, b.name == "local")
				q.StartAfter, q.Marker = "", c.after
				got, sizes = listV1(t, l, q)
				checkListing(t, "v1", c, got, want, sizes, b.name == "local")
			}
		})
	}
}

// checkListing compares a listing with the model. With full, every page
// but the last must be full, as S3 pages; an S3-compatible server may send
// short pages (gofakes3 repeats the last common prefix of a page at the
// start of the next, and the repeat is dropped), which clients accept.
func checkListing(t *testing.T, what string, c listCase, got, want []entry, sizes []int, full bool) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s %+v: %d entries, want %d; first difference at %s", what, c, len(got), len(want), firstDiff(got, want))
	}
	for i, n := range sizes {
		if (full && i < len(sizes)-1 && n != c.maxKeys) || n > c.maxKeys || (n == 0 && i < len(sizes)-1) {
			t.Errorf("%s %+v: page sizes %v", what, c, sizes)
			break
		}
	}
}

func firstDiff(a, b []entry) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("%d: got %+v, want %+v", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("%d (one is a prefix of the other)", min(len(a), len(b)))
}

// TestStartAfterWithoutAfterLister: a Store without ListAfter pages from
// the start and gets the same answer.
func TestStartAfterWithoutAfterLister(t *testing.T) {
	keys := testKeys()
	st := localBackend().open(t, keys)
	l := newLister(t, plainStore{st}, Config{})
	for _, c := range listCases {
		if c.after == "" {
			continue
		}
		q := Query{Bucket: "lake", Prefix: c.prefix, Delimiter: c.delimiter, StartAfter: c.after, MaxKeys: c.maxKeys, EncodingURL: c.url}
		got, sizes := listV2(t, l, q)
		// The first page is what remains of the under-store page after is in.
		checkListing(t, "plain v2", c, got, model(keys, c.prefix, c.delimiter, c.after), sizes[1:], true)
	}
}

var s3Time = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// TestObjectFields: ETags quoted, S3 timestamps, sizes, STANDARD, Owner
// only with fetch-owner in v2 and always in v1, keys without the bucket.
func TestObjectFields(t *testing.T) {
	for _, b := range []backend{localBackend(), gofakes3Backend()} {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t, []string{"d/k1", "d/k22"})
			l := newLister(t, st, Config{})
			for _, owner := range []bool{false, true} {
				r, err := l.ListObjects(ctxT(t), Query{Bucket: "lake", MaxKeys: 1000, V2: true, FetchOwner: owner})
				if err != nil {
					t.Fatal(err)
				}
				res := r.(*ListBucketResultV2)
				if len(res.Contents) != 2 || res.Contents[0].Key != "d/k1" || res.Contents[1].Size != 5 {
					t.Fatalf("contents %+v", res.Contents)
				}
				for _, o := range res.Contents {
					if !strings.HasPrefix(o.ETag, `"`) || !strings.HasSuffix(o.ETag, `"`) || len(o.ETag) < 3 || strings.Count(o.ETag, `"`) != 2 {
						t.Errorf("ETag %s not quoted once", o.ETag)
					}
					if !s3Time.MatchString(o.LastModified) || o.StorageClass != "STANDARD" {
						t.Errorf("object %+v", o)
					}
					if (o.Owner != nil) != owner {
						t.Errorf("fetch-owner %v: Owner %+v", owner, o.Owner)
					}
				}
			}
			r, err := l.ListObjects(ctxT(t), Query{Bucket: "lake", MaxKeys: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if res := r.(*ListBucketResultV1); len(res.Contents) != 2 || res.Contents[0].Owner == nil {
				t.Errorf("v1 contents %+v", res.Contents)
			}
		})
	}
}

// TestDirectoryMarkers: an S3 under-store's markers are listed as S3 lists
// them; a local directory is a common prefix, never a key, and an empty
// one is not listed.
func TestDirectoryMarkers(t *testing.T) {
	t.Run("s3", func(t *testing.T) {
		ep, _ := s3test.StartGofakes3(t)
		s3test.CreateBucket(t, ep, s3test.AccessKey, s3test.SecretKey, "lake")
		cl := s3test.Client(ep, s3test.AccessKey, s3test.SecretKey)
		for _, k := range []string{"dir/", "dir/f", "empty/"} {
			if _, err := cl.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(k), Body: strings.NewReader("")}); err != nil {
				t.Fatal(err)
			}
		}
		st := openStore(t, understore.Config{URL: "s3://", Endpoint: ep, PathStyle: true, AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey})
		l := newLister(t, st, Config{})
		check := func(prefix, delim string, want []entry) {
			t.Helper()
			got, _ := listV2(t, l, Query{Bucket: "lake", Prefix: prefix, Delimiter: delim, MaxKeys: 1000})
			if !slices.Equal(got, want) {
				t.Errorf("prefix %q delimiter %q: got %+v, want %+v", prefix, delim, got, want)
			}
		}
		check("", "", []entry{{"dir/", false}, {"dir/f", false}, {"empty/", false}})
		check("", "/", []entry{{"dir/", true}, {"empty/", true}})
		check("dir/", "/", []entry{{"dir/", false}, {"dir/f", false}})
	})
	t.Run("local", func(t *testing.T) {
		st, dir := localStore(t, []string{"dir/f", "dir/sub/g"})
		for _, d := range []string{"empty", "dir/emptysub"} {
			if err := os.Mkdir(filepath.Join(dir, "lake", d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		l := newLister(t, st, Config{})
		check := func(prefix, delim string, want []entry) {
			t.Helper()
			got, _ := listV2(t, l, Query{Bucket: "lake", Prefix: prefix, Delimiter: delim, MaxKeys: 1000})
			if !slices.Equal(got, want) {
				t.Errorf("prefix %q delimiter %q: got %+v, want %+v", prefix, delim, got, want)
			}
		}
		check("", "", []entry{{"dir/f", false}, {"dir/sub/g", false}})
		check("", "/", []entry{{"dir/", true}})
		check("dir/", "/", []entry{{"dir/f", false}, {"dir/sub/", true}})
		check("empty/", "/", nil)
	})
}
