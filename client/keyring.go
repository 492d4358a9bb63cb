package client

import (
	"context"

	"google.golang.org/grpc"

	"github.com/ringcache/ringcache/transport"
)

// The gossip keyring of every live member. Any member answers: it fans the
// call out and returns each member's answer (transport.KeyringMember; a
// member that failed has Error set). Rotating a key the Consul/Serf way
// is KeyringInstall(new), then KeyringUse(new), then KeyringRemove(old),
// each on every member before the next. install, use and remove are
// idempotent, so a step that some member missed can be run again.

// KeyringList returns every live member's keyring (key fingerprints,
// primary first).
func (c *Client) KeyringList(ctx context.Context) (*transport.KeyringResponse, error) {
	return c.keyringCall(ctx, func(ctx context.Context, cc transport.ControlClient) (*transport.KeyringResponse, error) {
		return cc.KeyringList(ctx, &transport.KeyringListRequest{})
	})
}

// KeyringInstall adds key to every live member's keyring (it decrypts
// with it from then on; the primary still encrypts).
func (c *Client) KeyringInstall(ctx context.Context, key []byte) (*transport.KeyringResponse, error) {
	return c.keyringChange(ctx, key, transport.ControlClient.KeyringInstall)
}

// KeyringUse makes key, already installed everywhere, the primary key of
// every live member: the one it encrypts with.
func (c *Client) KeyringUse(ctx context.Context, key []byte) (*transport.KeyringResponse, error) {
	return c.keyringChange(ctx, key, transport.ControlClient.KeyringUse)
}

// KeyringRemove drops key from every live member's keyring; a member whose
// primary it is refuses.
func (c *Client) KeyringRemove(ctx context.Context, key []byte) (*transport.KeyringResponse, error) {
	return c.keyringChange(ctx, key, transport.ControlClient.KeyringRemove)
}

type keyringRPC = func(transport.ControlClient, context.Context, *transport.KeyringChangeRequest, ...grpc.CallOption) (*transport.KeyringResponse, error)

func (c *Client) keyringChange(ctx context.Context, key []byte, rpc keyringRPC) (*transport.KeyringResponse, error) {
	req := &transport.KeyringChangeRequest{Key: key}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return c.keyringCall(ctx, func(ctx context.Context, cc transport.ControlClient) (*transport.KeyringResponse, error) {
		return rpc(cc, ctx, req)
	})
}

// keyringCall runs a keyring call on any member, failing over as other
// control calls do (the calls are idempotent).
func (c *Client) keyringCall(ctx context.Context, call func(context.Context, transport.ControlClient) (*transport.KeyringResponse, error)) (*transport.KeyringResponse, error) {
	var out *transport.KeyringResponse
	err := c.onOwners(ctx, "", func(ctx context.Context, cc transport.ControlClient, _ uint64) error {
		r, err := call(ctx, cc)
		out = r
		return err
	})
	return out, err
}
