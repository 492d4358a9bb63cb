package msgpackcheck

import (
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// FuzzCheck: Check never panics, and what it accepts msgpack decodes
// (into an empty interface, the decoder's most general path) without
// panicking; an error is fine.
func FuzzCheck(f *testing.F) {
	for _, v := range []any{nil, 1, "s", []any{1, "x", map[string]any{"k": []byte{1}}}, map[string]int{"a": 1}} {
		b, err := msgpack.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0xdb, 0xfd, 0x10, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if Check(b, Limits{MaxContainer: 1 << 10}) != nil {
			return
		}
		var v any
		_ = msgpack.Unmarshal(b, &v)
	})
}
