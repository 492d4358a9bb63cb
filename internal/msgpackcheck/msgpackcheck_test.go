package msgpackcheck

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// TestCheckAcceptsEveryFormat: what the encoder writes passes, in every
// format family and size class; every truncation of it is refused.
func TestCheckAcceptsEveryFormat(t *testing.T) {
	values := []any{
		nil, true, false, 0, 127, -1, -33, 200, 1 << 15, 1 << 31, int64(1) << 40, uint64(1) << 63,
		float32(1.5), 2.5, "", strings.Repeat("s", 31), strings.Repeat("s", 255), strings.Repeat("s", 256), strings.Repeat("s", 70000),
		[]byte{}, make([]byte, 300), make([]byte, 70000), time.Unix(1700000000, 5), time.Unix(1<<40, 1),
		[]int{1, 2, 3}, make([]int, 20), make([]string, 70000), map[string]int{"a": 1}, map[string]any{"m": map[string]any{"x": []any{1, "y", nil}}},
		make(map[int]bool, 20),
	}
	for i := range 20 {
		values[len(values)-1].(map[int]bool)[i] = true
	}
	for _, v := range values {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(b, Limits{}); err != nil {
			t.Errorf("%T (%d bytes): %v", v, len(b), err)
		}
		for k := range len(b) {
			if err := Check(b[:k], Limits{}); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%T cut to %d of %d bytes: %v, want ErrMalformed", v, k, len(b), err)
			}
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		b []byte
		l Limits
	}{
		"array32 of 4G":            {[]byte{0xdd, 0xff, 0xff, 0xff, 0xff}, Limits{}},
		"array longer than bytes":  {append([]byte{0xdc, 0x00, 0x10}, make([]byte, 15)...), Limits{}},
		"array over MaxContainer":  {append([]byte{0x9f}, make([]byte, 15)...), Limits{MaxContainer: 14}},
		"map over MaxContainer":    {append([]byte{0x88}, make([]byte, 16)...), Limits{MaxContainer: 7}},
		"items over MaxItems":      {append([]byte{0x92, 0x93, 0, 0, 0, 0x93}, 0, 0, 0), Limits{MaxItems: 7}},
		"deeper than MaxDepth":     {append(bytes.Repeat([]byte{0x91}, 5), 0xc0), Limits{MaxDepth: 4}},
		"deeper than 64":           {append(bytes.Repeat([]byte{0x91}, 1000), 0xc0), Limits{}},
		"str32 past the end":       {[]byte{0xdb, 0xfd, 0x10, 0xff, 0xff}, Limits{}},
		"bin16 past the end":       {[]byte{0xc5, 0x01, 0x00, 1, 2}, Limits{}},
		"ext8 past the end":        {[]byte{0xc7, 0x05, 0x01, 1}, Limits{}},
		"fixext16 past the end":    {[]byte{0xd8, 0x01, 1, 2, 3}, Limits{}},
		"reserved code":            {[]byte{0xc1}, Limits{}},
		"empty":                    {nil, Limits{}},
		"map with a missing value": {[]byte{0x81, 0xa1, 'k'}, Limits{}},
	} {
		if err := Check(tc.b, tc.l); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	// At the limits: passes.
	if err := Check(append(bytes.Repeat([]byte{0x91}, 4), 0xc0), Limits{MaxDepth: 4}); err != nil {
		t.Errorf("depth at MaxDepth: %v", err)
	}
	if err := Check(append([]byte{0x9e}, make([]byte, 14)...), Limits{MaxContainer: 14}); err != nil {
		t.Errorf("array at MaxContainer: %v", err)
	}
}
