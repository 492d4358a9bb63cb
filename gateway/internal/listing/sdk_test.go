package listing

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// serveListing is the least HTTP an S3 client needs to list through l:
// path-style GET / and GET /bucket. It stands in for the gateway (built
// separately) so that the XML is checked by a real S3 client here.
func serveListing(t *testing.T, l *Lister) *s3.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res any
		var err error
		if bucket := strings.Trim(r.URL.Path, "/"); bucket == "" {
			res, err = l.ListBuckets(r.Context())
		} else {
			var q Query
			if q, err = ParseQuery(bucket, r.URL.Query()); err == nil {
				res, err = l.ListObjects(r.Context(), q)
			}
		}
		w.Header().Set("Content-Type", "application/xml")
		if err != nil {
			code, status := "InternalError", 500
			switch {
			case errors.Is(err, ErrInvalidArgument):
				code, status = "InvalidArgument", 400
			case errors.Is(err, ErrNoSuchBucket):
				code, status = "NoSuchBucket", 404
			}
			w.WriteHeader(status)
			res = struct {
				XMLName xml.Name `xml:"Error"`
				Code    string
				Message string
			}{Code: code, Message: err.Error()}
		}
		w.Write([]byte(xml.Header))
		if err := xml.NewEncoder(w).Encode(res); err != nil {
			t.Errorf("encode: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: aws.AnonymousCredentials{},
	})
}

// TestSDKReadsResults lists through aws-sdk-go-v2: its paginators, v1
// markers, url encoding, owners, buckets and errors all parse.
func TestSDKReadsResults(t *testing.T) {
	keys := testKeys()
	l := newLister(t, localBackend().open(t, keys), Config{})
	cl := serveListing(t, l)
	ctx := ctxT(t)

	for _, c := range []listCase{{maxKeys: 7}, {delimiter: "/", maxKeys: 3}, {prefix: "data/", delimiter: "/", maxKeys: 1000, url: true}, {maxKeys: 50, url: true, after: "data/x"}} {
		in := &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String(c.prefix), MaxKeys: aws.Int32(int32(c.maxKeys)), FetchOwner: aws.Bool(true)}
		if c.delimiter != "" {
			in.Delimiter = aws.String(c.delimiter)
		}
		if c.after != "" {
			in.StartAfter = aws.String(c.after)
		}
		if c.url {
			in.EncodingType = s3types.EncodingTypeUrl
		}
		var got []entry
		for p := s3.NewListObjectsV2Paginator(cl, in); p.HasMorePages(); {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("%+v: %v", c, err)
			}
			for _, o := range out.Contents {
				if o.Owner == nil || aws.ToString(o.Owner.ID) != DefaultOwnerID || o.LastModified == nil || o.LastModified.IsZero() || aws.ToString(o.ETag) == "" {
					t.Fatalf("object %+v", o)
				}
				got = append(got, entry{name: sdkDecode(t, aws.ToString(o.Key), c.url)})
			}
			for _, cp := range out.CommonPrefixes {
				got = append(got, entry{name: sdkDecode(t, aws.ToString(cp.Prefix), c.url), prefix: true})
			}
		}
		slices.SortFunc(got, func(a, b entry) int { return strings.Compare(a.name, b.name) })
		if want := model(keys, c.prefix, c.delimiter, c.after); !slices.Equal(got, want) {
			t.Errorf("SDK v2 %+v: %d entries, want %d (%s)", c, len(got), len(want), firstDiff(got, want))
		}
	}

	var got []entry
	marker := ""
	for {
		out, err := cl.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("lake"), Delimiter: aws.String("/"), Prefix: aws.String("data/"), MaxKeys: aws.Int32(100), Marker: aws.String(marker)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			got = append(got, entry{name: aws.ToString(o.Key)})
		}
		for _, cp := range out.CommonPrefixes {
			got = append(got, entry{name: aws.ToString(cp.Prefix), prefix: true})
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = aws.ToString(out.NextMarker)
	}
	if want := model(keys, "data/", "/", ""); !slices.Equal(got, want) {
		t.Errorf("SDK v1: %d entries, want %d", len(got), len(want))
	}

	bs, err := cl.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(bs.Buckets) != 1 || aws.ToString(bs.Buckets[0].Name) != "lake" || bs.Buckets[0].CreationDate == nil {
		t.Errorf("ListBuckets = %+v, %v", bs, err)
	}
	var ae smithy.APIError
	if _, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nosuch")}); !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchBucket" {
		t.Errorf("unknown bucket: %v", err)
	}
	if _, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), ContinuationToken: aws.String("bogus")}); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidArgument" {
		t.Errorf("bad token: %v", err)
	}
}

// sdkDecode undoes encoding-type=url: aws-sdk-go-v2 hands the encoded
// form to the caller.
func sdkDecode(t *testing.T, s string, encoded bool) string {
	t.Helper()
	if !encoded {
		return s
	}
	d, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return d
}
