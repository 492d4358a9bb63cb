package listing

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ringcache/ringcache/understore"
)

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		maxKeys int
		bad     string // ArgumentName when refused
	}{
		{"list-type=2", 1000, ""},
		{"", 1000, ""},
		{"max-keys=0", 0, ""},
		{"max-keys=7", 7, ""},
		{"max-keys=1000", 1000, ""},
		{"max-keys=1001", 1000, ""},
		{"max-keys=99999999999999999999999", 0, "max-keys"},
		{"max-keys=-1", 0, "max-keys"},
		{"max-keys=abc", 0, "max-keys"},
		{"max-keys=", 0, "max-keys"},
		{"encoding-type=url", 1000, ""},
		{"encoding-type=URL", 0, "encoding-type"},
		{"encoding-type=base64", 0, "encoding-type"},
		{"list-type=3", 0, "list-type"},
		{"prefix=a/../b", 0, "prefix"},
		{"prefix=a//b", 0, "prefix"},
		{"prefix=./a", 0, "prefix"},
		{"prefix=/a", 0, "prefix"},
		{"prefix=a/b/", 1000, ""},
		{"prefix=" + strings.Repeat("p", 1100), 0, "prefix"},
		{"delimiter=" + strings.Repeat("d", MaxDelimiterLen+1), 0, "delimiter"},
		{"delimiter=%00", 0, "delimiter"},
		{"start-after=%FF", 0, "start-after"},
		{"marker=" + strings.Repeat("m", MaxStartLen+1), 0, "marker"},
		{"continuation-token=" + strings.Repeat("t", MaxTokenLen+1), 0, "continuation-token"},
	} {
		v, err := url.ParseQuery(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseQuery("lake", v)
		var le *Error
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("%q: %v", tc.raw, err)
		case tc.bad == "" && q.MaxKeys != tc.maxKeys:
			t.Errorf("%q: MaxKeys %d, want %d", tc.raw, q.MaxKeys, tc.maxKeys)
		case tc.bad != "" && (!errors.Is(err, ErrInvalidArgument) || !errors.As(err, &le) || le.ArgumentName != tc.bad):
			t.Errorf("%q: %v, want InvalidArgument on %s", tc.raw, err, tc.bad)
		}
	}
	v, _ := url.ParseQuery("list-type=2&prefix=p/&delimiter=/&start-after=s&continuation-token=c&fetch-owner=true&encoding-type=url")
	q, err := ParseQuery("lake", v)
	want := Query{Bucket: "lake", Prefix: "p/", Delimiter: "/", StartAfter: "s", ContinuationToken: "c",
		MaxKeys: 1000, EncodingURL: true, FetchOwner: true, V2: true}
	if err != nil || q != want {
		t.Errorf("ParseQuery = %+v, %v; want %+v", q, err, want)
	}
}

