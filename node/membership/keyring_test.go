package membership

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// TestKeyRotation rotates the key of a live cluster the Serf way: install
// the new key everywhere, use it everywhere, remove the old one
// everywhere. The ring never changes, and afterwards only the new key
// gets a node in.
func TestKeyRotation(t *testing.T) {
	old, next := key(1), key(2)
	ms := cluster(t, "k", 3, func(c *Config) { c.Keys = [][]byte{old} })
	all := ids(ms)
	waitRing(t, ms, all, "3 nodes to converge")
	v := ms[0].Ring().Version()
	for _, step := range [][][]byte{{old, next}, {next, old}, {next}} {
		for _, m := range ms {
			if err := m.SetKeys(step); err != nil {
				t.Fatalf("SetKeys on %s: %v", m.name, err)
			}
			got, err := m.Keys()
			if err != nil || len(got) != len(step) || !bytes.Equal(got[0], step[0]) {
				t.Fatalf("%s: Keys = %x, %v; want %x", m.name, got, err, step)
			}
		}
		// Gossip keeps flowing: a push/pull interval later nobody was
		// declared dead.
		time.Sleep(ms[0].cfg.PushPullInterval)
		if !sameRing(ms, all) || ms[0].Ring().Version() != v {
			t.Fatalf("ring changed during the rotation:%s", describe(ms))
		}
	}
	refusedJoin(t, ms, "stale", func(c *Config) { c.Keys = [][]byte{old} }, "another gossip key")
	cfg := testConfig(t, "fresh")
	cfg.Keys = [][]byte{next}
	cfg.Join = []string{ms[1].LocalAddr()}
	fresh := start(t, cfg)
	now := append(ms, fresh)
	waitRing(t, now, ids(now), "a node with the new key to join")
}

func TestSetKeysRefusals(t *testing.T) {
	plain := start(t, testConfig(t, "plain"))
	if _, err := plain.Keys(); !errors.Is(err, ErrNoEncryption) {
		t.Fatalf("Keys without encryption: %v", err)
	}
	if err := plain.SetKeys([][]byte{key(1)}); !errors.Is(err, ErrNoEncryption) {
		t.Fatalf("SetKeys without encryption: %v", err)
	}
	cfg := testConfig(t, "enc")
	cfg.Keys = [][]byte{key(1)}
	enc := start(t, cfg)
	for _, bad := range [][][]byte{nil, {[]byte("short")}, {key(1), key(1)}} {
		if err := enc.SetKeys(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("SetKeys(%x) = %v, want ErrConfig", bad, err)
		}
	}
	cfg.SecretKey = key(2)
	if err := cfg.Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("SecretKey and Keys: %v", err)
	}
}

// TestEncryptionRollout turns gossip encryption on in a running cluster
// by three rolling restarts (README, "Turning encryption on"): with the
// key while accepting and sending plaintext, then sending encrypted, then
// refusing plaintext. Every member stays in every ring throughout.
func TestEncryptionRollout(t *testing.T) {
	k := key(7)
	ms := cluster(t, "e", 3, nil)
	all := ids(ms)
	waitRing(t, ms, all, "3 plaintext nodes to converge")
	for _, mut := range []func(*Config){
		func(c *Config) { c.Keys, c.AcceptPlaintext, c.SendPlaintext = [][]byte{k}, true, true },
		func(c *Config) { c.Keys, c.AcceptPlaintext, c.SendPlaintext = [][]byte{k}, true, false },
		func(c *Config) { c.Keys, c.AcceptPlaintext, c.SendPlaintext = [][]byte{k}, false, false },
	} {
		for i := range ms {
			// Shutdown, not Leave: Leave followed by a restart at a new
			// port trips a data race between leave.go's tellLeaving
			// (memberlist.Node pointers) and memberlist's aliveNode.
			cfg := ms[i].cfg
			_ = ms[i].Shutdown()
			cfg.BindPort, cfg.AdvertisePort = 0, 0
			cfg.Join = []string{ms[(i+1)%len(ms)].LocalAddr()}
			cfg.JoinRequired = true
			mut(&cfg)
			ms[i] = start(t, cfg)
			again := ms[i]
			waitFor(t, converge, "every member to see the restarted node at its new address", func() bool {
				for _, m := range ms {
					if mb, _ := m.Member(cfg.Name); mb.Addr != again.LocalAddr() || mb.State != StateActive {
						return false
					}
				}
				return true
			})
			waitRing(t, ms, all, "the restarted node back in every ring")
		}
	}
	refusedJoin(t, ms, "plaintext", func(c *Config) {}, "has no gossip key")
}
