package bench

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Op is one operation of the workload.
type Op struct {
	Write  bool
	File   int
	Offset int64 // reads: where; writes overwrite the whole file
	Length int64 // reads: how many bytes (short at the end of the file)
}

// Picker chooses the operations of a run. It is pure: the operation depends
// only on the config, the operation's sequence number k (shared by all
// threads, used by scan) and the calling thread's rng. Safe for concurrent
// use with one rng per goroutine.
type Picker struct {
	cfg    Config
	chunks int64
	zipf   []float64 // cumulative probabilities of files (zipf only)
}

// NewPicker builds the picker of a validated config (defaults applied).
func NewPicker(cfg Config) *Picker {
	cfg = cfg.WithDefaults()
	p := &Picker{cfg: cfg, chunks: cfg.ChunksPerFile()}
	if cfg.Access == AccessZipf {
		p.zipf = zipfCDF(cfg.Files, cfg.ZipfS)
	}
	return p
}

// zipfCDF is P(rank <= i) for P(rank = i) ∝ 1/(i+1)^s. math/rand's Zipf
// needs s > 1; a table allows YCSB's 0.99 too.
func zipfCDF(n int, s float64) []float64 {
	cdf := make([]float64, n)
	var sum float64
	for i := range n {
		sum += 1 / math.Pow(float64(i+1), s)
		cdf[i] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	cdf[n-1] = 1
	return cdf
}

// Next returns operation k for a thread with random source rng.
func (p *Picker) Next(k int64, rng *rand.Rand) Op {
	var op Op
	if p.cfg.ReadRatio < 1 && rng.Float64() >= p.cfg.ReadRatio {
		op.Write = true
	}
	var chunk int64
	switch p.cfg.Access {
	case AccessScan:
		k %= int64(p.cfg.Files) * p.chunks
		op.File, chunk = int(k/p.chunks), k%p.chunks
	case AccessUniform:
		op.File, chunk = rng.IntN(p.cfg.Files), rng.Int64N(p.chunks)
	case AccessPool:
		op.File, chunk = rng.IntN(p.cfg.PoolFiles), rng.Int64N(p.chunks)
	default: // zipf
		u := rng.Float64()
		op.File = sort.SearchFloat64s(p.zipf, u)
		if op.File >= p.cfg.Files { // u == 1 cannot happen, but be safe
			op.File = p.cfg.Files - 1
		}
		chunk = rng.Int64N(p.chunks)
	}
	op.Offset = chunk * p.cfg.ReadSize
	op.Length = min(p.cfg.ReadSize, p.cfg.FileSize-op.Offset)
	return op
}

// ThreadRand is thread i's random source for a run with the given seed:
// reproducible per (seed, run, thread).
func ThreadRand(seed uint64, run, thread int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, mix64(uint64(run)<<32|uint64(thread))))
}
