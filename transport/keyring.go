// Keyring control messages: reading and rotating the gossip keyring of
// every live member (ringcache keyring list|install|use|remove).

package transport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"google.golang.org/grpc"
)

// Full method names of the keyring RPCs.
const (
	MethodKeyringList    = "/" + ControlServiceName + "/KeyringList"
	MethodKeyringInstall = "/" + ControlServiceName + "/KeyringInstall"
	MethodKeyringUse     = "/" + ControlServiceName + "/KeyringUse"
	MethodKeyringRemove  = "/" + ControlServiceName + "/KeyringRemove"
)

// KeyringListRequest asks every live member (or, with NoForward, the
// receiving node alone) for its keyring.
type KeyringListRequest struct {
	NoForward bool `msgpack:"nofwd"`
}

// KeyringChangeRequest installs, uses (makes primary) or removes Key on
// every live member (or, with NoForward, on the receiving node alone).
type KeyringChangeRequest struct {
	Key       []byte `msgpack:"key"`
	NoForward bool   `msgpack:"nofwd"`
}

// KeyringResponse is each contacted member's answer, sorted by ID. The
// call succeeds when the fan-out ran; a member that failed says so in its
// Error.
type KeyringResponse struct {
	Members []KeyringMember `msgpack:"members"`
}

// KeyringMember is one member's keyring after the call. Keys are never
// sent back: Keys holds their KeyFingerprint, primary first.
type KeyringMember struct {
	ID   string   `msgpack:"id"`
	Keys []string `msgpack:"keys"`
	// Persisted says the member keeps its keyring in a file
	// (--gossip-keyring), so a restart comes back with these keys.
	Persisted bool   `msgpack:"persisted"`
	Error     string `msgpack:"error,omitempty"`
}

// KeyFingerprint names a gossip key without revealing it: the first 8 hex
// digits of its SHA-256.
func KeyFingerprint(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// Validate checks the request's shape; the node checks the rest.
func (*KeyringListRequest) Validate() error { return nil }

// Validate checks the key's size (AES-128/192/256).
func (r *KeyringChangeRequest) Validate() error {
	switch len(r.Key) {
	case 16, 24, 32:
		return nil
	}
	return fmt.Errorf("%w: gossip key is %d bytes, want 16, 24 or 32", ErrBadRequest, len(r.Key))
}

func (c controlClient) KeyringList(ctx context.Context, in *KeyringListRequest, opts ...grpc.CallOption) (*KeyringResponse, error) {
	return invoke[KeyringResponse](ctx, c.cc, MethodKeyringList, in, opts)
}

func (c controlClient) KeyringInstall(ctx context.Context, in *KeyringChangeRequest, opts ...grpc.CallOption) (*KeyringResponse, error) {
	return invoke[KeyringResponse](ctx, c.cc, MethodKeyringInstall, in, opts)
}

func (c controlClient) KeyringUse(ctx context.Context, in *KeyringChangeRequest, opts ...grpc.CallOption) (*KeyringResponse, error) {
	return invoke[KeyringResponse](ctx, c.cc, MethodKeyringUse, in, opts)
}

func (c controlClient) KeyringRemove(ctx context.Context, in *KeyringChangeRequest, opts ...grpc.CallOption) (*KeyringResponse, error) {
	return invoke[KeyringResponse](ctx, c.cc, MethodKeyringRemove, in, opts)
}

// KeyringList is not implemented.
func (UnimplementedControlServer) KeyringList(context.Context, *KeyringListRequest) (*KeyringResponse, error) {
	return nil, unimplemented("KeyringList")
}

// KeyringInstall is not implemented.
func (UnimplementedControlServer) KeyringInstall(context.Context, *KeyringChangeRequest) (*KeyringResponse, error) {
	return nil, unimplemented("KeyringInstall")
}

// KeyringUse is not implemented.
func (UnimplementedControlServer) KeyringUse(context.Context, *KeyringChangeRequest) (*KeyringResponse, error) {
	return nil, unimplemented("KeyringUse")
}

// KeyringRemove is not implemented.
func (UnimplementedControlServer) KeyringRemove(context.Context, *KeyringChangeRequest) (*KeyringResponse, error) {
	return nil, unimplemented("KeyringRemove")
}
