package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ringcache/ringcache/node"
)

// waitFor polls cond every 20 ms until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		<-tick.C
	}
	t.Logf("%s: after %v", what, time.Since(start).Round(time.Millisecond))
}

// TestObjectChanges: an object replaced or deleted behind the cluster's
// back is served as the new version (or NoSuchKey) once the sync interval
// has passed, and no GET, whole or ranged, ever mixes two versions, while
// readers run through both nodes during the change.
func TestObjectChanges(t *testing.T) {
	const syncInterval = 300 * time.Millisecond
	c := localClusterWith(t, 2, "sigv4", func(cfg *node.Config) { cfg.SyncInterval = syncInterval })
	v1, v2 := randomBytes(100, 3<<20+11), randomBytes(101, 2<<20+5)
	path := filepath.Join(c.dir, "lake", "chg", "x.bin")
	replace := func(data []byte) {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	c.put(t, "lake/chg/x.bin", v1)
	ctx := context.Background()
	clients := []*s3.Client{sdk(c.endpoint(0), testAccess, testSecret), sdk(c.endpoint(1), testAccess, testSecret)}
	for _, cl := range clients {
		mustEqual(t, "v1", readAll(t, mustGet(t, cl, "chg/x.bin")), v1)
	}

	// versionOf names the version whose size a response declares.
	versionOf := func(size int64) []byte {
		switch size {
		case int64(len(v1)):
			return v1
		case int64(len(v2)):
			return v2
		}
		return nil
	}
	var (
		stop            atomic.Bool
		wg              sync.WaitGroup
		mixed, cut, ok2 atomic.Int64
		firstMixed      atomic.Value
		errMu           sync.Mutex
		errCodes        = map[string]int{}
	)
	for i := range 4 {
		wg.Go(func() {
			cl := clients[i%2]
			for n := 0; !stop.Load(); n++ {
				in := &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("chg/x.bin")}
				var start int64
				if n%2 == 1 {
					start = int64(n*7919) % (2 << 20)
					in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", start, start+(1<<20)+3))
				}
				out, err := cl.GetObject(ctx, in)
				if err != nil {
					// The version changed before the header: an error is
					// fine (a mix is not), but which one is noted.
					errMu.Lock()
					errCodes[apiCode(err)]++
					errMu.Unlock()
					continue
				}
				b, err := io.ReadAll(out.Body)
				out.Body.Close()
				if err != nil {
					cut.Add(1) // cut short mid-body: the client sees a failed GET
					continue
				}
				size := aws.ToInt64(out.ContentLength)
				if in.Range != nil {
					var a, z int64
					fmt.Sscanf(aws.ToString(out.ContentRange), "bytes %d-%d/%d", &a, &z, &size)
				}
				v := versionOf(size)
				if v == nil || !bytes.Equal(b, v[start:start+int64(len(b))]) {
					mixed.Add(1)
					firstMixed.CompareAndSwap(nil, fmt.Sprintf("range %v: %d bytes, size %d, etag %s", aws.ToString(in.Range), len(b), size, aws.ToString(out.ETag)))
				} else if size == int64(len(v2)) {
					ok2.Add(1)
				}
			}
		})
	}
	replace(v2)
	waitFor(t, "every node serves v2", 15*time.Second, func() bool {
		for _, cl := range clients {
			out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("chg/x.bin")})
			if err != nil {
				return false
			}
			b, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(b, v2) {
				return false
			}
		}
		return true
	})
	waitFor(t, "a reader sees v2", 15*time.Second, func() bool { return ok2.Load() > 0 })
	stop.Store(true)
	wg.Wait()
	if n := mixed.Load(); n > 0 {
		t.Errorf("%d GETs mixed versions or sizes; first: %v", n, firstMixed.Load())
	}
	t.Logf("during the change: %d GETs cut short mid-body, %d of v2, errors %v", cut.Load(), ok2.Load(), errCodes)

	for _, cl := range clients {
		h, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("chg/x.bin")})
		if err != nil || aws.ToInt64(h.ContentLength) != int64(len(v2)) {
			t.Errorf("HEAD after the change: %v", err)
		}
	}
	waitFor(t, "the listing shows v2's size", 15*time.Second, func() bool {
		out, err := clients[1].ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake"), Prefix: aws.String("chg/")})
		return err == nil && len(out.Contents) == 1 && aws.ToInt64(out.Contents[0].Size) == int64(len(v2))
	})

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every node answers NoSuchKey after the delete", 15*time.Second, func() bool {
		for _, cl := range clients {
			_, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("chg/x.bin")})
			if apiCode(err) != "NoSuchKey" {
				return false
			}
			_, err = cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("chg/x.bin")})
			var nf interface{ ErrorCode() string }
			if !errors.As(err, &nf) {
				return false
			}
		}
		return true
	})
}
