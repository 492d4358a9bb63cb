package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/understore"
)

func TestReadBackHitRatio(t *testing.T) {
	for _, c := range []struct {
		name string
		r    ReadBack
		want float64
		ok   bool
	}{
		{"pages all hit", ReadBack{HasPages: true, PagesHit: 64, Bytes: 64 << 20}, 1, true},
		{"pages half", ReadBack{HasPages: true, PagesHit: 2, PagesMissed: 2}, 0.5, true},
		// Pages win over the byte count when both are known.
		{"pages over bytes", ReadBack{HasPages: true, PagesHit: 4, Bytes: 100, UnderstoreBytes: 100, UnderstoreFrom: FromMetrics}, 1, true},
		{"metrics no under-store bytes", ReadBack{Bytes: 1 << 20, UnderstoreFrom: FromMetrics}, 1, true},
		{"metrics a quarter missed", ReadBack{Bytes: 400, UnderstoreBytes: 100, UnderstoreFrom: FromMetrics}, 0.75, true},
		// Other traffic may add under-store bytes: never below 0.
		{"metrics more than read", ReadBack{Bytes: 100, UnderstoreBytes: 900, UnderstoreFrom: FromMetrics}, 0, true},
		{"unknown", ReadBack{Bytes: 100}, 0, false},
		{"nothing read", ReadBack{UnderstoreFrom: FromMetrics}, 0, false},
	} {
		got, ok := c.r.HitRatio()
		if got != c.want || ok != c.ok {
			t.Errorf("%s: HitRatio = %g, %v; want %g, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestCompareWrites(t *testing.T) {
	target := WriteRun{BytesPerSec: 90, Latency: Latency{P50Us: 200, P99Us: 400}}
	direct := WriteRun{BytesPerSec: 100, Latency: Latency{P50Us: 180, P99Us: 800}}
	after := ReadBack{Latency: Latency{P50Us: 10, P99Us: 50}}
	cold := ReadBack{Latency: Latency{P50Us: 300, P99Us: 500}}
	got := CompareWrites(target, direct, after, cold)
	want := WriteRatios{Throughput: 0.9, WriteP50: 0.9, WriteP99: 2, ReadP50: 30, ReadP99: 10}
	if got != want {
		t.Errorf("CompareWrites = %+v, want %+v", got, want)
	}
	if z := CompareWrites(WriteRun{}, direct, ReadBack{}, cold); z.Throughput != 0 || z.ReadP50 != 0 || z.WriteP50 != 0 {
		t.Errorf("undefined ratios must be 0: %+v", z)
	}
}

func TestUnderstoreBytesOf(t *testing.T) {
	const page = `# HELP ringcache_read_bytes_total Bytes served.
# TYPE ringcache_read_bytes_total counter
ringcache_read_bytes_total{source="local"} 5.24288e+06
ringcache_read_bytes_total{source="peer"} 0
ringcache_read_bytes_total{source="understore"} 1.048576e+06
ringcache_read_bytes_totally{source="understore"} 7
`
	n, err := UnderstoreBytesOf(strings.NewReader(page))
	if err != nil || n != 1<<20 {
		t.Fatalf("got %d, %v; want %d", n, err, 1<<20)
	}
	n, err = UnderstoreBytesOf(strings.NewReader(`ringcache_read_bytes_total{node="a",source="understore"} 12 1700000000000` + "\n"))
	if err != nil || n != 12 {
		t.Errorf("with another label and a timestamp: %d, %v", n, err)
	}
	if _, err := UnderstoreBytesOf(strings.NewReader("ringcache_read_bytes_total{source=\"local\"} 1\n")); !errors.Is(err, errNoSeries) {
		t.Errorf("no series: %v", err)
	}
	if _, err := UnderstoreBytesOf(strings.NewReader("ringcache_read_bytes_total{source=\"understore\"} x\n")); err == nil {
		t.Error("bad value accepted")
	}
}

func TestWriteConfigValidate(t *testing.T) {
	if err := (WriteConfig{}).Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	d := WriteConfig{}.WithDefaults()
	if d.Objects != DefaultWriteObjects || d.ObjectSize != 64<<20 || d.Prefix != DefaultPrefix {
		t.Errorf("defaults %+v", d)
	}
	for _, c := range []WriteConfig{{Objects: -1}, {ObjectSize: -1}, {ObjectSize: 2 << 30}, {Prefix: "lake"}, {Prefix: "/lake/x/"}} {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if d.PutPath(3) == d.DirectPath(3) || d.putKey(3) == d.directKey(3) {
		t.Error("a round's two objects share a path or contents")
	}
}

func TestContentReadSeeker(t *testing.T) {
	seed := testseed.New(t)
	key := ContentKey(seed, 1, 1)
	want := make([]byte, 1000)
	Fill(want, key, 0)
	r := ContentReadSeeker(key, 1000)
	if _, err := io.CopyN(io.Discard, r, 600); err != nil {
		t.Fatal(err)
	}
	if off, err := r.Seek(0, io.SeekStart); off != 0 || err != nil {
		t.Fatalf("seek start: %d, %v", off, err)
	}
	got, _ := io.ReadAll(r)
	if !bytes.Equal(got, want) {
		t.Error("bytes after a rewind differ")
	}
	if off, err := r.Seek(-10, io.SeekEnd); off != 990 || err != nil {
		t.Errorf("seek end: %d, %v", off, err)
	}
	if _, err := r.Seek(1, io.SeekEnd); err == nil {
		t.Error("seek past the end accepted")
	}
}

// TestRunWriteThroughStore drives the runner over a real local
// under-store on both sides (no cluster): the accounting, the
// verification and the table, with hits unknown.
func TestRunWriteThroughStore(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lake"), 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := understore.Open(context.Background(), understore.Config{URL: "file://" + dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := WriteConfig{Objects: 3, ObjectSize: 100_003, Seed: testseed.New(t)}
	var rounds int
	rep, err := RunWriteThrough(context.Background(), cfg, WriteThrough{
		Target: StoreWriteTarget(st), Reader: StoreTarget(st), Direct: StoreWriteTarget(st),
		OnRound: func(r Round) {
			rounds++
			if r.Err != nil || r.Write <= 0 || r.ReadAfterWrite <= 0 || r.Direct <= 0 || r.ColdRead <= 0 {
				t.Errorf("round %+v", r)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rounds != 3 {
		t.Errorf("%d rounds", rounds)
	}
	for _, w := range []WriteRun{rep.Target, rep.Direct} {
		if w.Objects != 3 || w.Errors != 0 || w.Bytes != 3*100_003 || w.BytesPerSec <= 0 || w.Latency.P50Us <= 0 {
			t.Errorf("write run %+v", w)
		}
	}
	for _, r := range []ReadBack{rep.ReadAfterWrite, rep.Cold} {
		if r.Reads != 3 || r.Errors != 0 || r.WrongBytes != 0 || r.Bytes != 3*100_003 {
			t.Errorf("read back %+v", r)
		}
		if _, ok := r.HitRatio(); ok {
			t.Errorf("%s: the under-store reader reports no pages, hit ratio must be unknown", r.Name)
		}
	}
	if rep.Ratios.Throughput <= 0 || rep.Ratios.ReadP50 <= 0 {
		t.Errorf("ratios %+v", rep.Ratios)
	}
	var out bytes.Buffer
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"understore write", "under-store write", "write MiB/s", "read after write", "cold read", "wrong bytes", "understore vs under-store:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	// A wrong object is caught: overwrite round 0's object behind the
	// runner's back and read it as the runner would.
	bad := make([]byte, 1)
	Fill(bad, cfg.WithDefaults().putKey(0), 0)
	bad[0] ^= 0xff
	if _, err := st.Put(context.Background(), cfg.WithDefaults().PutPath(0), bytes.NewReader(bad), 1); err != nil {
		t.Fatal(err)
	}
	r := &writeThroughRun{cfg: cfg.WithDefaults(), wt: WriteThrough{Reader: StoreTarget(st)}, buf: make([]byte, 1)}
	if _, _, _, err := r.read(context.Background(), &r.afterWrite, cfg.WithDefaults().PutPath(0), cfg.WithDefaults().putKey(0)); err == nil || r.afterWrite.wrong != 1 {
		t.Errorf("wrong byte not caught: %v, %d", err, r.afterWrite.wrong)
	}
}
