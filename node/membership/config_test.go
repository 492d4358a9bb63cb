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
