package listing

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringcache/ringcache/understore"
)

// TestBigPrefixStreams lists a 100,000-key prefix of the local store page
// by page: no request holds more than one page of 1,000 entries, the
// listing is complete and in order, and a second listing within the TTL
// costs no under-store call.
func TestBigPrefixStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 files")
	}
	const dirs, perDir = 100, 1000
	dir := t.TempDir()
	for d := range dirs {
		p := filepath.Join(dir, "lake", "big", fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := range perDir {
			if err := os.WriteFile(filepath.Join(p, fmt.Sprintf("f%04d", f)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cs := &countingStore{inner: openStore(t, understore.Config{URL: "file://" + dir})}
	l := newLister(t, cs, Config{TTL: time.Hour, MaxEntries: 200})
	for round := range 2 {
		start := time.Now()
		q := Query{Bucket: "lake", Prefix: "big/", MaxKeys: 1000, V2: true}
		total, peak, pages := 0, 0, 0
		last := ""
		for {
			r, err := l.ListObjects(ctxT(t), q)
			if err != nil {
				t.Fatal(err)
			}
			res := r.(*ListBucketResultV2)
			pages++
			peak = max(peak, res.KeyCount)
			for _, o := range res.Contents {
				if o.Key <= last {
					t.Fatalf("key %q after %q", o.Key, last)
				}
				last = o.Key
			}
			total += len(res.Contents)
			if !res.IsTruncated {
				break
			}
			q.ContinuationToken = res.NextContinuationToken
		}
		if total != dirs*perDir || peak != 1000 || pages != 100 {
			t.Fatalf("round %d: %d keys in %d pages, peak %d per page", round, total, pages, peak)
		}
		t.Logf("round %d: %d keys, %d pages, peak %d entries per page, %d under-store List calls so far, %v",
			round, total, pages, peak, cs.lists.Load(), time.Since(start).Round(time.Millisecond))
	}
	if n := cs.lists.Load(); n != 100 {
		t.Errorf("two listings: %d List calls, want 100", n)
	}
}
