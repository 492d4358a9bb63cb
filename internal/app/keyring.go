package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/ringcache/ringcache/client"
	"github.com/ringcache/ringcache/internal/cli"
	"github.com/ringcache/ringcache/transport"
)

// keyringCmd is `ringcache keyring list|install KEY|use KEY|remove KEY`:
// every live member's answer, a summary line, exit 1 if any member failed.
type keyringCmd struct {
	List    keyringListCmd   `cmd:"" help:"Show every live member's gossip keys (fingerprints, primary first)."`
	Install keyringChangeCmd `cmd:"" help:"Add KEY to every live member's keyring (step 1 of a rotation)."`
	Use     keyringChangeCmd `cmd:"" help:"Make KEY every live member's primary key (step 2)."`
	Remove  keyringChangeCmd `cmd:"" help:"Drop KEY from every live member's keyring (step 3); the primary key cannot be removed."`
}

type keyringListCmd struct {
	clientFlags `embed:""`
}

// Run lists.
func (k *keyringListCmd) Run(env Env) error {
	return k.withClient(env, "ringcache keyring list", func(ctx context.Context, c *client.Client) error {
		r, err := c.KeyringList(ctx)
		if err != nil {
			return err
		}
		return printKeyring(env, r, "")
	})
}

type keyringChangeCmd struct {
	clientFlags `embed:""`

	Key string `arg:"" help:"Base64 AES key (16, 24 or 32 bytes)."`
}

// Run installs, uses or removes the key (the subcommand's name says which).
func (k *keyringChangeCmd) Run(env Env, kctx *kong.Context) error {
	op := kctx.Selected().Name
	cmd := "ringcache keyring " + op
	key, err := base64.StdEncoding.DecodeString(k.Key)
	if err != nil {
		return cli.Usagef(cmd, "KEY is not base64: %v", err)
	}
	if err := (&transport.KeyringChangeRequest{Key: key}).Validate(); err != nil {
		return cli.Usagef(cmd, "KEY: %v", err)
	}
	call := map[string]func(*client.Client, context.Context, []byte) (*transport.KeyringResponse, error){
		"install": (*client.Client).KeyringInstall, "use": (*client.Client).KeyringUse, "remove": (*client.Client).KeyringRemove,
	}[op]
	return k.withClient(env, cmd, func(ctx context.Context, c *client.Client) error {
		r, err := call(c, ctx, key)
		if err != nil {
			return err
		}
		return printKeyring(env, r, transport.KeyFingerprint(key))
	})
}

// printKeyring prints one line a member and "N/M members"; it fails (one
// line naming the first failed member) unless every member succeeded.
func printKeyring(env Env, r *transport.KeyringResponse, key string) error {
	if key != "" {
		fmt.Fprintf(env.Stdout, "key %s\n", key)
	}
	ok := 0
	var failed []string
	for _, m := range r.Members {
		if m.Error != "" {
			fmt.Fprintf(env.Stdout, "%s\tFAILED\t%s\n", m.ID, m.Error)
			failed = append(failed, m.ID+": "+m.Error)
			continue
		}
		ok++
		line := "primary " + strings.Join(m.Keys, ", ")
		if len(m.Keys) > 1 {
			line = "primary " + m.Keys[0] + ", also " + strings.Join(m.Keys[1:], ", ")
		}
		if !m.Persisted {
			line += " (not persisted: no --gossip-keyring)"
		}
		fmt.Fprintf(env.Stdout, "%s\tok\t%s\n", m.ID, line)
	}
	fmt.Fprintf(env.Stdout, "%d/%d members\n", ok, len(r.Members))
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d members failed; first: %s", len(failed), len(r.Members), failed[0])
	}
	return nil
}
