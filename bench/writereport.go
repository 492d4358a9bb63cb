package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteRun is what one write target did in a write-through run.
type WriteRun struct {
	Target  string `json:"target"`  // "gateway", "sdk" or "understore"
	Objects int64  `json:"objects"` // writes that succeeded
	Errors  int64  `json:"errors"`
	Bytes   int64  `json:"bytes"`
	// WriteSec is the time spent in successful writes; BytesPerSec is
	// Bytes over it (one write at a time, so this is one stream's rate).
	WriteSec    float64 `json:"write_sec"`
	BytesPerSec float64 `json:"bytes_per_sec"`
	Latency     Latency `json:"latency"`
	FirstError  string  `json:"first_error,omitempty"`
}

// Understore byte sources of ReadBack.UnderstoreFrom.
const (
	FromMetrics   = "metrics"    // the nodes' ringcache_read_bytes_total{source="understore"}
	FromReadStats = "read-stats" // the SDK's per-read statistics
)

// ReadBack is what the reads of one kind did in a write-through run: the
// read right after each write through the target, or the cold read of
// each object written straight to the under-store.
type ReadBack struct {
	Name       string `json:"name"` // "read-after-write" or "cold"
	Reads      int64  `json:"reads"`
	Errors     int64  `json:"errors"`
	Bytes      int64  `json:"bytes"`
	WrongBytes int64  `json:"wrong_bytes"`
	// Pages the reads hit and missed, when the reader reports them (SDK).
	PagesHit    int64 `json:"pages_hit"`
	PagesMissed int64 `json:"pages_missed"`
	HasPages    bool  `json:"has_pages"`
	// UnderstoreBytes is what the nodes read from the under-store for
	// these reads; UnderstoreFrom says how it was learnt ("" = unknown).
	UnderstoreBytes int64   `json:"understore_bytes"`
	UnderstoreFrom  string  `json:"understore_from,omitempty"`
	Latency         Latency `json:"latency"`
	FirstError      string  `json:"first_error,omitempty"`
}

// HitRatio is pages hit over pages read when the reader counts pages, else
// the bytes not read from the under-store over the bytes read; ok is false
// when neither is known.
func (r ReadBack) HitRatio() (ratio float64, ok bool) {
	if r.HasPages {
		return HitRatio(r.PagesHit, r.PagesMissed)
	}
	if r.UnderstoreFrom == "" || r.Bytes <= 0 {
		return 0, false
	}
	return float64(r.Bytes-min(r.UnderstoreBytes, r.Bytes)) / float64(r.Bytes), true
}

// WriteRatios compare the cluster side of a write-through run with the
// baseline; each is how many times better the cluster side is (> 1 is
// better, 0 when undefined).
type WriteRatios struct {
	// Throughput is the target's write bytes/s over the under-store's
	// (the goal: >= 0.9 at 64 MiB objects through the gateway).
	Throughput float64 `json:"write_throughput"`
	// WriteP50 and WriteP99: the under-store's write latency over the
	// target's.
	WriteP50 float64 `json:"write_p50"`
	WriteP99 float64 `json:"write_p99"`
	// ReadP50 and ReadP99: the cold read's latency over the read after a
	// write's.
	ReadP50 float64 `json:"read_p50"`
	ReadP99 float64 `json:"read_p99"`
}

// CompareWrites computes the ratios of a run.
func CompareWrites(target, direct WriteRun, afterWrite, cold ReadBack) WriteRatios {
	div := func(x, y float64) float64 {
		if y <= 0 || x <= 0 {
			return 0
		}
		return x / y
	}
	return WriteRatios{
		Throughput: div(target.BytesPerSec, direct.BytesPerSec),
		WriteP50:   div(direct.Latency.P50Us, target.Latency.P50Us),
		WriteP99:   div(direct.Latency.P99Us, target.Latency.P99Us),
		ReadP50:    div(cold.Latency.P50Us, afterWrite.Latency.P50Us),
		ReadP99:    div(cold.Latency.P99Us, afterWrite.Latency.P99Us),
	}
}

// WriteWorkload is the WriteConfig as written in a report.
type WriteWorkload struct {
	Objects           int     `json:"objects"`
	ObjectSize        int64   `json:"object_size"`
	Prefix            string  `json:"prefix"`
	Endpoint          string  `json:"endpoint,omitempty"` // the gateway's, for the gateway target
	SyncIntervalSec   float64 `json:"sync_interval_sec,omitempty"`
	UnderstoreDelayMs float64 `json:"understore_latency_ms,omitempty"`
}

