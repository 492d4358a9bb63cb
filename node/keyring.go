// Gossip keyring RPCs: each change is fanned out to every live member,
// which applies it to its memberlist keyring and persists it.

package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/ringcache/ringcache/node/membership"
	"github.com/ringcache/ringcache/transport"
)

// Keyring errors a member answers with (in KeyringMember.Error).
var (
	// ErrPrimaryKey refuses removing the key that encrypts: the member
	// would be left unable to send. Use another key first.
	ErrPrimaryKey = errors.New("node: the primary gossip key cannot be removed; make another key primary first (keyring use)")
	// ErrKeyNotInstalled refuses using a key the member does not hold.
	ErrKeyNotInstalled = errors.New("node: gossip key not installed on this member; install it first (keyring install)")
)

// keyOp is one keyring change.
type keyOp string

const (
	keyInstall keyOp = "install"
	keyUse     keyOp = "use"
	keyRemove  keyOp = "remove"
)

// nextKeys is the keyring after op with key, primary first. Installing a
// key already there and removing one that is not are no-ops, so a rotation
// that failed on some member can simply be run again.
func nextKeys(op keyOp, keys [][]byte, key []byte) ([][]byte, error) {
	i := slices.IndexFunc(keys, func(k []byte) bool { return bytes.Equal(k, key) })
	next := slices.Clone(keys)
	switch op {
	case keyInstall:
		if i < 0 {
			next = append(next, slices.Clone(key))
		}
	case keyUse:
		if i < 0 {
			return nil, ErrKeyNotInstalled
		}
		primary := next[i]
		next = append([][]byte{primary}, slices.Delete(next, i, i+1)...)
	case keyRemove:
		if i == 0 {
			return nil, ErrPrimaryKey
		}
		if i > 0 {
			next = slices.Delete(next, i, i+1)
		}
	default:
		return nil, fmt.Errorf("%w: keyring op %q", ErrBadRequest, op)
	}
	return next, nil
}

// KeyringList implements transport.ControlServer.
func (n *Node) KeyringList(ctx context.Context, req *transport.KeyringListRequest) (*transport.KeyringResponse, error) {
	if req.NoForward {
		return &transport.KeyringResponse{Members: []transport.KeyringMember{n.keyringLocal("", nil)}}, nil
	}
	return n.keyringFanOut(ctx, func(ctx context.Context, cc transport.ControlClient) (*transport.KeyringResponse, error) {
		return cc.KeyringList(ctx, &transport.KeyringListRequest{NoForward: true})
	}, func() transport.KeyringMember { return n.keyringLocal("", nil) }), nil
}

// KeyringInstall implements transport.ControlServer.
func (n *Node) KeyringInstall(ctx context.Context, req *transport.KeyringChangeRequest) (*transport.KeyringResponse, error) {
	return n.keyringChange(ctx, keyInstall, req, transport.ControlClient.KeyringInstall)
}

// KeyringUse implements transport.ControlServer.
func (n *Node) KeyringUse(ctx context.Context, req *transport.KeyringChangeRequest) (*transport.KeyringResponse, error) {
	return n.keyringChange(ctx, keyUse, req, transport.ControlClient.KeyringUse)
}

// KeyringRemove implements transport.ControlServer.
func (n *Node) KeyringRemove(ctx context.Context, req *transport.KeyringChangeRequest) (*transport.KeyringResponse, error) {
	return n.keyringChange(ctx, keyRemove, req, transport.ControlClient.KeyringRemove)
}

type keyringRPC func(transport.ControlClient, context.Context, *transport.KeyringChangeRequest, ...grpc.CallOption) (*transport.KeyringResponse, error)

