package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// HitRatio is hits/(hits+misses) of pages; ok is false when no page was
// looked up (a baseline run, or writes only).
func HitRatio(hits, misses int64) (ratio float64, ok bool) {
	if hits+misses <= 0 {
		return 0, false
	}
	return float64(hits) / float64(hits+misses), true
}

// Latency summarises a histogram in microseconds.
type Latency struct {
	AvgUs float64 `json:"avg_us"`
	P50Us float64 `json:"p50_us"`
	P95Us float64 `json:"p95_us"`
	P99Us float64 `json:"p99_us"`
	MaxUs float64 `json:"max_us"`
	MinUs float64 `json:"min_us"`
}

func us(d time.Duration) float64 { return float64(d) / 1e3 }

// LatencyOf summarises h.
func LatencyOf(h *Histogram) Latency {
	return Latency{
		AvgUs: us(h.Mean()), P50Us: us(h.Quantile(0.50)), P95Us: us(h.Quantile(0.95)),
		P99Us: us(h.Quantile(0.99)), MaxUs: us(h.Max()), MinUs: us(h.Min()),
	}
}

// Counts are the totals of a second or of a run.
type Counts struct {
	Ops        int64 `json:"ops"`
	Reads      int64 `json:"reads"`
	Writes     int64 `json:"writes"`
	Errors     int64 `json:"errors"`
	Retries    int64 `json:"retries"`     // operations repeated after the object changed under them
	WrongBytes int64 `json:"wrong_bytes"` // read bytes that match no generation of the file
	WrongReads int64 `json:"wrong_reads"` // reads with at least one wrong byte
	StaleReads int64 `json:"stale_reads"` // reads of a generation older than the one current at the start
	Bytes      int64 `json:"bytes"`       // bytes read
	BytesWrite int64 `json:"bytes_written"`
	// Where the read bytes came from (client.ReadStats).
	BytesLocal      int64 `json:"bytes_local"`
	BytesPeer       int64 `json:"bytes_peer"`
	BytesUnderstore int64 `json:"bytes_understore"`
	BytesDirect     int64 `json:"bytes_direct"` // the client's own under-store fallback
	PagesHit        int64 `json:"pages_hit"`
	PagesMissed     int64 `json:"pages_missed"`
}

func (c *Counts) add(o Counts) {
	c.Ops += o.Ops
	c.Reads += o.Reads
	c.Writes += o.Writes
	c.Errors += o.Errors
	c.Retries += o.Retries
	c.WrongBytes += o.WrongBytes
	c.WrongReads += o.WrongReads
	c.StaleReads += o.StaleReads
	c.Bytes += o.Bytes
	c.BytesWrite += o.BytesWrite
	c.BytesLocal += o.BytesLocal
	c.BytesPeer += o.BytesPeer
	c.BytesUnderstore += o.BytesUnderstore
	c.BytesDirect += o.BytesDirect
	c.PagesHit += o.PagesHit
	c.PagesMissed += o.PagesMissed
}

// Second is one point of the time series: what completed in the window
// ending T seconds after the run started (Dur seconds long; the last window
// may be shorter).
type Second struct {
	T   float64 `json:"t"`
	Dur float64 `json:"dur"`
	Counts
	OpsPerSec   float64 `json:"ops_per_sec"`
	BytesPerSec float64 `json:"bytes_per_sec"`
	HitRatio    float64 `json:"hit_ratio"` // 0 when no page was looked up
	Read        Latency `json:"read_latency"`
}

// Summary is one run's result.
type Summary struct {
	Name    string  `json:"name"`   // "cache", "cold", "warm", "baseline", ...
	Target  string  `json:"target"` // "cache" or "understore" (no cache)
	Elapsed float64 `json:"elapsed_sec"`
	Counts
	OpsPerSec   float64 `json:"ops_per_sec"`
	BytesPerSec float64 `json:"bytes_per_sec"`
	HitRatio    float64 `json:"hit_ratio"`
	HasHitRatio bool    `json:"has_hit_ratio"`
	Read        Latency `json:"read_latency"`
	Write       Latency `json:"write_latency"`
	FirstError  string  `json:"first_error,omitempty"`
}

