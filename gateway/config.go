package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringcache/ringcache/gateway/internal/sigv4"
)

// ErrConfig is wrapped by every Config.Validate error.
var ErrConfig = errors.New("gateway: invalid config")

// Authentication modes (--s3-auth).
const (
	AuthSigV4 = "sigv4" // requests signed with a key of Config.Keys
	AuthNone  = "none"  // unsigned requests accepted (trusted networks only)
)

// Defaults for Config; a zero field means the default.
const (
	DefaultSyncInterval   = 60 * time.Second
	DefaultRegion         = "us-east-1"
	DefaultMaxHeaderBytes = 16 << 10
	DefaultMaxURLBytes    = 8 << 10
	DefaultReadPiece      = 64 << 20
	DefaultMaxClockSkew   = 15 * time.Minute
	DefaultIdleTimeout    = 2 * time.Minute
	DefaultHeaderTimeout  = 10 * time.Second
)

// Config configures a Gateway.
type Config struct {
	// Auth is AuthSigV4 (default) or AuthNone.
	Auth string
	// Keys maps access key to secret key (--s3-keys); required with
	// AuthSigV4. The under-store's own credentials are never used to
	// check or answer a client.
	Keys map[string]string
	// SyncInterval is how long listings and the bucket list are cached
	// (the node's --sync-interval: the same staleness the node accepts for
	// file metadata). Default 60s.
	SyncInterval time.Duration
	// Region is what GetBucketLocation answers. Default us-east-1 (which
	// S3 answers as an empty LocationConstraint).
	Region string
	// MaxHeaderBytes bounds the request line and headers. Default 16 KiB.
	MaxHeaderBytes int
	// MaxURLBytes bounds the request URI. Default 8 KiB (a 1 KiB key
	// percent-encoded, plus a presigned query).
	MaxURLBytes int
	// ReadPiece is the most bytes asked of the node in one read; a longer
	// GET is served as consecutive reads of one pinned version. Default
	// 64 MiB; at most the node's MaxReadLength.
	ReadPiece int64
	// MaxClockSkew is how far a signed request's date may be from the
	// node's clock. Default 15 minutes (S3's).
	MaxClockSkew time.Duration
	// IdleTimeout closes idle keep-alive connections. Default 2 minutes.
	IdleTimeout time.Duration
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout time.Duration

	// Logger receives one line per failed request (with its request id)
	// and, at debug level, per request. Default: discard.
	Logger *slog.Logger
	// Registerer receives the gateway's metrics; nil registers nowhere.
	Registerer prometheus.Registerer
	// Now is the clock for signatures and caches; default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Auth == "" {
		c.Auth = AuthSigV4
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxURLBytes == 0 {
		c.MaxURLBytes = DefaultMaxURLBytes
	}
	if c.ReadPiece == 0 {
		c.ReadPiece = DefaultReadPiece
	}
	if c.MaxClockSkew == 0 {
		c.MaxClockSkew = DefaultMaxClockSkew
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = DefaultHeaderTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate checks the Config after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Auth != AuthSigV4 && c.Auth != AuthNone:
		return fmt.Errorf("%w: auth %q: want %s or %s", ErrConfig, c.Auth, AuthSigV4, AuthNone)
	case c.Auth == AuthSigV4 && len(c.Keys) == 0:
		return fmt.Errorf("%w: auth %s needs at least one key (--s3-keys ACCESS:SECRET), or auth %s", ErrConfig, AuthSigV4, AuthNone)
	case c.SyncInterval < 0:
		return fmt.Errorf("%w: sync interval %v < 0", ErrConfig, c.SyncInterval)
	case c.MaxHeaderBytes < 1<<10:
		return fmt.Errorf("%w: max header bytes %d < 1024", ErrConfig, c.MaxHeaderBytes)
	case c.MaxURLBytes < 1<<10:
		return fmt.Errorf("%w: max URL bytes %d < 1024", ErrConfig, c.MaxURLBytes)
	case c.ReadPiece < 1<<20:
		return fmt.Errorf("%w: read piece %d < 1 MiB", ErrConfig, c.ReadPiece)
	case c.MaxClockSkew <= 0:
		return fmt.Errorf("%w: max clock skew %v <= 0", ErrConfig, c.MaxClockSkew)
	case c.IdleTimeout < 0 || c.ReadHeaderTimeout < 0:
		return fmt.Errorf("%w: negative timeout", ErrConfig)
	}
	for ak, sk := range c.Keys {
		if ak == "" || sk == "" {
			return fmt.Errorf("%w: empty access or secret key", ErrConfig)
		}
	}
	return nil
}

// ParseKeys parses --s3-keys: "ACCESS:SECRET[,ACCESS:SECRET...]".
func ParseKeys(s string) (map[string]string, error) { return sigv4.ParseKeys(s) }