// With TLS only node and admin certificates get here (adminMethods).
func (n *Node) keyringChange(ctx context.Context, op keyOp, req *transport.KeyringChangeRequest, rpc keyringRPC) (*transport.KeyringResponse, error) {
	if req.NoForward {
		return &transport.KeyringResponse{Members: []transport.KeyringMember{n.keyringLocal(op, req.Key)}}, nil
	}
	fwd := &transport.KeyringChangeRequest{Key: req.Key, NoForward: true}
	return n.keyringFanOut(ctx, func(ctx context.Context, cc transport.ControlClient) (*transport.KeyringResponse, error) {
		return rpc(cc, ctx, fwd)
	}, func() transport.KeyringMember { return n.keyringLocal(op, req.Key) }), nil
}

// keyringFanOut runs a keyring call on every live member (not only the
// ring's: a joining member gossips too) and collects their answers.
func (n *Node) keyringFanOut(ctx context.Context, remote func(context.Context, transport.ControlClient) (*transport.KeyringResponse, error),
	local func() transport.KeyringMember) *transport.KeyringResponse {
	var ids []string
	for _, m := range n.members.Members() {
		switch m.State {
		case membership.StateJoining, membership.StateActive, membership.StateSuspect:
			ids = append(ids, m.ID)
		}
	}
	if !slices.Contains(ids, n.id) {
		ids = append(ids, n.id)
	}
	answers := make(map[string]transport.KeyringMember, len(ids))
	errs := n.broadcastTo(ctx, ids, func(ctx context.Context, id string, cc transport.ControlClient) error {
		var a transport.KeyringMember
		if cc == nil {
			a = local()
		} else {
			r, err := remote(ctx, cc)
			if err != nil {
				return err
			}
			if len(r.Members) != 1 {
				return fmt.Errorf("answered for %d members, want 1", len(r.Members))
			}
			a = r.Members[0]
		}
		n.keyAnswers.Lock()
		answers[id] = a
		n.keyAnswers.Unlock()
		return nil
	})
	resp := &transport.KeyringResponse{}
	for _, id := range ids {
		a, ok := answers[id]
		if err := errs[id]; err != nil || !ok {
			a = transport.KeyringMember{ID: id, Error: rpcMessage(err)}
		}
		a.ID = id
		resp.Members = append(resp.Members, a)
	}
	slices.SortFunc(resp.Members, func(a, b transport.KeyringMember) int { return strings.Compare(a.ID, b.ID) })
	return resp
}

// keyringLocal applies op (none for a list) to this node's keyring,
// persisting it first when there is a keyring file: what is on disk is
// never behind what the node gossips with.
func (n *Node) keyringLocal(op keyOp, key []byte) transport.KeyringMember {
	a := transport.KeyringMember{ID: n.id, Persisted: n.cfg.GossipKeyring != ""}
	n.keyMu.Lock()
	defer n.keyMu.Unlock()
	keys, err := n.members.Keys()
	if err == nil && op != "" {
		keys, err = n.changeKeys(op, keys, key)
	}
	if err != nil {
		a.Error = err.Error()
		return a
	}
	for _, k := range keys {
		a.Keys = append(a.Keys, transport.KeyFingerprint(k))
	}
	return a
}

func (n *Node) changeKeys(op keyOp, keys [][]byte, key []byte) ([][]byte, error) {
	next, err := nextKeys(op, keys, key)
	if err != nil {
		return nil, err
	}
	if slices.EqualFunc(next, keys, bytes.Equal) {
		return keys, nil
	}
	if n.cfg.GossipKeyring != "" {
		if err := writeKeyring(n.cfg.GossipKeyring, next); err != nil {
			return nil, err
		}
	}
	if err := n.members.SetKeys(next); err != nil {
		return nil, err
	}
	n.log.Info("gossip keyring changed", "op", string(op), "key", transport.KeyFingerprint(key), "keys", len(next))
	return next, nil
}

// rpcMessage is an error as a member answer shows it: a node's gRPC
// message without gRPC's wrapping.
func rpcMessage(err error) string {
	if err == nil {
		return "no answer"
	}
	if st, ok := status.FromError(err); ok {
		return st.Message()
	}
	return err.Error()
}
