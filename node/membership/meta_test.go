package membership

import (
	"errors"
	"strings"
	"testing"

	"github.com/ringcache/ringcache/ring"
)

func TestMetaEncoding(t *testing.T) {
	m := Meta{
		GRPCAddr: "10.0.0.1:7100", HTTPAddr: "10.0.0.1:7180", S3Addr: "10.0.0.1:9000",
		Zone: "eu-west-1a", Capacity: 10 << 40, PageSize: 1 << 20,
		RingVersionParams: 0x1234567890abcdef, State: StateActive, Build: "v0.1.0-abcdef",
	}
	b, err := EncodeMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("typical meta: %d bytes of %d", len(b), MetaMaxSize)
	if len(b) > 128 {
		t.Errorf("typical meta is %d bytes; the short keys should keep it under 128", len(b))
	}
	got, err := DecodeMeta(b)
	if err != nil || got != m {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, m)
	}
	m.Zone = strings.Repeat("z", MetaMaxSize)
	if _, err := EncodeMeta(m); !errors.Is(err, ErrMetaTooLarge) {
		t.Fatalf("oversized meta: %v, want ErrMetaTooLarge", err)
	}
	if _, err := DecodeMeta(nil); !errors.Is(err, ErrBadMeta) {
		t.Fatalf("empty meta: %v, want ErrBadMeta", err)
	}
	if _, err := DecodeMeta([]byte{0xc1}); !errors.Is(err, ErrBadMeta) {
		t.Fatalf("garbage meta: %v, want ErrBadMeta", err)
	}
}

func TestRingParams(t *testing.T) {
	a, err := RingParams(ring.Config{})
	if err != nil {
		t.Fatal(err)
	}
	def, err := ring.New(ring.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RingParams(def.Config())
	if err != nil || a != b {
		t.Fatalf("zero config and explicit defaults hash differently: %x vs %x (%v)", a, b, err)
	}
	c, err := RingParams(ring.Config{PageSize: 2 * def.Config().PageSize})
	if err != nil || c == a {
		t.Fatalf("page size not part of the params: %x vs %x (%v)", c, a, err)
	}
}
