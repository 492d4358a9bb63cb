package bench

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringcache/ringcache/internal/testseed"
	"github.com/ringcache/ringcache/understore"
)

func within(t *testing.T, what string, got, want time.Duration, rel float64) {
	t.Helper()
	if math.Abs(float64(got-want)) > rel*float64(want) {
		t.Errorf("%s = %v, want %v (±%.2f%%)", what, got, want, 100*rel)
	}
}

func TestHistogramKnownInputs(t *testing.T) {
	// 1..10000 µs, each once: the nearest-rank q-quantile is q*10000 µs.
	var h Histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	if h.Count() != 10000 {
		t.Fatalf("count %d", h.Count())
	}
	for _, q := range []float64{0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999} {
		want := time.Duration(math.Ceil(q*10000)) * time.Microsecond
		within(t, "q"+strconv.FormatFloat(q, 'g', -1, 64), h.Quantile(q), want, 0.004)
	}
	if h.Quantile(1) != 10*time.Millisecond || h.Max() != 10*time.Millisecond || h.Min() != time.Microsecond {
		t.Errorf("max/min: q1 %v max %v min %v", h.Quantile(1), h.Max(), h.Min())
	}
	if h.Quantile(0) != time.Microsecond {
		t.Errorf("q0 = %v, want the min", h.Quantile(0))
	}
	// Mean is exact: (1+10000)/2 µs.
	if h.Mean() != 5000500*time.Nanosecond {
		t.Errorf("mean %v", h.Mean())
	}

	// Small values are exact.
	var s Histogram
	for i := 1; i <= 100; i++ {
		s.Record(time.Duration(i))
	}
	for _, q := range []float64{0.01, 0.5, 0.99} {
		if got, want := s.Quantile(q), time.Duration(math.Ceil(q*100)); got != want {
			t.Errorf("small q%g = %v, want %v", q, got, want)
		}
	}

	// A bimodal mix: 90 fast (100µs) and 10 slow (20ms) reads.
	var m Histogram
	for range 90 {
		m.Record(100 * time.Microsecond)
	}
	for range 10 {
		m.Record(20 * time.Millisecond)
	}
	within(t, "bimodal p50", m.Quantile(0.5), 100*time.Microsecond, 0.004)
	within(t, "bimodal p90", m.Quantile(0.9), 100*time.Microsecond, 0.004)
	within(t, "bimodal p95", m.Quantile(0.95), 20*time.Millisecond, 0.004)
	within(t, "bimodal mean", m.Mean(), 2090*time.Microsecond, 0)

	// Empty, negative and huge values.
	var e Histogram
	if e.Quantile(0.5) != 0 || e.Mean() != 0 {
		t.Error("empty histogram not zero")
	}
	e.Record(-time.Second)
	e.Record(100 * time.Hour)
	if e.Min() != 0 || e.Max() != 100*time.Hour || e.Quantile(1) != 100*time.Hour {
		t.Errorf("clamping: min %v max %v", e.Min(), e.Max())
	}
}

func TestHistogramRandomAgainstSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 1))
	var h, a, b Histogram
	var all []time.Duration
	for i := range 20000 {
		// Log-uniform from 1µs to 1s.
		d := time.Duration(math.Exp(rng.Float64()*math.Log(1e6)) * 1e3)
		all = append(all, d)
		h.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	sortDurations(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := all[int(math.Ceil(q*float64(len(all))))-1]
		within(t, "random q", h.Quantile(q), want, 0.004)
		if a.Quantile(q) != h.Quantile(q) {
			t.Errorf("merged q%g %v != %v", q, a.Quantile(q), h.Quantile(q))
		}
	}
	if a.Count() != h.Count() || a.Max() != h.Max() || a.Min() != h.Min() {
		t.Error("merge lost samples")
	}
}

func sortDurations(d []time.Duration) { slices.Sort(d) }

