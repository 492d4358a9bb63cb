package understore_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ringcache/ringcache/understore"
)

// BenchmarkReadAt1MiB compares the local store's ReadAt (open, fstat,
// version check, pread, fstat, close) with a raw os.File.ReadAt on an open
// descriptor of the same file, in the same run; -osroot is the portable
// path used where openat2 is missing.
func BenchmarkReadAt1MiB(b *testing.B) {
	const size, chunk = 64 << 20, 1 << 20
	dir := b.TempDir()
	name := filepath.Join(dir, "b", "f")
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, chunk)
	b.Run("raw-os.File", func(b *testing.B) {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(chunk)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := f.ReadAt(buf, int64(i%(size/chunk))*chunk); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	for _, portable := range []bool{false, true} {
		name := "understore-local"
		if portable {
			name += "-osroot" // the path without openat2
		}
		b.Run(name, func(b *testing.B) {
			st, err := understore.Open(b.Context(), understore.Config{URL: "file://" + dir})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if portable {
				understore.DisableFastRead(st)
			}
			info, err := st.Stat(b.Context(), "b/f")
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(chunk)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := st.ReadAt(b.Context(), "b/f", info, buf, int64(i%(size/chunk))*chunk); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