// Run is a run's summary and time series.
type Run struct {
	Summary Summary  `json:"summary"`
	Series  []Second `json:"series"`
}

// Ratio compares a cache run with the no-cache baseline: each field is how
// many times better the cache run is (> 1 is better; 0 when undefined).
type Ratio struct {
	Run        string  `json:"run"`
	Versus     string  `json:"versus"`
	Throughput float64 `json:"throughput"` // ops/s over ops/s
	Elapsed    float64 `json:"elapsed"`    // their time over ours (equal op counts)
	AvgLatency float64 `json:"avg_latency"`
	P50        float64 `json:"p50"`
	P99        float64 `json:"p99"`
}

// Compare says how many times better run a is than run b.
func Compare(a, b Summary) Ratio {
	div := func(x, y float64) float64 {
		if y <= 0 || x <= 0 {
			return 0
		}
		return x / y
	}
	r := Ratio{Run: a.Name, Versus: b.Name,
		Throughput: div(a.OpsPerSec, b.OpsPerSec),
		AvgLatency: div(b.Read.AvgUs, a.Read.AvgUs),
		P50:        div(b.Read.P50Us, a.Read.P50Us),
		P99:        div(b.Read.P99Us, a.Read.P99Us),
	}
	if a.Ops == b.Ops {
		r.Elapsed = div(b.Elapsed, a.Elapsed)
	}
	return r
}

// Report is what --json writes: the workload, every run and the ratios.
type Report struct {
	Version   int       `json:"version"` // 1
	Started   time.Time `json:"started"`
	Seed      uint64    `json:"seed"`
	Workload  Workload  `json:"workload"`
	Cluster   string    `json:"cluster"` // "dev: 3 nodes ..." or "seeds: ..."
	Runs      []Run     `json:"runs"`
	Ratios    []Ratio   `json:"ratios,omitempty"`
	LoadAvg   string    `json:"load_avg,omitempty"`
	GoMaxProc int       `json:"gomaxprocs"`
}

// Workload is the Config as written in a report.
type Workload struct {
	Threads           int     `json:"threads"`
	Ops               int64   `json:"ops,omitempty"`
	DurationSec       float64 `json:"duration_sec,omitempty"`
	ReadRatio         float64 `json:"read_ratio"`
	Files             int     `json:"files"`
	FileSize          int64   `json:"file_size"`
	ReadSize          int64   `json:"read_size"`
	Access            Access  `json:"access"`
	ZipfS             float64 `json:"zipf_s,omitempty"`
	PoolFiles         int     `json:"pool_files,omitempty"`
	Prefix            string  `json:"prefix"`
	SyncIntervalSec   float64 `json:"sync_interval_sec,omitempty"`
	UnderstoreDelayMs float64 `json:"understore_latency_ms,omitempty"`
	WarmupSec         float64 `json:"warmup_sec,omitempty"`
	Flush             bool    `json:"flush,omitempty"`
}

// WorkloadOf describes cfg for a report.
func WorkloadOf(cfg Config) Workload {
	cfg = cfg.WithDefaults()
	w := Workload{Threads: cfg.Threads, Ops: cfg.Ops, DurationSec: cfg.Duration.Seconds(), ReadRatio: cfg.ReadRatio,
		Files: cfg.Files, FileSize: cfg.FileSize, ReadSize: cfg.ReadSize, Access: cfg.Access, Prefix: cfg.Prefix}
	switch cfg.Access {
	case AccessZipf:
		w.ZipfS = cfg.ZipfS
	case AccessPool:
		w.PoolFiles = cfg.PoolFiles
	}
	return w
}

// WriteJSON writes r indented.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadReport reads what WriteJSON wrote.
func ReadReport(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("bench: read report: %w", err)
	}
	if r.Version != 1 {
		return nil, fmt.Errorf("bench: read report: version %d, want 1", r.Version)
	}
	return &r, nil
}
