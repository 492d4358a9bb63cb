// The gossip keyring file (--gossip-keyring): a JSON array of base64 keys,
// primary first, as Serf keeps it.

package node

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// readKeyring parses a keyring file. A missing file is os.ErrNotExist
// (wrapped); an empty array is an error (it would switch encryption off).
func readKeyring(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("node: gossip keyring: %w", err)
	}
	var enc []string
	if err := json.Unmarshal(b, &enc); err != nil {
		return nil, fmt.Errorf("%w: gossip keyring %s: want a JSON array of base64 keys: %v", ErrConfig, path, err)
	}
	if len(enc) == 0 {
		return nil, fmt.Errorf("%w: gossip keyring %s holds no key", ErrConfig, path)
	}
	keys := make([][]byte, len(enc))
	for i, e := range enc {
		k, err := base64.StdEncoding.DecodeString(e)
		if err != nil {
			return nil, fmt.Errorf("%w: gossip keyring %s: key %d is not base64: %v", ErrConfig, path, i, err)
		}
		if !validKeySize(k) {
			return nil, fmt.Errorf("%w: gossip keyring %s: key %d is %d bytes, want 16, 24 or 32", ErrConfig, path, i, len(k))
		}
		keys[i] = k
	}
	return keys, nil
}

// writeKeyring replaces the keyring file atomically and durably: a temp
// file in the same directory, fsync, rename, fsync of the directory. A
// crash leaves the old keyring or the new one, never a torn file. The file
// is 0600: it holds the cluster's gossip keys.
func writeKeyring(path string, keys [][]byte) error {
	enc := make([]string, len(keys))
	for i, k := range keys {
		enc[i] = base64.StdEncoding.EncodeToString(k)
	}
	b, err := json.Marshal(enc)
	if err != nil {
		return fmt.Errorf("node: gossip keyring: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("node: write gossip keyring: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename: no such file, ignored
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("node: write gossip keyring: %w", err)
	}
	return syncDir(dir)
}

// loadKeys returns the gossip keys the node starts with, primary first
// (nil: no encryption), creating the keyring file from GossipKey when it
// does not exist yet (see Config.GossipKeyring).
func (n *Node) loadKeys() ([][]byte, error) {
	cfg := &n.cfg
	if cfg.GossipKeyring == "" {
		if len(cfg.GossipKey) == 0 {
			return nil, nil
		}
		return [][]byte{cfg.GossipKey}, nil
	}
	keys, err := readKeyring(cfg.GossipKeyring)
	switch {
	case errors.Is(err, os.ErrNotExist) && len(cfg.GossipKey) > 0:
		keys = [][]byte{cfg.GossipKey}
		if err := writeKeyring(cfg.GossipKeyring, keys); err != nil {
			return nil, err
		}
		n.log.Info("created the gossip keyring from the gossip key", "keyring", cfg.GossipKeyring)
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%w: gossip keyring %s does not exist; give a gossip key (--gossip-key) to create it", ErrConfig, cfg.GossipKeyring)
	case err != nil:
		return nil, err
	case len(cfg.GossipKey) > 0 && !slices.ContainsFunc(keys, func(k []byte) bool { return bytes.Equal(k, cfg.GossipKey) }):
		n.log.Warn("the gossip key is not in the keyring file; using the keyring (it holds the cluster's current keys)",
			"keyring", cfg.GossipKeyring)
	}
	return keys, nil
}

func validKeySize(k []byte) bool { return len(k) == 16 || len(k) == 24 || len(k) == 32 }