func TestHistogramBuckets(t *testing.T) {
	// Every value falls in the bucket whose bounds contain it, buckets
	// are contiguous and at most 1/128 of their values wide.
	prevEnd := int64(0)
	for i := range histBuckets {
		lo, w := histBounds(i)
		if lo != prevEnd {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevEnd)
		}
		if lo >= histExact && float64(w)/float64(lo) > 1.0/128+1e-12 {
			t.Fatalf("bucket %d [%d,+%d) too wide", i, lo, w)
		}
		for _, v := range []int64{lo, lo + w - 1} {
			if histIndex(v) != i {
				t.Fatalf("value %d in bucket %d, want %d", v, histIndex(v), i)
			}
		}
		prevEnd = lo + w
	}
	if prevEnd-1 != histMax {
		t.Fatalf("last bucket ends at %d, want %d", prevEnd-1, histMax)
	}
}

func TestHitRatio(t *testing.T) {
	for _, c := range []struct {
		hit, miss int64
		want      float64
		ok        bool
	}{
		{0, 0, 0, false}, {3, 1, 0.75, true}, {0, 5, 0, true}, {7, 0, 1, true}, {1, 2, 1.0 / 3, true},
	} {
		got, ok := HitRatio(c.hit, c.miss)
		if ok != c.ok || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("HitRatio(%d, %d) = %v, %v; want %v, %v", c.hit, c.miss, got, ok, c.want, c.ok)
		}
	}
	// The collector's arithmetic: per second and in total.
	col := newCollector()
	col.read(time.Millisecond, 10, ReadStats{PagesHit: 3, PagesMissed: 1, BytesLocal: 6, BytesUnderstore: 4}, Verdict{}, 0, nil)
	col.read(time.Millisecond, 10, ReadStats{PagesHit: 1, PagesMissed: 3, BytesPeer: 10}, Verdict{}, 0, nil)
	col.read(time.Millisecond, 0, ReadStats{}, Verdict{}, 0, errors.New("boom"))
	sec := col.cut(time.Second, time.Second)
	if sec.HitRatio != 0.5 || sec.Ops != 3 || sec.Errors != 1 || sec.Bytes != 20 || sec.OpsPerSec != 3 {
		t.Errorf("second: %+v", sec)
	}
	col.read(time.Millisecond, 10, ReadStats{PagesHit: 4}, Verdict{}, 0, nil)
	sum := col.summary("x", "cache", 2*time.Second)
	if !sum.HasHitRatio || sum.HitRatio != 8.0/12 || sum.BytesLocal != 6 || sum.BytesPeer != 10 || sum.BytesUnderstore != 4 {
		t.Errorf("summary: %+v", sum)
	}
	if sum.OpsPerSec != 2 || sum.FirstError != "boom" || sum.Read.P50Us != 1000 {
		t.Errorf("summary rates: %+v", sum)
	}
	if base := newCollector().summary("b", "understore", time.Second); base.HasHitRatio {
		t.Error("no pages looked up, yet a hit ratio")
	}
}

func TestContentFillAndMismatch(t *testing.T) {
	key := ContentKey(7, 3, 2)
	whole := make([]byte, 1000)
	Fill(whole, key, 0)
	// Any sub-range, at any alignment, is the same stream.
	for _, r := range [][2]int{{0, 1}, {3, 17}, {8, 16}, {13, 999}, {999, 1000}, {0, 1000}} {
		part := make([]byte, r[1]-r[0])
		Fill(part, key, int64(r[0]))
		if !bytes.Equal(part, whole[r[0]:r[1]]) {
			t.Fatalf("Fill at %d..%d differs from the whole", r[0], r[1])
		}
		if n := Mismatch(part, key, int64(r[0])); n != 0 {
			t.Fatalf("Mismatch of a correct range = %d", n)
		}
	}
	got, err := io.ReadAll(ContentReader(key, 1000))
	if err != nil || !bytes.Equal(got, whole) {
		t.Fatal("ContentReader differs from Fill")
	}
	other := make([]byte, 1000)
	Fill(other, ContentKey(7, 3, 3), 0)
	if bytes.Equal(other, whole) {
		t.Fatal("two generations have the same bytes")
	}
	if diffBytes(0) != 0 || diffBytes(0xff00000000000001) != 2 || diffBytes(^uint64(0)) != 8 || diffBytes(0x0080) != 1 {
		t.Fatal("diffBytes")
	}
}

