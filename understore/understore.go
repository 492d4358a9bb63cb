// Package understore is ringcache's view of the under-store: the object store
// (S3, MinIO, any S3-compatible server) or local directory that holds the
// authoritative copy of every file. It owns the Store interface and its two
// implementations, path validation, and the mapping of backend failures to a
// small set of sentinel errors that callers test with errors.Is.
//
// It must not cache, retry above the SDK's own retryer, or know about pages,
// rings or nodes: those belong to storage and node.
//
// Paths are "bucket/key". With file:///dir the buckets are the top-level
// directories of dir; with s3:// they are the S3 buckets. A Store opened on
// s3://bucket or s3://bucket/prefix refuses every path outside that bucket
// (and prefix) with ErrOutOfScope.
package understore

import (
	"context"
	"errors"
	"fmt"
	"github.com/ringcache/ringcache/objpath"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors. Every error a Store returns for one of these conditions
// wraps the sentinel (errors.Is) and names the operation and the path.
var (
	ErrNotFound     = errors.New("understore: not found")
	ErrAccessDenied = errors.New("understore: access denied")
	ErrThrottled    = errors.New("understore: throttled")
	ErrUnavailable  = errors.New("understore: unavailable")
	// ErrChanged means the object is no longer the version the caller asked
	// for (its ETag differs); no bytes of the new version were returned.
	ErrChanged = errors.New("understore: object changed")
	// ErrBadPath is objpath.ErrBadPath: the path rules have one home.
	ErrBadPath = objpath.ErrBadPath
	// ErrOutOfScope means the path is outside the bucket/prefix the Store
	// was opened on.
	ErrOutOfScope = errors.New("understore: path out of scope")
	// ErrBadRequest is for arguments other than the path: a negative offset
	// or size, a malformed continuation token, a size that does not match
	// the bytes supplied.
	ErrBadRequest = errors.New("understore: bad request")
	// ErrUnsupported means the Store (or a wrapper of it) does not
	// implement the operation: a read-only wrapper's writes, a Store
	// without multipart uploads.
	ErrUnsupported = errors.New("understore: operation not supported")
)

// MaxPathLen is the longest path accepted, in bytes (objpath.MaxLen).
const MaxPathLen = objpath.MaxLen

// ObjectInfo describes one version of an object.
type ObjectInfo struct {
	Path    string // bucket/key
	Size    int64  // bytes
	ETag    string // content fingerprint; opaque, compare for equality only
	ModTime time.Time
	// MetaFP is a metadata-only fingerprint (S3: hash of content type and
	// user metadata; file: the mode). A change does not mean the content
	// changed. List results from S3 leave it empty (S3 does not list
	// metadata); Stat always fills it.
	MetaFP string
}

// ListPage is one page of a List.
type ListPage struct {
	Objects []ObjectInfo
	// Prefixes are the common prefixes (full paths, "bucket/dir/") rolled
	// up by the delimiter, in order.
	Prefixes []string
	// NextToken is opaque: pass it back unchanged to get the next page. It
	// is empty on the last page.
	NextToken string
}

// Store is an under-store. Implementations are safe for concurrent use.
type Store interface {
	// Stat returns the current version of the object at path.
	Stat(ctx context.Context, path string) (ObjectInfo, error)
	// ReadAt reads len(p) bytes at off of the object version identified by
	// want.ETag; if the object has changed it fails with ErrChanged (never a
	// mix of versions). Short read only at EOF (io.EOF, like io.ReaderAt).
	// An empty want.ETag reads whatever version is current.
	ReadAt(ctx context.Context, path string, want ObjectInfo, p []byte, off int64) (int, error)
	// List lists objects whose path starts with prefix ("bucket/" or
	// "bucket/dir/part"; the bucket is required), in lexicographic order of
	// key. With a non-empty delimiter, keys that contain the delimiter after
	// the prefix are rolled up into Prefixes. limit <= 0 means the default
	// (Config.ListLimit); objects and prefixes together count to the limit.
	List(ctx context.Context, prefix, delimiter, token string, limit int) (ListPage, error)
	// Put stores exactly size bytes read from r at path, replacing any
	// current object atomically (readers see the old or the new version,
	// never a mix), and returns the new version.
	Put(ctx context.Context, path string, r io.Reader, size int64) (ObjectInfo, error)
	// Delete removes the object. Deleting a missing object succeeds, as in
	// S3.
	Delete(ctx context.Context, path string) error
	// Buckets lists the buckets this Store can read, sorted.
	Buckets(ctx context.Context) ([]string, error)
	// Close releases the Store's resources (the local store's directory
	// handle). Using the Store after Close is an error.
	Close() error
}

// AfterLister is implemented by Stores that can start a listing strictly
// after a given key (S3's StartAfter, v1's marker) without paging through
// everything before it. Both Stores of this package implement it; it is a
// separate interface so that wrappers of Store need not.
type AfterLister interface {
	// ListAfter is List's first page, restricted to the keys and common
	// prefixes that sort strictly after after. after is a key relative to
	// the bucket (not a "bucket/key" path) and need not exist or start with
	// the prefix: it only positions the listing. A common prefix sorts as
	// itself, so after "a/1" (or "a/") with delimiter "/" skips the whole
	// prefix "a/", as S3 does. An empty after is List from the start. The
	// returned NextToken continues with List.
	ListAfter(ctx context.Context, prefix, delimiter, after string, limit int) (ListPage, error)
}

// checkAfter validates ListAfter's after: S3's key limits (MaxPathLen
// bytes of UTF-8, no NUL); it is not a path, so no element rules.
func checkAfter(op, prefix, after string) error {
	switch {
	case len(after) > MaxPathLen:
		return opErr(op, prefix, ErrBadRequest, fmt.Errorf("start key of %d bytes > %d", len(after), MaxPathLen))
	case !utf8.ValidString(after):
		return opErr(op, prefix, ErrBadRequest, errors.New("start key is not UTF-8"))
	case strings.IndexByte(after, 0) >= 0:
		return opErr(op, prefix, ErrBadRequest, errors.New("start key has a NUL byte"))
	}
	return nil
}

// HTTPClient is what the S3 store sends requests through (*http.Client
// satisfies it). Tests and the chaos suite inject latency and faults here.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Defaults for Config. A zero field means the default.
const (
	DefaultListLimit   = 1000
	DefaultRegion      = "us-east-1"
	DefaultMaxAttempts = 3
	DefaultMaxBackoff  = 2 * time.Second
	// DefaultPartSize is the largest object sent with one PutObject; bigger
	// objects go up as a multipart upload in parts of this size. Put holds
	// one part in memory (the SDK must sign or length-check it).
	DefaultPartSize = 16 << 20
	// MinPartSize is S3's smallest allowed non-final part.
	MinPartSize = 5 << 20
)

// Config selects and tunes a Store.
type Config struct {
	// URL is file:///abs/dir (a local directory whose top-level
	// directories are the buckets), s3:// (every bucket the credentials
	// can read), s3://bucket or s3://bucket/prefix (only that bucket, and
	// only keys under prefix/). Required.
	URL string

	// ListLimit is the page size of List when the caller passes limit <= 0.
	// Default 1000, S3's own maximum.
	ListLimit int

	// Endpoint is the S3 endpoint URL (http://127.0.0.1:9000); empty means
	// AWS's endpoint for Region.
	Endpoint string
	// Region defaults to the AWS chain's region (AWS_REGION, profile); when
	// that is empty too, or an Endpoint is set, to us-east-1.
	Region string
	// PathStyle addresses buckets as http://endpoint/bucket/key instead of
	// http://bucket.endpoint/key (MinIO, versitygw, gofakes3 need it).
	PathStyle bool
	// AccessKey and SecretKey, when both set, are used instead of the
	// standard AWS credential chain (env AWS_ACCESS_KEY_ID, profile, IMDS).
	AccessKey, SecretKey string
	// HTTPClient replaces the SDK's HTTP client; nil keeps the SDK's.
	HTTPClient HTTPClient
	// MaxAttempts is the SDK retryer's attempts per request, including the
	// first. Default 3. Per-request deadlines come from the ctx.
	MaxAttempts int
	// MaxBackoff caps the retryer's exponential backoff between attempts.
	// Default 2s: a cache that waits longer should fail over instead.
	MaxBackoff time.Duration
	// PartSize: see DefaultPartSize. At least MinPartSize.
	PartSize int64

	// Logger; nil discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.ListLimit == 0 {
		c.ListLimit = DefaultListLimit
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.Region == "" && c.Endpoint != "" {
		c.Region = DefaultRegion
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks the Config after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	if _, err := parseURL(c.URL); err != nil {
		return err
	}
	switch {
	case c.ListLimit < 0:
		return fmt.Errorf("understore: config: ListLimit %d < 0", c.ListLimit)
	case c.MaxAttempts < 0:
		return fmt.Errorf("understore: config: MaxAttempts %d < 0", c.MaxAttempts)
	case c.MaxBackoff < 0:
		return fmt.Errorf("understore: config: MaxBackoff %v < 0", c.MaxBackoff)
	case c.PartSize < MinPartSize:
		return fmt.Errorf("understore: config: PartSize %d < %d", c.PartSize, MinPartSize)
	case (c.AccessKey == "") != (c.SecretKey == ""):
		return errors.New("understore: config: AccessKey and SecretKey go together")
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("understore: config: Endpoint %q is not an http(s) URL", c.Endpoint)
		}
	}
	return nil
}

// target is a parsed Config.URL.
type target struct {
	scheme string // "file" or "s3"
	dir    string // file: absolute directory
	bucket string // s3: "" = every bucket
	prefix string // s3: key prefix without trailing "/"; "" = whole bucket
}

func parseURL(raw string) (target, error) {
	if raw == "" {
		return target{}, errors.New("understore: config: URL is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("understore: config: URL %q: %w", raw, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return target{}, fmt.Errorf("understore: config: URL %q: want file:///absolute/dir", raw)
		}
		if !strings.HasPrefix(u.Path, "/") {
			return target{}, fmt.Errorf("understore: config: URL %q: directory must be absolute", raw)
		}
		return target{scheme: "file", dir: u.Path}, nil
	case "s3":
		t := target{scheme: "s3", bucket: u.Host}
		prefix := strings.Trim(u.Path, "/")
		if prefix != "" {
			if t.bucket == "" {
				return target{}, fmt.Errorf("understore: config: URL %q: prefix without bucket", raw)
			}
			if err := ValidatePath(t.bucket + "/" + prefix); err != nil {
				return target{}, fmt.Errorf("understore: config: URL %q: %w", raw, err)
			}
			t.prefix = prefix
		} else if t.bucket != "" {
			if err := ValidatePrefix(t.bucket); err != nil {
				return target{}, fmt.Errorf("understore: config: URL %q: %w", raw, err)
			}
		}
		return t, nil
	default:
		return target{}, fmt.Errorf("understore: config: URL %q: scheme must be file or s3", raw)
	}
}

// Open returns the Store that cfg.URL selects. For S3 it resolves the
// configuration and credentials chain but sends no request.
func Open(ctx context.Context, cfg Config) (Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, _ := parseURL(cfg.URL)
	if t.scheme == "file" {
		return openLocal(cfg, t.dir)
	}
	return openS3(ctx, cfg, t)
}

// ValidatePath checks a file path ("bucket/key") by objpath's rules.
// Failures wrap ErrBadPath.
func ValidatePath(p string) error { return objpath.Validate(p) }

// ValidatePrefix checks a List prefix by objpath's rules (the key part and
// the last element may be empty). Failures wrap ErrBadPath.
func ValidatePrefix(p string) error { return objpath.ValidatePrefix(p) }

// opErr wraps a sentinel and the underlying cause (either may be nil) with
// the operation and path, so errors.Is works for both and the message says
// what failed where (see OpError).
func opErr(op, path string, sentinel, cause error) error {
	return &OpError{Op: op, Path: path, Kind: sentinel, Err: cause}
}

// checkRead validates the arguments common to every ReadAt.
func checkRead(path string, p []byte, off int64) error {
	if err := validateObject(path); err != nil {
		return opErr("read", path, err, nil)
	}
	if off < 0 {
		return opErr("read", path, ErrBadRequest, fmt.Errorf("negative offset %d", off))
	}
	return nil
}
