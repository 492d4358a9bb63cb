package bench

import (
	"math"
	"math/bits"
	"time"
)

// Histogram layout: values below 2^histSubBits are counted exactly; above,
// every power-of-two range is split into 2^(histSubBits-1) equal buckets, so a
// bucket is at most 1/128 of its values wide and the midpoint a quantile
// reports is within 0.4% of the true sample (HDR histogram style, fixed
// memory). Values are durations in nanoseconds; anything above histMax is
// counted in the last bucket (max stays exact).
const (
	histSubBits  = 8
	histExact    = 1 << histSubBits // 256: values below are exact
	histHalf     = histExact / 2    // buckets per octave above
	histMaxShift = 44 - histSubBits // covers up to 2^44 ns (~4.9 h)
	histBuckets  = histExact + histMaxShift*histHalf
	histMax      = int64(1)<<44 - 1
)

// Histogram records durations in log-linear buckets with exact count, sum,
// min and max. The zero value is empty and ready; it is not safe for
// concurrent use (the collector locks around it).
type Histogram struct {
	counts   []uint64 // allocated on first Record
	count    uint64
	sum      float64 // ns
	min, max int64   // ns
}

func histIndex(v int64) int {
	if v < histExact {
		return int(v)
	}
	if v > histMax {
		v = histMax
	}
	shift := bits.Len64(uint64(v)) - histSubBits // >= 1
	top := int(v >> shift)                       // in [histHalf, histExact)
	return histExact + (shift-1)*histHalf + top - histHalf
}

// histBounds returns the smallest value of bucket i and its width.
func histBounds(i int) (lower, width int64) {
	if i < histExact {
		return int64(i), 1
	}
	k := i - histExact
	shift := k/histHalf + 1
	top := int64(k%histHalf + histHalf)
	return top << shift, int64(1) << shift
}

// Record adds one duration (negative counts as 0).
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	if h.counts == nil {
		h.counts = make([]uint64, histBuckets)
	}
	h.counts[histIndex(v)]++
	if h.count == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.count++
	h.sum += float64(v)
}

// Merge adds every sample of o.
func (h *Histogram) Merge(o *Histogram) {
	if o.count == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, histBuckets)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.count += o.count
	h.sum += o.sum
}

// Count is the number of samples.
func (h *Histogram) Count() uint64 { return h.count }

// Min and Max are exact.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max is the largest sample, exact.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is exact (sum / count); 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.count == 0 {
		return 0
	}
	return time.Duration(math.Round(h.sum / float64(h.count)))
}

// Quantile returns the nearest-rank q-quantile (0 <= q <= 1): the sample at
// rank ceil(q*count), reported as its bucket's midpoint clamped to the exact
// min and max (the first and last ranks are exact). 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.count)))
	rank = min(max(rank, 1), h.count)
	switch rank {
	case h.count:
		return time.Duration(h.max)
	case 1:
		return time.Duration(h.min)
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, w := histBounds(i)
			mid := lo + (w-1)/2
			return time.Duration(min(max(mid, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
