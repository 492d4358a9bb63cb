package shadow

import (
	"errors"
	"fmt"
	"time"
)

// ErrConfig marks an invalid shadow cache configuration.
var ErrConfig = errors.New("shadow: invalid config")

// Defaults of Config.
const (
	DefaultWindow      = 24 * time.Hour
	DefaultSegments    = 4
	DefaultPages       = 1 << 20
	DefaultBitsPerPage = 16
)

// Config sizes a Cache. A zero field means its default.
type Config struct {
	// Window is how far back accesses count. Default 24h.
	Window time.Duration
	// Segments is the number of time segments (Bloom filters) the window
	// is cut into, 2..64: the window moves on by Window/Segments at a time.
	// Default 4.
	Segments int
	// Pages is the distinct pages a window the filters are sized for.
	// Default 1<<20 (1 TiB of 1 MiB pages).
	Pages int
	// BitsPerPage is the filter bits per page of Pages; more bits, fewer
	// false hits. Default 16 (Bloom false-positive rate ~0.1% a filter
	// when full).
	BitsPerPage int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (c *Config) withDefaults() {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Segments == 0 {
		c.Segments = DefaultSegments
	}
	if c.Pages == 0 {
		c.Pages = DefaultPages
	}
	if c.BitsPerPage == 0 {
		c.BitsPerPage = DefaultBitsPerPage
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports the first setting that cannot work (after defaults).
func (c Config) Validate() error {
	c.withDefaults()
	switch {
	case c.Segments < 2 || c.Segments > 64:
		return fmt.Errorf("%w: segments %d, want 2..64", ErrConfig, c.Segments)
	case c.Window < time.Duration(c.Segments)*time.Second:
		return fmt.Errorf("%w: window %s is shorter than a second a segment", ErrConfig, c.Window)
	case c.Pages < 1 || c.Pages > 1<<32:
		return fmt.Errorf("%w: pages %d, want 1..2^32", ErrConfig, c.Pages)
	case c.BitsPerPage < 4 || c.BitsPerPage > 64:
		return fmt.Errorf("%w: bits per page %d, want 4..64", ErrConfig, c.BitsPerPage)
	}
	return nil
}

// MemoryBytes is the memory of the filters of a Cache built from c.
func (c Config) MemoryBytes() int64 {
	c.withDefaults()
	return int64(c.Segments) * blocksFor(c.Pages, c.BitsPerPage) * blockWords * 8
}
