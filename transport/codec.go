package transport

import (
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
	"google.golang.org/grpc/mem"

	"github.com/ringcache/ringcache/internal/msgpackcheck"
)

// CodecName is the gRPC content-subtype of the control messages.
const CodecName = "msgpack"

// Codec is the msgpack encoding.CodecV2 of the control RPCs. It is passed
// per server (grpc.ForceServerCodecV2) and per client connection
// (grpc.ForceCodecV2) instead of being registered in grpc's process-wide
// registry, so several nodes and clients in one process need no global state.
type Codec struct{}

// Name returns CodecName.
func (Codec) Name() string { return CodecName }

// Marshal encodes v. The result is a single buffer that grpc frees; msgpack
// allocates it, so it is not returned to a pool.
func (Codec) Marshal(v any) (mem.BufferSlice, error) {
	b, err := msgpack.Marshal(v)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

// Unmarshal decodes data into v. A message that arrived in one buffer is
// decoded in place; otherwise it is gathered into a pooled buffer first.
// The bytes come from the network: msgpackcheck vets their shape first
// (messageShape), and a message it refuses is ErrMalformed.
func (Codec) Unmarshal(data mem.BufferSlice, v any) error {
	if len(data) == 1 {
		return unmarshal(data[0].ReadOnlyData(), v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return unmarshal(buf.ReadOnlyData(), v)
}

func unmarshal(b []byte, v any) error {
	if err := msgpackcheck.Check(b, messageShape); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return msgpack.Unmarshal(b, v)
}

// ErrMalformed is a control message that is not msgpack the codec may
// decode: broken, or shaped to make the decoder allocate or recurse far
// beyond its size (package msgpackcheck says how).
var ErrMalformed = errors.New("transport: malformed control message")

// messageShape bounds the shape of one control message: nesting (the
// deepest, AffinityResponse with NodeStats, nests 6 deep), one array or
// map at most the largest batch (MaxAssignSplits), and twice that in array
// elements in all (an AssignResponse for MaxAssignSplits splits, plus a
// few).
var messageShape = msgpackcheck.Limits{MaxDepth: 32, MaxContainer: MaxAssignSplits, MaxItems: 2 * MaxAssignSplits}
