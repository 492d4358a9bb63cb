package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestUnderStoreRequests counts what reads through the gateways cost the
// under-store (the counting store wraps the one the nodes are given).
// Pages are 256 KiB (pageSize), so 1 MiB is four pages, which the owner
// fetches with one ranged request (coalescing).
func TestUnderStoreRequests(t *testing.T) {
	c := localCluster(t, 3, "sigv4")
	ctx := context.Background()
	get := func(t *testing.T, node int, key string, rng *string) []byte {
		t.Helper()
		out, err := sdk(c.endpoint(node), testAccess, testSecret).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String(key), Range: rng})
		if err != nil {
			t.Fatalf("node %d: GET %s: %v", node, key, err)
		}
		return readAll(t, out.Body)
	}

	t.Run("cold 1 MiB GET is one request, warm is none", func(t *testing.T) {
		for i, via := range []string{"owner", "non-owner"} {
			key := c.keyOwnedByFirst(t, "lake", "cold/"+via+"-", ".bin")
			data := randomBytes(uint64(20+i), 1<<20)
			c.put(t, "lake/"+key, data)
			n := i // node 0 owns key

			before := c.store.snapshot()
			mustEqual(t, via+" cold GET", get(t, n, key, nil), data)
			if got := c.store.since(before); got.requests() != 1 {
				t.Errorf("cold 1 MiB GET through the %s: %+v, want exactly 1 under-store request", via, got)
			}
			before = c.store.snapshot()
			for j := range c.lc.Nodes {
				mustEqual(t, "warm GET", get(t, j, key, nil), data)
				rng := fmt.Sprintf("bytes=%d-%d", pageSize-3, 3*pageSize+3)
				mustEqual(t, "warm range", get(t, j, key, &rng), data[pageSize-3:3*pageSize+4])
			}
			if got := c.store.since(before); got.requests() != 0 {
				t.Errorf("warm GETs through every node: %+v, want 0", got)
			}
		}
	})

	t.Run("HEAD after GET is none", func(t *testing.T) {
		data := randomBytes(30, 5000)
		c.put(t, "lake/head/x.bin", data)
		owner, other := c.owners(t, "lake/head/x.bin")
		mustEqual(t, "GET", get(t, other, "head/x.bin", nil), data)
		before := c.store.snapshot()
		for _, n := range []int{owner, other} {
			out, err := sdk(c.endpoint(n), testAccess, testSecret).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("head/x.bin")})
			if err != nil || aws.ToInt64(out.ContentLength) != int64(len(data)) {
				t.Fatalf("HEAD: %v", err)
			}
		}
		if got := c.store.since(before); got.requests() != 0 {
			t.Errorf("HEAD within the sync interval after a GET: %+v, want 0", got)
		}
	})

	t.Run("16 concurrent cold readers", func(t *testing.T) {
		const pages = 6
		data := randomBytes(40, pages*pageSize)
		c.put(t, "lake/conc/x.bin", data)
		before := c.store.snapshot()
		var wg sync.WaitGroup
		got := make([][]byte, 16)
		errs := make([]error, 16)
		for i := range 16 {
			wg.Go(func() {
				out, err := sdk(c.endpoint(i%len(c.lc.Nodes)), testAccess, testSecret).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("conc/x.bin")})
				if err != nil {
					errs[i] = err
					return
				}
				var b bytes.Buffer
				_, errs[i] = b.ReadFrom(out.Body)
				out.Body.Close()
				got[i] = b.Bytes()
			})
		}
		wg.Wait()
		for i := range 16 {
			if errs[i] != nil {
				t.Fatalf("reader %d: %v", i, errs[i])
			}
			mustEqual(t, fmt.Sprintf("reader %d", i), got[i], data)
		}
		cost := c.store.since(before)
		if cost.requests() > pages || cost.readBytes > int64(len(data)) {
			t.Errorf("16 concurrent readers of a cold %d-page object: %+v, want at most %d requests and %d bytes", pages, cost, pages, len(data))
		}
		t.Logf("16 concurrent cold readers of %d pages: %d under-store requests, %d bytes", pages, cost.requests(), cost.readBytes)
	})

	t.Run("100 bytes of 1 GiB fetch one page", func(t *testing.T) {
		// Sparse: 1 GiB of zeros that cost no disk, except 100 bytes.
		key := c.keyOwnedByFirst(t, "lake", "huge-", ".bin")
		p := filepath.Join(c.dir, "lake", key)
		const off = 700<<20 + 12345
		marker := randomBytes(50, 100)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(marker, off); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.Truncate(p, 1<<30); err != nil {
			t.Fatal(err)
		}
		before := c.store.snapshot()
		rng := fmt.Sprintf("bytes=%d-%d", off, off+99)
		mustEqual(t, "100-byte range", get(t, 2, key, &rng), marker)
		cost := c.store.since(before)
		if cost.requests() != 1 || cost.readBytes > pageSize {
			t.Errorf("100-byte ranged GET of 1 GiB: %+v, want 1 request of at most one page (%d bytes)", cost, pageSize)
		}
	})
}
