package membership

import (
	"errors"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/ringcache/ringcache/internal/msgpackcheck"
)

// TestDecodeMetaSizeLimit: a meta of MetaMaxSize bytes decodes; one byte
// more is refused before decoding, as memberlist would never gossip it.
func TestDecodeMetaSizeLimit(t *testing.T) {
	sized := func(n int) []byte {
		m := Meta{GRPCAddr: "10.0.0.1:7100", State: StateActive, Build: strings.Repeat("b", n-64)}
		b, err := msgpack.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		m.Build += strings.Repeat("b", n-len(b))
		if b, err = msgpack.Marshal(&m); err != nil || len(b) != n {
			t.Fatalf("meta of %d bytes, want %d (%v)", len(b), n, err)
		}
		return b
	}
	if _, err := DecodeMeta(sized(MetaMaxSize)); err != nil {
		t.Fatalf("meta of MetaMaxSize: %v", err)
	}
	if _, err := DecodeMeta(sized(MetaMaxSize + 1)); !errors.Is(err, ErrBadMeta) {
		t.Fatalf("meta of MetaMaxSize+1: %v, want ErrBadMeta", err)
	}
}

// TestDecodeMetaLengthPastEnd: a string header claiming 4 GB in 8 bytes of
// meta is refused before msgpack sees it (its pooled decoder grew by
// gigabytes per such call: the fuzzer's worker hung on it).
func TestDecodeMetaLengthPastEnd(t *testing.T) {
	for range 3 {
		_, err := DecodeMeta([]byte("\x81\xa1g\xdb\xfd\x10\xff\xff"))
		if !errors.Is(err, ErrBadMeta) || !errors.Is(err, msgpackcheck.ErrMalformed) {
			t.Fatalf("%v, want ErrBadMeta and msgpackcheck.ErrMalformed", err)
		}
	}
}
