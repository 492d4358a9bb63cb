package transport

import (
	"github.com/vmihailenco/msgpack/v5"
	"google.golang.org/grpc/mem"
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
// The bytes come from the network: checkMsgpack vets their shape first.
func (Codec) Unmarshal(data mem.BufferSlice, v any) error {
	if len(data) == 1 {
		return unmarshal(data[0].ReadOnlyData(), v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return unmarshal(buf.ReadOnlyData(), v)
}

func unmarshal(b []byte, v any) error {
	if err := checkMsgpack(b); err != nil {
		return err
	}
	return msgpack.Unmarshal(b, v)
}
