// The gossip keyring: reading and changing memberlist's keys at run time.

package membership

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/memberlist"
)

// ErrNoEncryption reports a keyring call on a member that started without
// gossip encryption. Keys cannot be added to it at run time: the first key
// would switch encryption on at once, and every other member would stop
// understanding it.
var ErrNoEncryption = errors.New("membership: gossip encryption is off on this node (start it with a gossip key or keyring)")

// validateKeys checks a keyring: AES key sizes, no duplicates.
func validateKeys(keys [][]byte) error {
	for i, k := range keys {
		if err := memberlist.ValidateKey(k); err != nil {
			return fmt.Errorf("%w: key %d of the keyring is %d bytes, want 16, 24 or 32", ErrConfig, i, len(k))
		}
		for _, prev := range keys[:i] {
			if bytes.Equal(prev, k) {
				return fmt.Errorf("%w: key %d of the keyring is there twice", ErrConfig, i)
			}
		}
	}
	return nil
}

// keys is the keyring Start gives memberlist, primary first.
func (c Config) keys() [][]byte {
	if len(c.SecretKey) > 0 {
		return [][]byte{c.SecretKey}
	}
	return c.Keys
}

// Keys returns a copy of the gossip keyring, primary first, or
// ErrNoEncryption.
func (m *Membership) Keys() ([][]byte, error) {
	kr := m.keyring
	if kr == nil {
		return nil, ErrNoEncryption
	}
	m.keyMu.Lock()
	defer m.keyMu.Unlock()
	return cloneKeys(kr.GetKeys()), nil
}

// SetKeys makes the keyring keys (primary first) in the order that never
// leaves the node unable to talk: add the new keys, switch the primary,
// then drop the keys that are no longer wanted. The caller decides what
// may change (a cluster-wide rotation installs everywhere before anyone
// uses the key); SetKeys only checks the keys themselves.
func (m *Membership) SetKeys(keys [][]byte) error {
	kr := m.keyring
	if kr == nil {
		return ErrNoEncryption
	}
	if len(keys) == 0 {
		return fmt.Errorf("%w: an empty keyring would switch encryption off", ErrConfig)
	}
	if err := validateKeys(keys); err != nil {
		return err
	}
	m.keyMu.Lock()
	defer m.keyMu.Unlock()
	for _, k := range keys {
		if err := kr.AddKey(slices.Clone(k)); err != nil {
			return fmt.Errorf("membership: install key: %w", err)
		}
	}
	if err := kr.UseKey(keys[0]); err != nil {
		return fmt.Errorf("membership: use key: %w", err)
	}
	for _, old := range cloneKeys(kr.GetKeys()) {
		if slices.ContainsFunc(keys, func(k []byte) bool { return bytes.Equal(k, old) }) {
			continue
		}
		if err := kr.RemoveKey(old); err != nil {
			return fmt.Errorf("membership: remove key: %w", err)
		}
	}
	return nil
}

func cloneKeys(keys [][]byte) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = slices.Clone(k)
	}
	return out
}
