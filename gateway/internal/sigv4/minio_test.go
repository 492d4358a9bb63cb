package sigv4

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func TestMinioClientSignaturesVerify(t *testing.T) {
	g := newGateway(t, nil)
	u, err := url.Parse(g.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(testAK, testSK, ""),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(0, 4); err != nil {
		t.Fatal(err)
	}
	obj, err := c.GetObject(ctx, "bucket", oddKey, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(obj); err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	obj.Close()
	if _, err := c.StatObject(ctx, "bucket", oddKey, minio.StatObjectOptions{}); err != nil {
		t.Fatalf("StatObject: %v", err)
	}
	for o := range c.ListObjects(ctx, "bucket", minio.ListObjectsOptions{Prefix: oddKey}) {
		if o.Err != nil {
			t.Fatalf("ListObjects: %v", o.Err)
		}
	}
	pu, err := c.PresignedGetObject(ctx, "bucket", oddKey, time.Minute, url.Values{"response-content-type": {"text/plain"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pu.RawQuery, "X-Amz-Signature") {
		t.Fatalf("presigned URL %s", pu)
	}
	resp, err := http.Get(pu.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	g.requireAllValid(t)
}