func TestVerifyCatchesCorruption(t *testing.T) {
	const seed, file = 42, 5
	const off = 4099 // unaligned on purpose
	read := func(gen uint64) []byte {
		p := make([]byte, 64<<10)
		Fill(p, ContentKey(seed, file, gen), off)
		return p
	}
	// A correct read of the current generation.
	if v := Verify(read(2), seed, file, off, 2, 2); v.Wrong != 0 || v.Stale || v.Gen != 2 {
		t.Errorf("clean read: %+v", v)
	}
	// An older generation is stale, not wrong; a newer one (an overwrite
	// that raced the read) is neither.
	if v := Verify(read(0), seed, file, off, 2, 2); v.Wrong != 0 || !v.Stale || v.Gen != 0 {
		t.Errorf("stale read: %+v", v)
	}
	if v := Verify(read(3), seed, file, off, 3, 2); v.Wrong != 0 || v.Stale || v.Gen != 3 {
		t.Errorf("racing read: %+v", v)
	}
	// One flipped byte in the middle, three at the end.
	p := read(2)
	p[30000] ^= 0x40
	if v := Verify(p, seed, file, off, 2, 2); v.Wrong != 1 || v.Gen != 2 {
		t.Errorf("one corrupt byte: %+v", v)
	}
	p = read(1)
	for i := len(p) - 3; i < len(p); i++ {
		p[i]++
	}
	if v := Verify(p, seed, file, off, 2, 2); v.Wrong != 3 || v.Gen != 1 {
		t.Errorf("three corrupt bytes of gen 1: %+v", v)
	}
	// Corrupt first bytes match no generation: compared with the current.
	p = read(2)
	p[0] ^= 1
	if v := Verify(p, seed, file, off, 2, 2); v.Wrong != 1 || v.Gen != 2 {
		t.Errorf("corrupt first byte: %+v", v)
	}
	// Another file's bytes, and zeros: almost every byte wrong.
	q := make([]byte, 64<<10)
	Fill(q, ContentKey(seed, file+1, 2), off)
	if v := Verify(q, seed, file, off, 2, 2); v.Wrong < int64(len(q))*9/10 {
		t.Errorf("other file's bytes: %+v", v)
	}
	if v := Verify(make([]byte, 1024), seed, file, off, 2, 2); v.Wrong < 1000 {
		t.Errorf("zeros: %+v", v)
	}
}

