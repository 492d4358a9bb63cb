package bench

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// ContentKey names the bytes of one generation of one file of a run with the
// given seed. Different (seed, file, gen) give unrelated byte streams.
func ContentKey(seed uint64, file int, gen uint64) uint64 {
	return mix64(seed ^ mix64(uint64(file)+0x9e3779b97f4a7c15) ^ mix64(gen*0xbf58476d1ce4e5b9+0x94d049bb133111eb))
}

// mix64 is splitmix64's finaliser: a bijection with good avalanche.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// word is the little-endian 8-byte word at byte offset 8*w of key's stream.
func word(key uint64, w int64) uint64 { return mix64(key + uint64(w)*0x9e3779b97f4a7c15) }

// Fill writes the bytes of key's stream at offset off into p: byte i of the
// stream is byte i%8 of word(i/8). Any offset and length work.
func Fill(p []byte, key uint64, off int64) {
	for len(p) > 0 {
		w, b := off/8, int(off%8)
		if b == 0 && len(p) >= 8 {
			n := len(p) / 8
			for i := range n {
				binary.LittleEndian.PutUint64(p[8*i:], word(key, w+int64(i)))
			}
			p, off = p[8*n:], off+int64(8*n)
			continue
		}
		v := word(key, w) >> (8 * b)
		for ; b < 8 && len(p) > 0; b++ {
			p[0] = byte(v)
			v >>= 8
			p, off = p[1:], off+1
		}
	}
}

// Mismatch counts the bytes of p that differ from key's stream at off.
func Mismatch(p []byte, key uint64, off int64) int64 {
	var bad int64
	for len(p) > 0 {
		w, b := off/8, int(off%8)
		if b == 0 && len(p) >= 8 {
			n := len(p) / 8
			for i := range n {
				if x := binary.LittleEndian.Uint64(p[8*i:]) ^ word(key, w+int64(i)); x != 0 {
					bad += int64(diffBytes(x))
				}
			}
			p, off = p[8*n:], off+int64(8*n)
			continue
		}
		v := word(key, w) >> (8 * b)
		for ; b < 8 && len(p) > 0; b++ {
			if p[0] != byte(v) {
				bad++
			}
			v >>= 8
			p, off = p[1:], off+1
		}
	}
	return bad
}

// diffBytes counts the non-zero bytes of x.
func diffBytes(x uint64) int {
	// Set bit 7 of every non-zero byte, then count those bits.
	const lo7 = 0x7f7f7f7f7f7f7f7f
	y := ((x & lo7) + lo7) | x
	return bits.OnesCount64(y & ^uint64(lo7))
}

// prefixMatches reports whether the first few bytes of p (up to 8) are key's
// stream at off: a cheap test of which generation a read returned.
func prefixMatches(p []byte, key uint64, off int64) bool {
	n := min(len(p), 8)
	var want [8]byte
	Fill(want[:n], key, off)
	return string(p[:n]) == string(want[:n])
}

// ContentReader streams size bytes of key's stream from offset 0 (for Put).
func ContentReader(key uint64, size int64) io.Reader {
	return &contentReader{key: key, size: size}
}

// ContentReadSeeker is ContentReader that can also seek: an S3 client
// sending to a plain-HTTP endpoint reads the body once to sign its digest
// and then again to send it.
func ContentReadSeeker(key uint64, size int64) io.ReadSeeker {
	return &contentReader{key: key, size: size}
}

type contentReader struct {
	key       uint64
	off, size int64
}

func (r *contentReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.size-r.off))
	Fill(p[:n], r.key, r.off)
	r.off += int64(n)
	return n, nil
}

// Seek moves to an offset in [0, size] (io.Seeker).
func (r *contentReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	case io.SeekStart:
	default:
		return r.off, fmt.Errorf("bench: seek: whence %d", whence)
	}
	if offset < 0 || offset > r.size {
		return r.off, fmt.Errorf("bench: seek to %d of %d bytes", offset, r.size)
	}
	r.off = offset
	return offset, nil
}

// Verdict is what verification made of one read.
type Verdict struct {
	Gen   uint64 // generation the bytes belong to (or were compared with)
	Wrong int64  // bytes that match no generation
	Stale bool   // a generation older than the one current when the read began
}

// Verify checks the bytes p read at off of file against the generations
// newest..0 (newest first, as a racing overwrite makes the newest the likely
// one) and reports which one they are. A read is stale when its generation is
// older than atStart, the generation committed when the read began. When no
// generation's first bytes match, the read is compared with atStart.
func Verify(p []byte, seed uint64, file int, off int64, newest, atStart uint64) Verdict {
	if len(p) == 0 {
		return Verdict{Gen: atStart}
	}
	for g := newest; ; g-- {
		key := ContentKey(seed, file, g)
		if prefixMatches(p, key, off) {
			return Verdict{Gen: g, Wrong: Mismatch(p, key, off), Stale: g < atStart}
		}
		if g == 0 {
			break
		}
	}
	return Verdict{Gen: atStart, Wrong: Mismatch(p, ContentKey(seed, file, atStart), off)}
}
