package chunkcrc

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// FuzzRead reads random ranges of random layouts, some with a corrupt
// byte, with both ReadStream and ReadAt, and checks the bytes against the
// data and the error against the corruption: a mismatch exactly when a
// chunk read holds the corrupt byte, and the stream consumed exactly the
// chunks when none does.
func FuzzRead(f *testing.F) {
	f.Add(uint64(1), uint32(70_000), uint16(16<<10), uint32(100), uint32(40_000), int32(-1), uint32(0))
	f.Add(uint64(2), uint32(1), uint16(1), uint32(0), uint32(1), int32(0), uint32(1))
	f.Add(uint64(3), uint32(300_000), uint16(4096), uint32(0), uint32(300_000), int32(150_000), uint32(64<<10))
	f.Fuzz(func(t *testing.T, seed uint64, length uint32, size uint16, off, n uint32, corrupt int32, group uint32) {
		length %= 1 << 20
		if size == 0 {
			size = 1
		}
		if length/uint32(size) > 4096 {
			t.Skip("too many chunks")
		}
		off %= length + 1
		n %= length - off + 1
		rng := rand.New(rand.NewPCG(seed, 0))
		start := int64(rng.IntN(1 << 20))
		data, ch := layout(rng, start, int64(length), int64(size))
		src := data
		bad := -1
		if corrupt >= 0 && length > 0 {
			bad = int(corrupt) % int(length)
			src = bytes.Clone(data)
			src[bad] ^= 0x80
		}
		rd := Reader{GroupBytes: int(group % (1 << 20))}
		scratch := make([]byte, 2*int(size))
		lo, hi := int64(off), int64(off+n)

		// ReadAt reads the chunks the range touches.
		dst := make([]byte, n)
		err := rd.ReadAt(bytes.NewReader(src), 0, ch, dst, start+lo, scratch)
		touched := n > 0 && bad >= 0 && int64(bad)/int64(size) >= lo/int64(size) && int64(bad)/int64(size) <= (hi-1)/int64(size)
		check(t, "ReadAt", err, touched, bad, size, start)
		if err == nil && !bytes.Equal(dst, data[lo:hi]) {
			t.Fatalf("ReadAt: wrong bytes")
		}

		// ReadStream reads every chunk.
		r := bytes.NewReader(src)
		dst = make([]byte, n)
		err = rd.ReadStream(&stream{r: r}, ch, dst, start+lo, scratch)
		check(t, "ReadStream", err, bad >= 0, bad, size, start)
		if err == nil {
			if !bytes.Equal(dst, data[lo:hi]) {
				t.Fatalf("ReadStream: wrong bytes")
			}
			if r.Len() != 0 {
				t.Fatalf("ReadStream left %d bytes", r.Len())
			}
		}
	})
}

func check(t *testing.T, what string, err error, wantMismatch bool, bad int, size uint16, start int64) {
	t.Helper()
	var me *MismatchError
	switch {
	case wantMismatch && !errors.As(err, &me):
		t.Fatalf("%s: %v, want a mismatch", what, err)
	case wantMismatch && (me.Index != bad/int(size) || me.Offset != start+int64(me.Index)*int64(size)):
		t.Fatalf("%s: mismatch %+v, want chunk %d", what, me, bad/int(size))
	case !wantMismatch && err != nil:
		t.Fatalf("%s: %v", what, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		t.Fatalf("%s: %v", what, err)
	}
}
