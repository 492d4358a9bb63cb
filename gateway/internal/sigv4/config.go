package sigv4

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults of Config; a zero field means the default.
const (
	// DefaultMaxSkew is S3's: a request dated more than 15 minutes from the
	// node's clock is refused.
	DefaultMaxSkew = 15 * time.Minute
	// DefaultMaxExpires is S3's longest presigned URL lifetime, 7 days.
	DefaultMaxExpires = 7 * 24 * time.Hour
)

// Config configures a Verifier.
type Config struct {
	// Keys maps access key to secret key (--s3-keys). Required, non-empty;
	// no empty key or secret.
	Keys map[string]string
	// MaxSkew is how far a request's date may be from Now (either way for
	// header signatures, into the future for presigned URLs). Default
	// DefaultMaxSkew.
	MaxSkew time.Duration
	// MaxExpires is the longest X-Amz-Expires accepted; a larger one is
	// ErrMalformed (AuthorizationQueryParametersError), as S3 does past 7
	// days. Default DefaultMaxExpires.
	MaxExpires time.Duration
	// Now is the node's clock. Default time.Now; tests inject.
	Now func() time.Time
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MaxSkew == 0 {
		c.MaxSkew = DefaultMaxSkew
	}
	if c.MaxExpires == 0 {
		c.MaxExpires = DefaultMaxExpires
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports a Config that New would refuse.
func (c Config) Validate() error {
	if len(c.Keys) == 0 {
		return errors.New("sigv4: config: no keys (--s3-keys ACCESS:SECRET is required with --s3-auth sigv4)")
	}
	for ak, sk := range c.Keys {
		if ak == "" {
			return errors.New("sigv4: config: empty access key")
		}
		if sk == "" {
			return fmt.Errorf("sigv4: config: empty secret for access key %q", ak)
		}
	}
	if c.MaxSkew < 0 {
		return fmt.Errorf("sigv4: config: negative MaxSkew %v", c.MaxSkew)
	}
	if c.MaxExpires < 0 {
		return fmt.Errorf("sigv4: config: negative MaxExpires %v", c.MaxExpires)
	}
	return nil
}

// ParseKeys parses the --s3-keys value "ACCESS:SECRET[,ACCESS:SECRET...]".
// A secret may contain ':' (the pair is split on the first one); it may not
// contain ',' since that separates pairs. Empty parts, a pair without ':',
// an empty access key or secret, and a repeated access key are errors that
// name the pair by position (never the secret).
func ParseKeys(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("sigv4: --s3-keys: empty (want ACCESS:SECRET[,ACCESS:SECRET...])")
	}
	keys := make(map[string]string)
	for i, pair := range strings.Split(s, ",") {
		n := i + 1
		if pair == "" {
			return nil, fmt.Errorf("sigv4: --s3-keys: pair %d is empty", n)
		}
		ak, sk, ok := strings.Cut(pair, ":")
		switch {
		case !ok:
			return nil, fmt.Errorf("sigv4: --s3-keys: pair %d has no ':' (want ACCESS:SECRET)", n)
		case ak == "":
			return nil, fmt.Errorf("sigv4: --s3-keys: pair %d has an empty access key", n)
		case sk == "":
			return nil, fmt.Errorf("sigv4: --s3-keys: pair %d (access key %q) has an empty secret", n, ak)
		case strings.ContainsAny(ak, "/ \t"):
			return nil, fmt.Errorf("sigv4: --s3-keys: pair %d: access key %q contains '/' or white space", n, ak)
		}
		if _, dup := keys[ak]; dup {
			return nil, fmt.Errorf("sigv4: --s3-keys: access key %q appears twice", ak)
		}
		keys[ak] = sk
	}
	return keys, nil
}
