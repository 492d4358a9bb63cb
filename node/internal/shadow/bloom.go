package shadow

import (
	"math"
	"math/bits"
)

// A filter is a blocked Bloom filter: a page's k bits all fall in one
// 512-bit block (one cache line), so a look-up costs one cache miss a
// filter. The filters of a Cache share their size and hashing, so OR-ing
// them gives the filter of the union.
const (
	blockBits  = 512
	blockWords = blockBits / 64
	// hashBits is k, the bits set a page. Fewer than the optimum for 16
	// bits a page (11) costs little in false positives and keeps the
	// per-access work small.
	hashBits = 8
)

// probe is where a page's bits are: one block and a mask per word of it,
// computed once an access and applied to every filter.
type probe struct {
	block int64
	mask  [blockWords]uint64
}

// blocksFor is the blocks of one filter for pages at bitsPerPage.
func blocksFor(pages, bitsPerPage int) int64 {
	return max(1, (int64(pages)*int64(bitsPerPage)+blockBits-1)/blockBits)
}

// newProbe places key in a filter of blocks blocks. The block comes from
// the key's high bits (multiply-shift), the bit positions from a second,
// independent mix by double hashing with an odd step (k distinct bits).
func newProbe(key uint64, blocks int64) probe {
	hi, _ := bits.Mul64(key, uint64(blocks))
	p := probe{block: int64(hi)}
	g := mix(key)
	a, b := uint32(g), uint32(g>>32)|1
	for i := range uint32(hashBits) {
		pos := (a + i*b) % blockBits
		p.mask[pos/64] |= 1 << (pos % 64)
	}
	return p
}

// mix is the splitmix64 finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

type filter []uint64

func (f filter) has(p *probe) bool {
	blk := f[p.block*blockWords : p.block*blockWords+blockWords]
	for j, m := range p.mask {
		if blk[j]&m != m {
			return false
		}
	}
	return true
}

func (f filter) add(p *probe) {
	blk := f[p.block*blockWords : p.block*blockWords+blockWords]
	for j, m := range p.mask {
		blk[j] |= m
	}
}

func (f filter) clear() { clear(f) }

// unionZeros counts the bits set in none of fs.
func unionZeros(fs []filter) int64 {
	n := len(fs[0])
	var ones int64
	for i := range n {
		var w uint64
		for _, f := range fs {
			w |= f[i]
		}
		ones += int64(bits.OnesCount64(w))
	}
	return int64(n)*64 - ones
}

// estimateCount is the number of distinct keys a filter of m bits with
// zeros bits still clear holds: each key leaves a given bit clear with
// probability 1-k/m, so E[zeros] = m(1-k/m)^n. A full filter reads as if
// one bit were still clear.
func estimateCount(zeros, m int64) float64 {
	if zeros == m {
		return 0
	}
	z := max(float64(zeros), 1)
	return math.Log(z/float64(m)) / math.Log1p(-hashBits/float64(m))
}
