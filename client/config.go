package client

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/ringcache/ringcache/tlsconf"
	"github.com/ringcache/ringcache/transport"
	"github.com/ringcache/ringcache/understore"
)

// Config configures a Client. A zero field means its default.
type Config struct {
	// Seeds are gRPC addresses of any nodes; one reachable seed is enough.
	Seeds []string
	// Owners is how many nodes a read tries, owner first. Default 3.
	Owners int
	// AttemptTimeout bounds one attempt on one node before the next is
	// tried (a paused node does not answer at all). Default 5s.
	AttemptTimeout time.Duration
	// CallTimeout bounds control calls (stat, members, ...). Default 30s.
	CallTimeout time.Duration
	// Fallback, when set, is read directly when no node can serve a read.
	Fallback understore.Store
	// RefreshInterval re-reads the member list even without a watch event.
	// Default 10s.
	RefreshInterval time.Duration
	// ReadParallelism is how many streams one large read is spread over:
	// a read of at least 2 x SplitSize bytes goes out as up to this many
	// pieces at once (a warm 1 MiB read moved 1.4-1.9 GB/s on one stream
	// of a 2-core machine, 3.0-3.2 GB/s on four). Default 4; 1 turns
	// splitting off.
	ReadParallelism int
	// SplitSize is the smallest piece a large read is split into. Default
	// 256 KiB.
	SplitSize int
	// ReconnectMin and ReconnectMax bound the wait before the ring watch
	// reopens a stream that ended: the wait doubles from ReconnectMin up to
	// ReconnectMax, with jitter, and starts again from ReconnectMin after a
	// stream that stayed up. Defaults 100ms and 5s.
	ReconnectMin, ReconnectMax time.Duration
	// PutPartSize is the largest object Put sends in one stream; a larger
	// one goes up as a multipart upload in parts of this size (at least
	// 5 MiB, S3's smallest part). Default 64 MiB.
	PutPartSize int64
	// TLS, when set, secures every connection to the nodes: their
	// certificate is verified against its RootCAs, and its certificate, if
	// any, is the client certificate (mTLS). TLSFiles is the same read
	// from PEM files (--tls-cert, --tls-key, --tls-ca). Set at most one. A
	// refused handshake is not retried: calls fail at once with an error
	// that wraps tlsconf.ErrHandshake and names the problem.
	TLS      *tls.Config
	TLSFiles tlsconf.Files
	// Logger; nil discards.
	Logger *slog.Logger

	// jitterSeed seeds the reconnect jitter (tests, see export_test.go);
	// 0 picks a random seed.
	jitterSeed uint64
}

func (c *Config) withDefaults() {
	if c.Owners == 0 {
		c.Owners = 3
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = 5 * time.Second
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.RefreshInterval == 0 {
		c.RefreshInterval = 10 * time.Second
	}
	if c.ReadParallelism == 0 {
		c.ReadParallelism = DefaultReadParallelism
	}
	if c.SplitSize == 0 {
		c.SplitSize = DefaultSplitSize
	}
	if c.PutPartSize == 0 {
		c.PutPartSize = DefaultPutPartSize
	}
	if c.ReconnectMin == 0 {
		c.ReconnectMin = 100 * time.Millisecond
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports a Config that cannot work.
func (c *Config) Validate() error {
	if len(c.Seeds) == 0 {
		return fmt.Errorf("%w: at least one seed address is needed", ErrConfig)
	}
	if c.Owners < 1 || c.AttemptTimeout < 0 || c.CallTimeout < 0 || c.RefreshInterval < 0 {
		return fmt.Errorf("%w: owners must be >= 1 and timeouts positive", ErrConfig)
	}
	if c.ReconnectMin < 0 || c.ReconnectMax < c.ReconnectMin {
		return fmt.Errorf("%w: reconnect backoff %v to %v, want 0 < min <= max", ErrConfig, c.ReconnectMin, c.ReconnectMax)
	}
	if c.ReadParallelism < 1 || c.ReadParallelism > 64 {
		return fmt.Errorf("%w: read parallelism %d, want 1 to 64", ErrConfig, c.ReadParallelism)
	}
	if c.TLS != nil && c.TLSFiles.Enabled() {
		return fmt.Errorf("%w: set TLS or TLSFiles, not both", ErrConfig)
	}
	if err := c.TLSFiles.ValidateClient(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.PutPartSize < MinPutPartSize || c.PutPartSize > transport.MaxPutSize {
		return fmt.Errorf("%w: put part size %d, want %d to %d", ErrConfig, c.PutPartSize, MinPutPartSize, int64(transport.MaxPutSize))
	}
	if c.SplitSize < 64<<10 {
		return fmt.Errorf("%w: split size %d, want at least 64 KiB", ErrConfig, c.SplitSize)
	}
	return nil
}

// Defaults of Config.
const (
	DefaultReadParallelism = 4
	DefaultSplitSize       = 256 << 10
)
