package membership

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	meta := func(f func(*Config)) Config { c := Config{Name: "n", BindAddr: "127.0.0.1"}; f(&c); return c }
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"ok", meta(func(*Config) {}), nil},
		{"key length", meta(func(c *Config) { c.SecretKey = make([]byte, 15) }), ErrConfig},
		{"bind addr", meta(func(c *Config) { c.BindAddr = "localhost" }), ErrConfig},
		{"port", meta(func(c *Config) { c.BindPort = 70000 }), ErrConfig},
		{"join required", meta(func(c *Config) { c.JoinRequired = true }), ErrConfig},
		{"state", meta(func(c *Config) { c.Meta.State = StateDead }), ErrConfig},
		{"negative", meta(func(c *Config) { c.Debounce = -1 }), ErrConfig},
		{"negative count", meta(func(c *Config) { c.GossipNodes = -1 }), ErrConfig},
		{"local timing", meta(func(c *Config) { c.Timing = LocalTiming() }), nil},
		{"lan timing", meta(func(c *Config) { c.Timing = LANTiming() }), nil},
		{"meta size", meta(func(c *Config) { c.Meta.Build = strings.Repeat("b", 600) }), ErrMetaTooLarge},
		{"page size from meta", meta(func(c *Config) { c.Meta.PageSize = 4 << 20 }), nil},
		{"page sizes differ", meta(func(c *Config) { c.Meta.PageSize = 4 << 20; c.Ring.PageSize = 2 << 20 }), ErrConfig},
	} {
		if err := tc.cfg.Validate(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: Validate() = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := Start(meta(func(c *Config) { c.Meta.Build = strings.Repeat("b", 600) })); !errors.Is(err, ErrMetaTooLarge) {
		t.Fatalf("Start with oversized meta: %v", err)
	}
}

// TestTimingPresets checks that a zero Timing means LANTiming, that both
// presets reach memberlist, and what LocalTiming leaves at the LAN default.
func TestTimingPresets(t *testing.T) {
	lan := LANTiming()
	if got := (Timing{}).orLAN(); got != lan {
		t.Fatalf("zero Timing = %+v, want LANTiming %+v", got, lan)
	}
	for name, tm := range map[string]Timing{"lan": lan, "local": LocalTiming(), "zero": {}} {
		m := &Membership{cfg: Config{Name: "n", Timing: tm}}
		mc, err := m.memberlistConfig()
		if err != nil {
			t.Fatal(err)
		}
		want := tm.orLAN()
		if mc.ProbeInterval != want.ProbeInterval || mc.ProbeTimeout != want.ProbeTimeout ||
			mc.GossipInterval != want.GossipInterval || mc.GossipNodes != want.GossipNodes ||
			mc.SuspicionMult != want.SuspicionMult || mc.PushPullInterval != want.PushPullInterval ||
			mc.TCPTimeout != want.TCPTimeout || mc.GossipToTheDeadTime != want.GossipToTheDeadTime ||
			mc.RetransmitMult != want.RetransmitMult {
			t.Errorf("%s: memberlist config does not carry %+v", name, want)
		}
	}
	local := LocalTiming().orLAN()
	if local.ProbeInterval >= lan.ProbeInterval || local.GossipInterval >= lan.GossipInterval ||
		local.TCPTimeout != lan.TCPTimeout || local.GossipNodes != lan.GossipNodes {
		t.Errorf("LocalTiming %+v: want faster probes and gossip, LAN TCP timeout and fan-out (%+v)", local, lan)
	}
}