func TestPicker(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.New(t), 2))
	// Scan: operation k reads chunk k of the concatenated files, wrapping.
	cfg := Config{Files: 3, FileSize: 10, ReadSize: 4, Access: AccessScan}.WithDefaults()
	p := NewPicker(cfg)
	var got []string
	for k := range int64(10) {
		op := p.Next(k, rng)
		got = append(got, strconv.Itoa(op.File)+":"+strconv.FormatInt(op.Offset, 10)+"+"+strconv.FormatInt(op.Length, 10))
	}
	want := "0:0+4 0:4+4 0:8+2 1:0+4 1:4+4 1:8+2 2:0+4 2:4+4 2:8+2 0:0+4"
	if strings.Join(got, " ") != want {
		t.Errorf("scan: %s, want %s", strings.Join(got, " "), want)
	}
	if cfg.Ops != 9 {
		t.Errorf("scan default ops %d, want one pass (9)", cfg.Ops)
	}
	// Zipf: file 0 is the hottest and frequencies fall with rank.
	zp := NewPicker(Config{Files: 100, FileSize: 1 << 20, ReadSize: 1 << 16, Access: AccessZipf, ZipfS: 0.99})
	counts := make([]int, 100)
	for k := range int64(200000) {
		op := zp.Next(k, rng)
		counts[op.File]++
		if op.Offset%(1<<16) != 0 || op.Length != 1<<16 || op.Write {
			t.Fatalf("zipf op %+v", op)
		}
	}
	cdf := zipfCDF(100, 0.99)
	if f := float64(counts[0]) / 200000; math.Abs(f-cdf[0]) > 0.01 {
		t.Errorf("zipf P(file 0) = %.3f, want %.3f", f, cdf[0])
	}
	if counts[0] <= counts[9] || counts[9] <= counts[99] {
		t.Errorf("zipf counts not falling: %d %d %d", counts[0], counts[9], counts[99])
	}
	// Pool stays in the hot set; read ratio is honoured.
	pp := NewPicker(Config{Files: 100, PoolFiles: 5, FileSize: 100, ReadSize: 10, Access: AccessPool, ReadRatio: 0.8})
	writes := 0
	for k := range int64(10000) {
		op := pp.Next(k, rng)
		if op.File >= 5 {
			t.Fatalf("pool op on file %d", op.File)
		}
		if op.Write {
			writes++
		}
	}
	if writes < 1700 || writes > 2300 {
		t.Errorf("%d writes of 10000 at read ratio 0.8", writes)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []Config{
		{Threads: -1}, {ReadRatio: 1.5}, {ReadRatio: -0.1}, {FileSize: 10, ReadSize: 11}, {Access: "random"},
		{ZipfS: -1}, {Files: 3, PoolFiles: 4}, {Prefix: "nobucket"}, {Prefix: "lake/x"}, {Ops: -1},
	} {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v, want ErrConfig", c, err)
		}
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	rep := &Report{Version: 1, Started: time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC), Seed: 99,
		Workload: WorkloadOf(Config{Access: AccessPool, Files: 20}), Cluster: "dev", LoadAvg: "1.0 2.0 3.0", GoMaxProc: 2}
	var h Histogram
	h.Record(3 * time.Millisecond)
	rep.Runs = []Run{{
		Summary: Summary{Name: "cold", Target: "cache", Elapsed: 1.5, Counts: Counts{Ops: 10, Reads: 9, Writes: 1, PagesHit: 1, PagesMissed: 8, StaleReads: 2},
			OpsPerSec: 6.67, HitRatio: 1.0 / 9, HasHitRatio: true, Read: LatencyOf(&h), FirstError: "x"},
		Series: []Second{{T: 1, Dur: 1, Counts: Counts{Ops: 7}, OpsPerSec: 7, Read: LatencyOf(&h)}, {T: 1.5, Dur: 0.5, Counts: Counts{Ops: 3}, OpsPerSec: 6}},
	}, {Summary: Summary{Name: "no-cache", Target: "understore", Elapsed: 2, Counts: Counts{Ops: 10}, OpsPerSec: 5}}}
	rep.Ratios = []Ratio{Compare(rep.Runs[0].Summary, rep.Runs[1].Summary)}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadReport(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := back.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatalf("round trip differs:\n%s\n---\n%s", buf.String(), again.String())
	}
	if back.Runs[0].Series[1].Ops != 3 || back.Runs[0].Summary.StaleReads != 2 || back.Workload.PoolFiles != 2 || back.Ratios[0].Elapsed != 4.0/3 {
		t.Errorf("fields lost: %+v", back)
	}
	if _, err := ReadReport(strings.NewReader(`{"version": 2}`)); err == nil {
		t.Error("version 2 accepted")
	}
	if _, err := ReadReport(strings.NewReader(`{"version": 1, "bogus": 1}`)); err == nil {
		t.Error("unknown field accepted")
	}
}

func TestCompare(t *testing.T) {
	a := Summary{Name: "warm", Counts: Counts{Ops: 100}, Elapsed: 1, OpsPerSec: 100, Read: Latency{AvgUs: 200, P50Us: 100, P99Us: 1000}}
	b := Summary{Name: "cold", Counts: Counts{Ops: 100}, Elapsed: 60, OpsPerSec: 100.0 / 60, Read: Latency{AvgUs: 20000, P50Us: 20000, P99Us: 40000}}
	r := Compare(a, b)
	if math.Abs(r.Throughput-60) > 1e-9 || r.Elapsed != 60 || r.AvgLatency != 100 || r.P50 != 200 || r.P99 != 40 {
		t.Errorf("%+v", r)
	}
	b.Ops = 99
	if Compare(a, b).Elapsed != 0 {
		t.Error("elapsed ratio of unequal work")
	}
	if Compare(a, Summary{}).Throughput != 0 {
		t.Error("ratio against nothing")
	}
}

