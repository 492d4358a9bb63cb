package membership

import (
	"fmt"

	"github.com/ringcache/ringcache/internal/msgpackcheck"
	"github.com/ringcache/ringcache/ring"
	"github.com/vmihailenco/msgpack/v5"
)

// MetaMaxSize is memberlist's limit on the node metadata of one member
// (memberlist.MetaMaxSize). Meta is checked against it before it is gossiped.
const MetaMaxSize = 512

// State is a member's state. A node gossips StateJoining, StateActive or
// StateLeaving in its own Meta; StateSuspect, StateDead and StateLeft are what
// the local node observes of the others through memberlist.
type State string

// The states of a member. Only members in StateActive (as gossiped) that
// memberlist considers alive are in the ring.
const (
	StateJoining State = "joining"
	StateActive  State = "active"
	StateLeaving State = "leaving"
	StateSuspect State = "suspect"
	StateDead    State = "dead"
	StateLeft    State = "left"
)

// gossiped reports whether s may appear in a node's own Meta.
func (s State) gossiped() bool {
	return s == StateJoining || s == StateActive || s == StateLeaving
}

// Meta is the node metadata every member gossips. It is msgpack-encoded with
// one-letter keys so that it stays well below MetaMaxSize; the keys are part
// of the wire format between versions of ringcache and must not change.
type Meta struct {
	GRPCAddr string `msgpack:"g,omitempty"`
	HTTPAddr string `msgpack:"h,omitempty"`
	S3Addr   string `msgpack:"s,omitempty"`
	Zone     string `msgpack:"z,omitempty"`
	Capacity int64  `msgpack:"c,omitempty"`
	PageSize int64  `msgpack:"p,omitempty"`
	// RingVersionParams is RingParams(cfg.Ring): the ring parameters the node
	// places files with. Start fills it in; a peer with another value is
	// refused because it would compute other owners for the same member set.
	RingVersionParams uint64 `msgpack:"r,omitempty"`
	State             State  `msgpack:"t,omitempty"`
	Build             string `msgpack:"b,omitempty"`
	// TLS says the node's data port (gRPC + page stream) speaks only TLS.
	// Nodes of one cluster must agree: a plaintext node cannot dial a TLS
	// one and the reverse, so a peer with another value is refused.
	TLS bool `msgpack:"l,omitempty"`
}

// EncodeMeta returns the wire form of m, or ErrMetaTooLarge if it exceeds
// MetaMaxSize.
func EncodeMeta(m Meta) ([]byte, error) {
	b, err := msgpack.Marshal(&m)
	if err != nil {
		return nil, fmt.Errorf("membership: encode meta: %w", err)
	}
	if len(b) > MetaMaxSize {
		return nil, fmt.Errorf("%w: %d bytes encoded, limit %d (shorten addresses, zone or build)", ErrMetaTooLarge, len(b), MetaMaxSize)
	}
	return b, nil
}

// DecodeMeta parses the wire form of a Meta. Unknown keys are ignored so that
// a newer node may add fields. More than MetaMaxSize bytes is refused before
// decoding: memberlist never gossips such a meta, so it is not a peer's.
func DecodeMeta(b []byte) (Meta, error) {
	var m Meta
	if len(b) == 0 {
		return m, fmt.Errorf("%w: empty node meta (not a ringcache node?)", ErrBadMeta)
	}
	if len(b) > MetaMaxSize {
		return m, fmt.Errorf("%w: %d bytes, limit %d", ErrBadMeta, len(b), MetaMaxSize)
	}
	// Vetted first: the msgpack decoder trusts the lengths in headers
	// (package msgpackcheck). Meta is flat; 8 levels allow for fields a
	// newer node adds.
	if err := msgpackcheck.Check(b, msgpackcheck.Limits{MaxDepth: 8, MaxContainer: MetaMaxSize}); err != nil {
		return m, fmt.Errorf("%w: %w", ErrBadMeta, err)
	}
	if err := msgpack.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %v", ErrBadMeta, err)
	}
	return m, nil
}

// RingParams returns the hash of the ring parameters in cfg after defaults
// (ring.Config.Hash: partition count, load, page size, virtual nodes; not
// the members). Two nodes with equal RingParams build equal rings from equal
// member sets. It fails if cfg is invalid.
func RingParams(cfg ring.Config) (uint64, error) {
	if err := cfg.Validate(); err != nil {
		return 0, fmt.Errorf("%w: ring config: %w", ErrConfig, err)
	}
	return cfg.Hash(), nil
}

// compatible returns nil if a peer with meta other may share a ring with a
// node whose own meta is self, or an error saying why not.
func compatible(self, other Meta) error {
	if other.PageSize != self.PageSize {
		return fmt.Errorf("%w: page size %d, ours %d", ErrIncompatible, other.PageSize, self.PageSize)
	}
	if other.TLS != self.TLS {
		return fmt.Errorf("%w: TLS on the data port %s, ours %s", ErrIncompatible, onOff(other.TLS), onOff(self.TLS))
	}
	if other.RingVersionParams != self.RingVersionParams {
		return fmt.Errorf("%w: ring parameters %016x, ours %016x", ErrIncompatible, other.RingVersionParams, self.RingVersionParams)
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
