package transport

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// fuzzMessages makes one of every message type the codec decodes from the
// network (requests on the server, responses and stream messages on the
// client). TestFuzzMessagesComplete keeps the list whole.
var fuzzMessages = []func() any{
	func() any { return new(MembersRequest) },
	func() any { return new(MembersResponse) },
	func() any { return new(MemberInfo) },
	func() any { return new(NodeStats) },
	func() any { return new(WatchRequest) },
	func() any { return new(StatRequest) },
	func() any { return new(StatResponse) },
	func() any { return new(InvalidateRequest) },
	func() any { return new(InvalidateResponse) },
	func() any { return new(LoadRequest) },
	func() any { return new(LoadProgress) },
	func() any { return new(PinRequest) },
	func() any { return new(PinResponse) },
	func() any { return new(AffinityRequest) },
	func() any { return new(PathAffinity) },
	func() any { return new(AffinityResponse) },
	func() any { return new(Split) },
	func() any { return new(AssignRequest) },
	func() any { return new(Assignment) },
	func() any { return new(AssignResponse) },
	func() any { return new(KeyringListRequest) },
	func() any { return new(KeyringChangeRequest) },
	func() any { return new(KeyringResponse) },
	func() any { return new(KeyringMember) },
	func() any { return new(PutMessage) },
	func() any { return new(ObjectVersion) },
	func() any { return new(WriteResponse) },
	func() any { return new(DeleteRequest) },
	func() any { return new(CopyRequest) },
	func() any { return new(UploadRequest) },
	func() any { return new(UploadResponse) },
	func() any { return new(CompletedPart) },
	func() any { return new(CompleteRequest) },
	func() any { return new(ListPartsRequest) },
	func() any { return new(PartInfo) },
	func() any { return new(ListPartsResponse) },
	func() any { return new(ListUploadsRequest) },
	func() any { return new(UploadInfo) },
	func() any { return new(ListUploadsResponse) },
}

// seedMessages are valid messages of every kind: the fuzz corpus starts
// from their encodings.
func seedMessages() []any {
	m := testMembers
	m.Members = append(slices.Clone(m.Members), MemberInfo{ID: "c", Self: &NodeStats{PagesHit: 5, ShadowWindow: time.Hour, ShadowHitRatio: 0.5}})
	m.RingMembers = []string{"a", "b"}
	return []any{
		&m,
		&MembersRequest{SelfStats: true},
		&StatRequest{Path: "lake/a/b", RingVersion: 9, NoPages: true},
		&StatResponse{Path: "lake/a/b", Size: 123, ETag: "e", ModTime: time.Unix(1700000000, 5).UTC(), Version: 2},
		&InvalidateRequest{Prefix: "lake/"},
		&PutMessage{Path: "lake/a/b", Size: 3, Data: []byte("abc"), End: true},
		&PutMessage{Path: "lake/a/", UploadID: "u1", Part: 2, NoForward: true},
		&WriteResponse{Version: ObjectVersion{Size: 3, ETag: "e", ModTime: time.Unix(1700000000, 0).UTC()}, PartETag: "p"},
		&CopyRequest{Src: "lake/a", Dst: "lake/b", IfMatch: "e"},
		&CompleteRequest{Path: "lake/a/b", UploadID: "u1", Parts: []CompletedPart{{Number: 1, ETag: "x"}}},
		&ListPartsRequest{Path: "lake/a/b", UploadID: "u1", Marker: 2, Limit: 10},
		&ListPartsResponse{Parts: []PartInfo{{Number: 1, Size: 5 << 20, ETag: "x"}}, NextMarker: 1, Truncated: true},
		&ListUploadsRequest{Prefix: "lake/", Delimiter: "/", KeyMarker: "a"},
		&ListUploadsResponse{Uploads: []UploadInfo{{Path: "lake/a", UploadID: "u1"}}, Prefixes: []string{"lake/d/"}},
		&LoadRequest{Prefix: "lake/t/", Pin: true, Scope: "db/t"},
		&LoadProgress{FilesDone: 1, FilesTotal: 3, Error: "x"},
		&AffinityRequest{Paths: []string{"lake/a", "lake/b"}, N: 2},
		&AffinityResponse{RingVersion: 1, Results: []PathAffinity{{Path: "lake/a", Nodes: testMembers.Members}}},
		&AssignRequest{Splits: []Split{{Path: "lake/a", Offset: 1, Length: 2}}, MaxLoad: 1.25},
		&AssignResponse{Assignments: []Assignment{{Split: 0, Node: "a"}}, Load: map[string]int{"a": 1}},
	}
}

// canonical encodes v with sorted map keys: equal values, equal bytes
// (NaNs and all, which reflect.DeepEqual would call unequal).
func canonical(t *testing.T, v any) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	return buf.Bytes()
}

// FuzzControlMessages decodes arbitrary bytes as every control message
// through the codec, as the server and client do: it must fail or give a
// value that re-encodes, decodes again and is equal; a request's Validate
// must not panic on whatever decoded.
func FuzzControlMessages(f *testing.F) {
	for _, m := range seedMessages() {
		b, err := msgpack.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x81, 0xa6, 's', 'p', 'l', 'i', 't', 's', 0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, mk := range fuzzMessages {
			v := mk()
			if err := decode(b, v); err != nil {
				continue
			}
			if val, ok := v.(interface{ Validate() error }); ok {
				_ = val.Validate()
			}
			var codec Codec
			enc, err := codec.Marshal(v)
			if err != nil {
				t.Fatalf("%T decoded but does not encode: %v", v, err)
			}
			v2 := mk()
			if err := codec.Unmarshal(enc, v2); err != nil {
				t.Fatalf("%T re-encoded does not decode: %v", v, err)
			}
			if !bytes.Equal(canonical(t, v), canonical(t, v2)) {
				t.Fatalf("%T changed in a round trip:\n%+v\n%+v", v, v, v2)
			}
		}
	})
}

// TestFuzzMessagesComplete: every struct of this package with msgpack
// tags (a control message) is in fuzzMessages, so a new message is fuzzed
// from the day it is added.
func TestFuzzMessagesComplete(t *testing.T) {
	have := map[string]bool{}
	for _, mk := range fuzzMessages {
		have[reflect.TypeOf(mk()).Elem().Name()] = true
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, e.Name(), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fld := range st.Fields.List {
				if fld.Tag != nil && strings.Contains(fld.Tag.Value, "msgpack:") && !have[ts.Name.Name] {
					t.Errorf("%s (%s) has msgpack tags but is not in fuzzMessages", ts.Name.Name, e.Name())
					break
				}
			}
			return true
		})
	}
}
