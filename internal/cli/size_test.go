package cli

import (
	"errors"
	"math"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "4096", want: 4096},
		{in: "4096B", want: 4096},
		{in: "4096 b", want: 4096},
		{in: "64MiB", want: 64 << 20},
		{in: "64mib", want: 64 << 20},
		{in: "64MIB", want: 64 << 20},
		{in: "10GiB", want: 10 << 30},
		{in: "1KiB", want: 1024},
		{in: "2TiB", want: 2 << 40},
		{in: "1PiB", want: 1 << 50},
		{in: "7EiB", want: 7 << 60},
		{in: "1GB", want: 1e9},
		{in: "1gb", want: 1e9},
		{in: "5KB", want: 5000},
		{in: "3MB", want: 3e6},
		{in: "2TB", want: 2e12},
		{in: "1.5GiB", want: 3 << 29},
		{in: "1.5 GiB", want: 3 << 29},
		{in: "  1.5 GiB  ", want: 3 << 29},
		{in: "0.5KiB", want: 512},
		{in: "1.1KiB", want: 1126}, // 1126.4 rounded down
		{in: "1.25MB", want: 1250000},
		{in: "0.0000000000000000001EB", want: 0},
		{in: "9223372036854775807", want: math.MaxInt64},
		{in: "9223372036854775807B", want: math.MaxInt64},
		{in: "7.9999999999EiB", want: 9223372036739483657},
		{in: "9223372036854775808", bad: true},  // MaxInt64+1
		{in: "18446744073709551616", bad: true}, // 2^64
		{in: "99999999999999999999999", bad: true},
		{in: "8EiB", bad: true},
		{in: "9.3EB", bad: true},
		{in: "16000000TiB", bad: true},
		{in: "", bad: true},
		{in: "  ", bad: true},
		{in: "-1", bad: true},
		{in: "-1GiB", bad: true},
		{in: "+1", bad: true},
		{in: "GiB", bad: true},
		{in: ".5GiB", bad: true},
		{in: "5.GiB", bad: true},
		{in: "1.5", bad: true}, // a fraction of a byte
		{in: "1.5B", bad: true},
		{in: "1G", bad: true},
		{in: "1K", bad: true},
		{in: "1 GiBs", bad: true},
		{in: "1e9", bad: true},
		{in: "0x10", bad: true},
		{in: "1_000", bad: true},
		{in: "1,5GiB", bad: true},
		{in: "1.00000000000000000000GiB", bad: true}, // 20 fraction digits
		{in: "NaN", bad: true},
		{in: "1 2", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseSize(%q) = %d, want an error", tt.in, got)
			} else if !errors.Is(err, ErrInvalidSize) {
				t.Errorf("ParseSize(%q) error %v does not wrap ErrInvalidSize", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		in    int64
		want  string
		exact bool
	}{
		{0, "0 B", true},
		{1, "1 B", true},
		{1023, "1023 B", true},
		{1024, "1 KiB", true},
		{1536, "1.5 KiB", true},
		{64 << 20, "64 MiB", true},
		{3 << 29, "1.5 GiB", true},
		{5 << 28, "1.25 GiB", true},
		{10 << 30, "10 GiB", true},
		{1<<30 + 1, "1 GiB", false},
		{1e9, "953.67 MiB", false},
		{1<<20 - 1, "1 MiB", false}, // 1023.999 KiB rounds up a unit
		{7 << 60, "7 EiB", true},
		{math.MaxInt64, "8 EiB", false},
		{-1536, "-1.5 KiB", false},
		{math.MinInt64, "-8 EiB", false},
	}
	for _, tt := range tests {
		got, exact := formatSize(tt.in)
		if got != tt.want || exact != tt.exact {
			t.Errorf("formatSize(%d) = %q, %v; want %q, %v", tt.in, got, exact, tt.want, tt.exact)
		}
		if FormatSize(tt.in) != got {
			t.Errorf("FormatSize(%d) != formatSize", tt.in)
		}
	}
}

// Every whole multiple of every binary unit, and halves and quarters of
// them, must survive FormatSize then ParseSize.
func TestFormatSizeRoundTrip(t *testing.T) {
	for shift := 0; shift <= 60; shift += 10 {
		for _, m := range []int64{1, 2, 3, 7, 100, 512, 1000, 1023} {
			for _, quarters := range []int64{0, 1, 2, 3} {
				if shift == 0 && quarters != 0 {
					continue
				}
				n := m<<shift + quarters<<shift/4
				if n < 0 || n>>shift != m || n/m < 1<<shift {
					continue // overflowed int64
				}
				s, exact := formatSize(n)
				if !exact {
					t.Errorf("formatSize(%d) = %q not exact", n, s)
					continue
				}
				back, err := ParseSize(s)
				if err != nil || back != n {
					t.Errorf("ParseSize(FormatSize(%d) = %q) = %d, %v", n, s, back, err)
				}
			}
		}
	}
}

// FuzzParseSize checks that no input panics, accepted sizes are never
// negative, and every formatted size parses back (to itself when exact).
// Seeds live in testdata/fuzz/FuzzParseSize.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"64MiB", "1.5 GiB", "1GB", "4096", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSize) {
				t.Fatalf("ParseSize(%q) error %v does not wrap ErrInvalidSize", s, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d < 0", s, n)
		}
		text, exact := formatSize(n)
		back, err := ParseSize(text)
		if err != nil {
			// Only rounding up past MaxInt64 ("8 EiB") may fail.
			if n < 7<<60 {
				t.Fatalf("ParseSize(FormatSize(%d) = %q): %v", n, text, err)
			}
			return
		}
		if exact && back != n {
			t.Fatalf("ParseSize(FormatSize(%d) = %q) = %d", n, text, back)
		}
	})
}
