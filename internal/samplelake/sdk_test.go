package samplelake_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/internal/samplelake"
	"github.com/ringcache/ringcache/node"
	"github.com/ringcache/ringcache/understore"
)

// readAt is one ReadAt call an engine made.
type readAt struct{ off, n int64 }

// recordingReaderAt records the ranged reads a Parquet reader makes.
type recordingReaderAt struct {
	r     io.ReaderAt
	mu    sync.Mutex
	reads []readAt
}

func (r *recordingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	r.reads = append(r.reads, readAt{off, int64(len(p))})
	r.mu.Unlock()
	return r.r.ReadAt(p, off)
}

// The sample files read through the Go SDK as an engine reads them (footer,
// then column chunks, each a ranged ReadAt on client.File) are the files
// Seed wrote, cold (from the under-store) and warm (from the cache).
func TestSampleLakeReadsThroughTheSDK(t *testing.T) {
	dir, sum := seedLake(t)
	under, err := understore.Open(context.Background(), understore.Config{URL: "file://" + dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { under.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster, err := node.StartLocalCluster(ctx, node.LocalClusterConfig{Nodes: 3, BaseDir: t.TempDir(), UnderStore: under,
		Template: node.Config{PageSize: 1 << 20, Capacity: 256 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Close(context.Background()) })
	cl, err := client.New(ctx, client.Config{Seeds: cluster.GRPCAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })

	for _, pass := range []string{"cold", "warm"} {
		var rows, cents int64
		for _, want := range sum.Files {
			if !want.Parquet() {
				continue
			}
			var st client.ReadStats
			f, err := cl.Open(ctx, want.Path, client.WithStats(&st))
			if err != nil {
				t.Fatal(err)
			}
			rec := &recordingReaderAt{r: f}
			if err := samplelake.Verify(rec, f.Size(), want); err != nil {
				t.Fatalf("%s pass: %v", pass, err)
			}
			checkEngineReads(t, want, rec.reads)
			if pass == "warm" && (st.BytesUnderstore != 0 || st.BytesDirect != 0) {
				t.Errorf("warm %s: %d bytes from the under-store, %d direct", want.Path, st.BytesUnderstore, st.BytesDirect)
			}
			rows += want.Rows
			cents += want.FareCents
		}
		if rows != sum.Rows || cents != sum.FareCents {
			t.Errorf("%s pass: %d rows, %d cents; summary %d, %d", pass, rows, cents, sum.Rows, sum.FareCents)
		}
	}
}

// checkEngineReads checks the read pattern of samplelake.ScanColumn: the
// footer first, in one small read at the end, then one read per row group
// (its fare column chunk), well short of reading the whole file.
func checkEngineReads(t *testing.T, f samplelake.File, reads []readAt) {
	t.Helper()
	if len(reads) != 1+f.RowGroups {
		t.Fatalf("%s: %d reads, want the footer and %d column chunks: %v", f.Path, len(reads), f.RowGroups, reads)
	}
	if footer := reads[0]; footer.n != samplelake.FooterReadSize || footer.off+footer.n != f.Size {
		t.Errorf("%s: first read [%d, +%d), want the last %d bytes of %d", f.Path, footer.off, footer.n, samplelake.FooterReadSize, f.Size)
	}
	var total int64
	for _, r := range reads {
		total += r.n
	}
	if total > f.Size/3 {
		t.Errorf("%s: read %d of %d bytes for one column of eight", f.Path, total, f.Size)
	}
}
