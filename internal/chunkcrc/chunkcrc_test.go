package chunkcrc

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/ringcache/ringcache/internal/testseed"
)

// stream is a PieceReader over an io.Reader that counts its calls.
type stream struct {
	r     io.Reader
	calls int
}

func (s *stream) ReadPieces(pieces [][]byte) error {
	s.calls++
	for _, p := range pieces {
		if _, err := io.ReadFull(s.r, p); err != nil {
			return err
		}
	}
	return nil
}

// countingAt is an io.ReaderAt that counts its calls.
type countingAt struct {
	r     io.ReaderAt
	calls int
}

func (c *countingAt) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	return c.r.ReadAt(p, off)
}

// layout returns length random bytes at start, cut into size-byte chunks.
func layout(rng *rand.Rand, start, length, size int64) ([]byte, Chunks) {
	data := make([]byte, length)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	return data, Chunks{Start: start, Length: length, Size: size, CRCs: AppendSums(nil, data, int(size))}
}

func TestRead(t *testing.T) {
	rng := testseed.Rand(t)
	const size = 16 << 10
	cases := []struct {
		name          string
		start, length int64
		off, n        int64
		group         int
		scratch       int
		wantCallsAt   int // ReaderAt calls
		wantCallsStrm int // ReadPieces calls: a stream reads all chunks, with one scratch piece per chunk outside the range
	}{
		{"aligned, one group", 0, 4 * size, 0, 4 * size, 0, 0, 1, 1},
		{"aligned, groups of 2", 0, 8 * size, 0, 8 * size, 2 * size, 0, 4, 4},
		{"short last chunk", 0, 3*size + 100, 0, 3*size + 100, 0, 0, 1, 1},
		{"unaligned both ends", 0, 4 * size, 10, 4*size - 20, 0, 2 * size, 3, 1},
		{"inside one chunk", 0, 4 * size, size + 5, 100, 0, size, 1, 4},
		{"logical start", 1 << 30, 4 * size, 1<<30 + size, size, 0, size, 1, 3},
		{"range past the chunks (stream)", 100, 2 * size, 0, 4 * size, 0, size, -1, 1},
		{"small scratch splits groups", 0, 4 * size, 1, 2*size - 2, 0, size, 2, 4},
		{"empty", 0, 0, 0, 0, 0, 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, ch := layout(rng, c.start, c.length, size)
			want := func(dst []byte) {
				t.Helper()
				for i := range dst {
					x := c.off + int64(i) - c.start
					if x >= 0 && x < c.length && dst[i] != data[x] {
						t.Fatalf("byte %d: got %d, want %d", c.off+int64(i), dst[i], data[x])
					}
				}
			}
			scratch := make([]byte, c.scratch)
			rd := Reader{GroupBytes: c.group}

			s := &stream{r: bytes.NewReader(data)}
			dst := make([]byte, c.n)
			if err := rd.ReadStream(s, ch, dst, c.off, scratch); err != nil {
				t.Fatalf("ReadStream: %v", err)
			}
			want(dst)
			if s.calls != c.wantCallsStrm {
				t.Errorf("ReadStream: %d reads, want %d", s.calls, c.wantCallsStrm)
			}

			if c.wantCallsAt < 0 {
				return // the range is not within the chunks: not a ReadAt
			}
			at := &countingAt{r: bytes.NewReader(append(make([]byte, 4096), data...))}
			dst = make([]byte, c.n)
			if err := rd.ReadAt(at, 4096, ch, dst, c.off, scratch); err != nil {
				t.Fatalf("ReadAt: %v", err)
			}
			want(dst)
			if at.calls != c.wantCallsAt {
				t.Errorf("ReadAt: %d reads, want %d", at.calls, c.wantCallsAt)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	rng := testseed.Rand(t)
	const size = 1024
	data, ch := layout(rng, 1000, 5*size, size)
	scratch := make([]byte, size)
	var rd Reader

	bad := bytes.Clone(data)
	bad[2*size+7] ^= 1
	err := rd.ReadStream(&stream{r: bytes.NewReader(bad)}, ch, make([]byte, len(data)), 1000, scratch)
	var me *MismatchError
	if !errors.As(err, &me) || !errors.Is(err, ErrMismatch) || me.Index != 2 || me.Offset != 1000+2*size {
		t.Fatalf("ReadStream of a corrupt chunk: %v", err)
	}
	err = rd.ReadAt(bytes.NewReader(bad), 0, ch, make([]byte, 10), 1000+2*size+100, scratch)
	if !errors.As(err, &me) || me.Index != 2 {
		t.Fatalf("ReadAt of a corrupt chunk: %v", err)
	}
	// A chunk outside the range is not read by ReadAt.
	if err := rd.ReadAt(bytes.NewReader(bad), 0, ch, make([]byte, size), 1000, scratch); err != nil {
		t.Fatalf("ReadAt beside a corrupt chunk: %v", err)
	}

	err = rd.ReadStream(&stream{r: bytes.NewReader(data[:3*size])}, ch, make([]byte, len(data)), 1000, scratch)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadStream of a short stream: %v", err)
	}
	err = rd.ReadAt(bytes.NewReader(data[:3*size]), 0, ch, make([]byte, len(data)), 1000, scratch)
	if !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadAt of a short file: %v", err)
	}

	for _, c := range []struct {
		name string
		ch   Chunks
		off  int64
		n    int
		scr  []byte
	}{
		{"zero size", Chunks{Length: 1, CRCs: []uint32{0}}, 0, 1, scratch},
		{"negative length", Chunks{Length: -1, Size: 1}, 0, 0, scratch},
		{"CRC count", Chunks{Length: 3 * size, Size: size, CRCs: ch.CRCs}, 0, 1, scratch},
		{"range before", ch, 999, 1, scratch},
		{"range after", ch, 1000 + 5*size - 1, 2, scratch},
		{"no scratch", ch, 1001, 1, nil},
	} {
		err := rd.ReadAt(bytes.NewReader(data), 0, c.ch, make([]byte, c.n), c.off, c.scr)
		if !errors.Is(err, ErrLayout) {
			t.Errorf("%s: %v, want ErrLayout", c.name, err)
		}
	}
}

// TestReadNoAlloc checks reads allocate nothing: ReadAt with a fresh
// Reader each time (as a store's concurrent page reads use it), ReadStream
// with a reused one (one per connection).
func TestReadNoAlloc(t *testing.T) {
	data, ch := layout(rand.New(rand.NewPCG(1, 2)), 0, 64<<10, 16<<10)
	r := bytes.NewReader(data)
	dst, scratch := make([]byte, 40<<10), make([]byte, 32<<10)
	allocs := testing.AllocsPerRun(100, func() {
		var rd Reader
		if err := rd.ReadAt(r, 0, ch, dst, 1000, scratch); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per ReadAt", allocs)
	}
	var rd Reader
	s := &stream{r: r}
	allocs = testing.AllocsPerRun(100, func() {
		r.Reset(data)
		if err := rd.ReadStream(s, ch, dst, 1000, scratch); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per ReadStream", allocs)
	}
}