func TestChartsAndPlots(t *testing.T) {
	runs := []Run{
		{Summary: Summary{Name: "cold", HasHitRatio: true}, Series: []Second{{T: 1, OpsPerSec: 40, HitRatio: 0, Read: Latency{P50Us: 20000, P99Us: 45000}}, {T: 2, OpsPerSec: 45, Read: Latency{P50Us: 21000, P99Us: 44000}}}},
		{Summary: Summary{Name: "warm", HasHitRatio: true}, Series: []Second{{T: 1, OpsPerSec: 3000, HitRatio: 1, Read: Latency{P50Us: 150, P99Us: 900}}}},
	}
	txt := TerminalCharts(runs, 60)
	for _, want := range []string{"p99 read latency", "45.0ms", "operations per second", "3.0k", "100%", "cold", "warm", "█", "┊"} {
		if !strings.Contains(txt, want) {
			t.Errorf("charts lack %q:\n%s", want, txt)
		}
	}
	for _, line := range strings.Split(txt, "\n") {
		if n := len([]rune(line)); n > 60+12 {
			t.Errorf("chart line %d wide: %q", n, line)
		}
	}
	dir := t.TempDir()
	paths, err := WritePlots(dir, runs)
	if err != nil || len(paths) != 3 {
		t.Fatalf("plots %v, %v", paths, err)
	}
	f, err := os.Open(filepath.Join(dir, "latency.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() != 900 {
		t.Fatalf("latency.png: %v %v", err, img.Bounds())
	}
	// Something but the background was drawn in the plot area.
	inked := 0
	for y := 40; y < 370; y += 3 {
		for x := 95; x < 880; x += 3 {
			if r, g, b, _ := img.At(x, y).RGBA(); r != 0xffff || g != 0xffff || b != 0xffff {
				inked++
			}
		}
	}
	if inked < 100 {
		t.Errorf("latency.png looks empty (%d inked samples)", inked)
	}
}

// memStore is an in-memory Writer and Target for the runner's own tests; the
// real cluster runs in internal/app's end-to-end test.
type memStore struct {
	files map[string][]byte
	flip  bool // corrupt one byte of every read
}

func (m *memStore) Put(_ context.Context, p string, r io.Reader, size int64) (understore.ObjectInfo, error) {
	b, err := io.ReadAll(r)
	if err != nil || int64(len(b)) != size {
		return understore.ObjectInfo{}, errors.New("short put")
	}
	m.files[p] = b
	return understore.ObjectInfo{Path: p, Size: size}, nil
}

func (m *memStore) Kind() string { return "cache" }

func (m *memStore) ReadAt(_ context.Context, p string, b []byte, off int64) (int, ReadStats, error) {
	n := copy(b, m.files[p][off:])
	if m.flip && n > 10 {
		b[10] ^= 0xff
	}
	return n, ReadStats{BytesLocal: int64(n), PagesHit: 1}, nil
}

func TestRunVerifiesReads(t *testing.T) {
	seed := testseed.New(t)
	for _, flip := range []bool{false, true} {
		m := &memStore{files: map[string][]byte{}}
		// One thread: the in-memory store is not safe for concurrent use.
		b, err := New(Config{Threads: 1, Ops: 500, Files: 4, FileSize: 1000, ReadSize: 300, Access: AccessUniform, Seed: seed, ReadRatio: 0.9}, m)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Setup(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		m.flip = flip
		r, err := b.Run(context.Background(), m, RunOptions{Name: "mem"})
		if err != nil {
			t.Fatal(err)
		}
		s := r.Summary
		if s.Ops != 500 || s.Reads+s.Writes != 500 || s.Writes == 0 || s.Errors != 0 {
			t.Fatalf("flip %v: %+v", flip, s)
		}
		if !flip && (s.WrongBytes != 0 || s.StaleReads != 0) {
			t.Errorf("clean store: %d wrong bytes, %d stale", s.WrongBytes, s.StaleReads)
		}
		if flip && (s.WrongReads != s.Reads || s.WrongBytes != s.Reads) {
			t.Errorf("corrupting store: %d wrong bytes in %d wrong reads of %d", s.WrongBytes, s.WrongReads, s.Reads)
		}
		if !s.HasHitRatio || s.HitRatio != 1 {
			t.Errorf("hit ratio %v", s.HitRatio)
		}
	}
}
