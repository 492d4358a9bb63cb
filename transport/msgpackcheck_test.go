package transport

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
	"google.golang.org/grpc/mem"

	"github.com/ringcache/ringcache/internal/msgpackcheck"
)

func decode(b []byte, v any) error { return Codec{}.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, v) }

// TestCodecRefusesAmplification: a few bytes that claim a huge array, or
// nest without end, are refused before msgpack allocates or recurses; the
// largest legitimate messages still decode.
func TestCodecRefusesAmplification(t *testing.T) {
	splits := []byte{0x81, 0xa6, 's', 'p', 'l', 'i', 't', 's'}
	for name, b := range map[string][]byte{
		"array32 of 4G splits":            append(bytes.Clone(splits), 0xdd, 0xff, 0xff, 0xff, 0xff),
		"array32 of 16M splits":           append(bytes.Clone(splits), 0xdd, 0x01, 0, 0, 0),
		"array16 longer than the message": append(bytes.Clone(splits), 0xdc, 0xff, 0xff, 0x80),
		"map32 of 4G entries":             {0xdf, 0xff, 0xff, 0xff, 0xff},
		"deep nesting":                    append(append([]byte{0x81, 0xa1, 'x'}, bytes.Repeat([]byte{0x91}, 1<<20)...), 0xc0),
		"str32 past the end":              {0x81, 0xa4, 'p', 'a', 't', 'h', 0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'},
		"reserved code":                   {0xc1},
		"truncated":                       {0x82, 0xa4, 'p', 'a', 't', 'h'},
	} {
		var r AssignRequest
		if err := decode(b, &r); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	big := &AssignRequest{Splits: make([]Split, MaxAssignSplits)}
	for i := range big.Splits {
		big.Splits[i] = Split{Path: "lake/f", Length: int64(i)}
	}
	res := &AffinityResponse{Results: make([]PathAffinity, MaxAffinityPaths)}
	for i := range res.Results {
		res.Results[i] = PathAffinity{Path: fmt.Sprint("lake/", i), Nodes: make([]MemberInfo, DefaultAffinityNodes)}
	}
	for _, m := range []any{big, res, &AssignResponse{Assignments: make([]Assignment, MaxAssignSplits), Load: map[string]int{"a": 1}}} {
		b, err := msgpack.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := msgpackcheck.Check(b, messageShape); err != nil {
			t.Errorf("%T at its batch limit (%d bytes): %v", m, len(b), err)
		}
	}
}
