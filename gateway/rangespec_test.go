package gateway

import "testing"

func TestParseRange(t *testing.T) {
	const size = 1000
	cases := []struct {
		hdr        string
		ok         bool // honoured (else the whole object is served)
		start, end int64
		invalid    bool // 416
	}{
		{"bytes=0-99", true, 0, 100, false},
		{"bytes=990-", true, 990, 1000, false},
		{"bytes=-10", true, 990, 1000, false},
		{"bytes=-5000", true, 0, 1000, false},
		{"bytes=10-5000", true, 10, 1000, false},
		{"bytes=999-999", true, 999, 1000, false},
		{"bytes=1000-", true, 0, 0, true},
		{"bytes=1000-2000", true, 0, 0, true},
		{"bytes=-0", true, 0, 0, true},
		{" bytes=0-0 ", true, 0, 1, false},
		{"", false, 0, 0, false},
		{"bytes=5-3", false, 0, 0, false},
		{"bytes=0-1,5-6", false, 0, 0, false},
		{"items=0-1", false, 0, 0, false},
		{"bytes=abc", false, 0, 0, false},
		{"bytes=-", false, 0, 0, false},
		{"bytes=+1-2", false, 0, 0, false},
		{"bytes=1-2-3", false, 0, 0, false},
		{"bytes=99999999999999999999-", false, 0, 0, false},
	}
	for _, tc := range cases {
		r, ok := parseRange(tc.hdr)
		if ok != tc.ok {
			t.Errorf("%q: honoured %v, want %v", tc.hdr, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		start, end, err := r.resolve(size)
		if (err != nil) != tc.invalid {
			t.Errorf("%q: resolve error %v, want invalid=%v", tc.hdr, err, tc.invalid)
			continue
		}
		if err == nil && (start != tc.start || end != tc.end) {
			t.Errorf("%q: [%d, %d), want [%d, %d)", tc.hdr, start, end, tc.start, tc.end)
		}
		if err != nil && err.Header.Get("Content-Range") != "bytes */1000" {
			t.Errorf("%q: 416 Content-Range %q", tc.hdr, err.Header.Get("Content-Range"))
		}
	}
	// Any range of an empty object is unsatisfiable.
	for _, h := range []string{"bytes=0-", "bytes=-1", "bytes=0-0"} {
		r, _ := parseRange(h)
		if _, _, err := r.resolve(0); err == nil {
			t.Errorf("%q of an empty object: no InvalidRange", h)
		}
	}
}

// FuzzParseRange: no header panics, and an honoured range resolves to
// bytes inside the object or to InvalidRange.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=7-", "bytes=1-0", "bytes=0-1,2-3", "bytes= 1 - 2 ", "bytes=-"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		r, ok := parseRange(h)
		if !ok {
			return
		}
		start, end, err := r.resolve(size)
		if err != nil {
			return
		}
		if start < 0 || end > size || start >= end {
			t.Fatalf("%q on %d bytes: [%d, %d)", h, size, start, end)
		}
	})
}
