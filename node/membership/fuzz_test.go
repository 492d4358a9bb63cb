package membership

import "testing"

// FuzzDecodeMeta: node meta arrives from the network (any peer that can
// gossip); decoding must never panic, and what decodes must re-encode to
// an equal Meta.
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
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMeta(b)
		if err != nil {
			return
		}
		b2, err := EncodeMeta(m)
		if err != nil {
			return // a 512+ byte input may decode to an oversized meta
		}
		m2, err := DecodeMeta(b2)
		if err != nil || m2 != m {
			t.Fatalf("re-encode: %+v, %v; want %+v", m2, err, m)
		}
	})
}