// TestRefusals: max-keys 0, bad tokens, a token of another listing, an
// unknown bucket.
func TestRefusals(t *testing.T) {
	cs := &countingStore{inner: localBackend().open(t, testKeys()[:20])}
	l := newLister(t, cs, Config{TTL: time.Minute})
	ctx := ctxT(t)

	r, err := l.ListObjects(ctx, Query{Bucket: "lake", MaxKeys: 0, V2: true})
	if res, ok := r.(*ListBucketResultV2); err != nil || !ok || res.KeyCount != 0 || res.IsTruncated || len(res.Contents) != 0 {
		t.Errorf("max-keys 0: %+v, %v", r, err)
	}
	if cs.lists.Load() != 0 {
		t.Errorf("max-keys 0 made %d List calls", cs.lists.Load())
	}

	r, err = l.ListObjects(ctx, Query{Bucket: "lake", MaxKeys: 3, V2: true})
	if err != nil {
		t.Fatal(err)
	}
	good := r.(*ListBucketResultV2).NextContinuationToken
	if good == "" {
		t.Fatal("no token")
	}
	if _, err := l.ListObjects(ctx, Query{Bucket: "lake", MaxKeys: 3, V2: true, ContinuationToken: good}); err != nil {
		t.Fatalf("good token: %v", err)
	}
	flipped := []byte(good)
	flipped[len(flipped)/2] ^= 1
	forged, _ := encodeToken(tokenState{scope: scopeOf("lake", "", ""), under: "not-an-under-store-token"})
	for name, tok := range map[string]string{
		"garbage":   "garbage!",
		"short":     "AQ",
		"flipped":   string(flipped),
		"truncated": good[:len(good)-2],
		"forged":    forged,
	} {
		_, err := l.ListObjects(ctx, Query{Bucket: "lake", MaxKeys: 3, V2: true, ContinuationToken: tok})
		var le *Error
		if !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &le) || le.Message != "The continuation token provided is incorrect" {
			t.Errorf("%s token: %v", name, err)
		}
	}
	for _, q := range []Query{
		{Bucket: "lake", Prefix: "data/", MaxKeys: 3, V2: true, ContinuationToken: good},
		{Bucket: "lake", Delimiter: "/", MaxKeys: 3, V2: true, ContinuationToken: good},
	} {
		if _, err := l.ListObjects(ctx, q); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("token of another listing %+v: %v", q, err)
		}
	}

	for _, v2 := range []bool{true, false} {
		if _, err := l.ListObjects(ctx, Query{Bucket: "nosuch", MaxKeys: 10, V2: v2}); !errors.Is(err, ErrNoSuchBucket) {
			t.Errorf("unknown bucket: %v", err)
		}
	}
	if ok, err := l.BucketExists(ctx, "lake"); !ok || err != nil {
		t.Errorf("BucketExists(lake) = %v, %v", ok, err)
	}
	if ok, err := l.BucketExists(ctx, "nosuch"); ok || err != nil {
		t.Errorf("BucketExists(nosuch) = %v, %v", ok, err)
	}
	bs, err := l.ListBuckets(ctx)
	if err != nil || len(bs.Buckets) != 1 || bs.Buckets[0].Name != "lake" || !s3Time.MatchString(bs.Buckets[0].CreationDate) {
		t.Errorf("ListBuckets = %+v, %v", bs, err)
	}
	if n := cs.buckets.Load(); n != 1 {
		t.Errorf("%d Buckets calls within the TTL, want 1", n)
	}
	if _, err := l.ListObjects(ctx, Query{Bucket: "lake", Prefix: "a/../b", MaxKeys: 1}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("hand-built bad prefix: %v", err)
	}
}

// TestUnderStoreErrorsPass: an under-store failure other than the ones
// listing maps comes back wrapped as it is.
func TestUnderStoreErrorsPass(t *testing.T) {
	l := newLister(t, failingStore{understore.ErrAccessDenied}, Config{})
	if _, err := l.ListObjects(ctxT(t), Query{Bucket: "lake", MaxKeys: 5, V2: true}); !errors.Is(err, understore.ErrAccessDenied) {
		t.Errorf("ListObjects = %v, want ErrAccessDenied", err)
	}
}

// failingStore has bucket "lake" and fails every List. It stands in for
// an under-store refusing access, which the real stores here cannot be
// made to do.
type failingStore struct{ err error }

func (f failingStore) List(context.Context, string, string, string, int) (understore.ListPage, error) {
	return understore.ListPage{}, f.err
}
func (f failingStore) Buckets(context.Context) ([]string, error) { return []string{"lake"}, nil }

func TestURLEncode(t *testing.T) {
	for in, want := range map[string]string{
		"a b/c+d": "a+b/c%2Bd", "100%": "100%25", "ü": "%C3%BC", "x~y-z_.": "x~y-z_.", "a&b=c": "a%26b%3Dc",
	} {
		if got := urlEncode(in); got != want {
			t.Errorf("urlEncode(%q) = %q, want %q", in, got, want)
		}
		if back, err := url.QueryUnescape(urlEncode(in)); err != nil || back != in {
			t.Errorf("QueryUnescape(urlEncode(%q)) = %q, %v", in, back, err)
		}
	}
}

func TestQuoteETag(t *testing.T) {
	for in, want := range map[string]string{`abc`: `"abc"`, `"abc"`: `"abc"`, `"`: `"""`, ``: `""`} {
		if got := QuoteETag(in); got != want {
			t.Errorf("QuoteETag(%q) = %q, want %q", in, got, want)
		}
	}
}
