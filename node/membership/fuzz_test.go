package membership

import (
	"errors"
	"testing"
)

// FuzzDecodeMeta: node meta arrives from the network (any peer that can
// gossip); decoding must never panic, and what decodes must re-encode to
// an equal Meta. More than MetaMaxSize bytes is refused.
func FuzzDecodeMeta(f *testing.F) {
	for _, m := range []Meta{{}, {GRPCAddr: "10.0.0.1:7100", PageSize: 1 << 20, State: StateActive, RingVersionParams: 42}} {
		b, err := EncodeMeta(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff}) // map32 claiming 4G entries
	f.Add([]byte{0x81, 0xa1, 'g', 0xdb, 0xff, 0xff, 0xff, 0xff})
	f.Add(append([]byte{0x81, 0xa1, 'b', 0xda, 0x02, 0x00}, make([]byte, 512)...)) // over MetaMaxSize
	f.Add([]byte{0x81, 0xa1, 'x', 0x91, 0x91, 0x91, 0x91, 0xc0})                   // nested unknown key
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMeta(b)
		if err != nil {
			if !errors.Is(err, ErrBadMeta) {
				t.Fatalf("error not ErrBadMeta: %v", err)
			}
			return
		}
		if len(b) > MetaMaxSize {
			t.Fatalf("%d bytes of meta accepted, limit %d", len(b), MetaMaxSize)
		}
		b2, err := EncodeMeta(m)
		if err != nil {
			if !errors.Is(err, ErrMetaTooLarge) {
				t.Fatalf("decoded meta does not re-encode: %v", err)
			}
			return // near the limit, a compact input may re-encode longer
		}
		m2, err := DecodeMeta(b2)
		if err != nil || m2 != m {
			t.Fatalf("re-encode: %+v, %v; want %+v", m2, err, m)
		}
	})
}