// WriteReport is the result of a write-through run (what --json writes in
// that mode).
type WriteReport struct {
	Version        int           `json:"version"` // 1
	Mode           string        `json:"mode"`    // "write-through"
	Started        time.Time     `json:"started"`
	Seed           uint64        `json:"seed"`
	Workload       WriteWorkload `json:"workload"`
	Cluster        string        `json:"cluster"`
	Target         WriteRun      `json:"target"`
	Direct         WriteRun      `json:"direct"`
	ReadAfterWrite ReadBack      `json:"read_after_write"`
	Cold           ReadBack      `json:"cold"`
	Ratios         WriteRatios   `json:"ratios"`
	LoadAvg        string        `json:"load_avg,omitempty"`
	GoMaxProc      int           `json:"gomaxprocs"`
}

// WriteJSON writes r indented.
func (r *WriteReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable prints the run as one table: the writes (target vs
// under-store), then the reads (after a write vs cold), each row with the
// ratio (how many times better the cluster side is).
func (r *WriteReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	t, d, a, c, x := r.Target, r.Direct, r.ReadAfterWrite, r.Cold, r.Ratios
	fmt.Fprintf(tw, "\t%s write\tunder-store write\tratio\t\n", t.Target)
	fmt.Fprintf(tw, "objects\t%d\t%d\t\t\n", t.Objects, d.Objects)
	fmt.Fprintf(tw, "write MiB/s\t%s\t%s\t%s\t\n", mibps(t.BytesPerSec), mibps(d.BytesPerSec), ratio2(x.Throughput))
	fmt.Fprintf(tw, "write p50\t%s\t%s\t%s\t\n", FormatMicros(t.Latency.P50Us), FormatMicros(d.Latency.P50Us), ratio2(x.WriteP50))
	fmt.Fprintf(tw, "write p99\t%s\t%s\t%s\t\n", FormatMicros(t.Latency.P99Us), FormatMicros(d.Latency.P99Us), ratio2(x.WriteP99))
	fmt.Fprintf(tw, "write errors\t%d\t%d\t\t\n", t.Errors, d.Errors)
	fmt.Fprintf(tw, "\tread after write\tcold read\t\t\n")
	fmt.Fprintf(tw, "reads\t%d\t%d\t\t\n", a.Reads, c.Reads)
	fmt.Fprintf(tw, "read p50\t%s\t%s\t%s\t\n", FormatMicros(a.Latency.P50Us), FormatMicros(c.Latency.P50Us), ratio2(x.ReadP50))
	fmt.Fprintf(tw, "read p99\t%s\t%s\t%s\t\n", FormatMicros(a.Latency.P99Us), FormatMicros(c.Latency.P99Us), ratio2(x.ReadP99))
	fmt.Fprintf(tw, "hit ratio\t%s\t%s\t\t\n", hitCell(a), hitCell(c))
	fmt.Fprintf(tw, "bytes from under-store\t%s\t%s\t\t\n", understoreCell(a), understoreCell(c))
	fmt.Fprintf(tw, "read errors\t%d\t%d\t\t\n", a.Errors, c.Errors)
	fmt.Fprintf(tw, "wrong bytes\t%d\t%d\t\t\n", a.WrongBytes, c.WrongBytes)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range []struct{ name, err string }{
		{t.Target + " write", t.FirstError}, {"under-store write", d.FirstError},
		{"read after write", a.FirstError}, {"cold read", c.FirstError},
	} {
		if e.err != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", e.name, e.err)
		}
	}
	fmt.Fprintf(w, "\n%s vs under-store: %s write throughput; read after write vs cold read: %s p50, %s p99\n",
		t.Target, ratio2(x.Throughput), ratio2(x.ReadP50), ratio2(x.ReadP99))
	return nil
}

// ratio2 is times with two decimals below 10x: the write goal is 0.9x.
func ratio2(v float64) string {
	if v > 0 && v < 10 {
		return fmt.Sprintf("%.2fx", v)
	}
	return times(v)
}

func mibps(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", v/(1<<20))
}

func hitCell(r ReadBack) string {
	h, ok := r.HitRatio()
	switch {
	case !ok:
		return "-"
	case r.HasPages:
		return fmt.Sprintf("%.1f%% (%d/%d pages)", 100*h, r.PagesHit, r.PagesHit+r.PagesMissed)
	default:
		return fmt.Sprintf("%.1f%% (of bytes)", 100*h)
	}
}

func understoreCell(r ReadBack) string {
	if r.UnderstoreFrom == "" {
		return "-"
	}
	return fmt.Sprintf("%s (%s)", formatBytes(float64(r.UnderstoreBytes)), r.UnderstoreFrom)
}
