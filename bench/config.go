package bench

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("bench: invalid config")

// Access is how operations pick files and offsets.
type Access string

// Access patterns.
const (
	// AccessZipf picks files by a Zipf law of exponent ZipfS over the file
	// index (file 0 hottest), and a read-size-aligned offset uniformly.
	AccessZipf Access = "zipf"
	// AccessUniform picks any file and aligned offset with equal chance: a
	// random cold set when Files*FileSize exceeds the cache.
	AccessUniform Access = "uniform"
	// AccessScan reads every file front to back, file after file, and
	// wraps: operation k reads chunk k of the concatenated files, whichever
	// goroutine runs it (a table scan shared by the threads).
	AccessScan Access = "scan"
	// AccessPool picks uniformly among the first PoolFiles files: seed
	// 004's limited passenger pool, a small hot set.
	AccessPool Access = "pool"
)

// Defaults for Config; a zero field means its default.
const (
	DefaultThreads  = 4
	DefaultDuration = 10 * time.Second
	DefaultFiles    = 64
	DefaultFileSize = 4 << 20
	DefaultReadSize = 256 << 10
	DefaultAccess   = AccessZipf
	DefaultZipfS    = 0.99 // YCSB's constant
	DefaultPrefix   = "lake/bench/"
	DefaultRetries  = 3
)

// Config is one workload. The same Config drives the cache runs and the
// no-cache baseline, so their numbers compare like for like.
type Config struct {
	// Threads is the number of goroutines issuing operations. Default 4.
	Threads int
	// Ops, when > 0, ends a run after this many operations (all threads
	// together). Otherwise Duration ends it.
	Ops int64
	// Duration of one run when Ops is 0. Default 10s; for AccessScan with
	// neither set, one pass over every file (Ops = Files * ChunksPerFile).
	Duration time.Duration
	// ReadRatio is the fraction of operations that are reads, in (0, 1];
	// the rest overwrite a whole file with its next generation. Default 1
	// (read-only, as data-lake files mostly are).
	ReadRatio float64
	// Files is how many files the workload uses. Default 64.
	Files int
	// FileSize is every file's size in bytes. Default 4 MiB.
	FileSize int64
	// ReadSize is the bytes one read asks for, at an offset that is a
	// multiple of ReadSize (the last chunk of a file may be shorter).
	// Default 256 KiB; at most FileSize.
	ReadSize int64
	// Access pattern. Default zipf.
	Access Access
	// ZipfS is the Zipf exponent (> 0; 0.99 is YCSB's). Default 0.99.
	ZipfS float64
	// PoolFiles is the hot set of AccessPool. Default max(1, Files/10).
	PoolFiles int
	// Prefix is where the files live: "bucket/dir/"; file i is
	// Prefix+"f-%05d". Default "lake/bench/".
	Prefix string
	// Seed makes the workload reproducible: the access sequence of every
	// thread and every file's content derive from it.
	Seed uint64
	// Retries is how often an operation is retried after the object
	// changed under it (transport.ErrChanged), counted as retries, not
	// errors. Default 3.
	Retries int
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Threads == 0 {
		c.Threads = DefaultThreads
	}
	if c.ReadRatio == 0 {
		c.ReadRatio = 1
	}
	if c.Files == 0 {
		c.Files = DefaultFiles
	}
	if c.FileSize == 0 {
		c.FileSize = DefaultFileSize
	}
	if c.ReadSize == 0 {
		c.ReadSize = min(DefaultReadSize, c.FileSize)
	}
	if c.Access == "" {
		c.Access = DefaultAccess
	}
	if c.ZipfS == 0 {
		c.ZipfS = DefaultZipfS
	}
	if c.PoolFiles == 0 {
		c.PoolFiles = max(1, c.Files/10)
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	}
	if c.Ops == 0 && c.Duration == 0 {
		if c.Access == AccessScan {
			c.Ops = int64(c.Files) * c.ChunksPerFile()
		} else {
			c.Duration = DefaultDuration
		}
	}
	return c
}

// Validate reports the first field that cannot work (after defaults).
func (c Config) Validate() error {
	c = c.WithDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Threads < 1 || c.Threads > 4096:
		return bad("threads %d: want 1..4096", c.Threads)
	case c.Ops < 0:
		return bad("ops %d is negative", c.Ops)
	case c.Duration < 0:
		return bad("duration %s is negative", c.Duration)
	case !(c.ReadRatio > 0 && c.ReadRatio <= 1):
		return bad("read ratio %g: want (0, 1]", c.ReadRatio)
	case c.Files < 1 || c.Files > 1_000_000:
		return bad("files %d: want 1..1000000", c.Files)
	case c.FileSize < 1:
		return bad("file size %d: want at least 1 byte", c.FileSize)
	case c.ReadSize < 1 || c.ReadSize > c.FileSize:
		return bad("read size %d: want 1..file size (%d)", c.ReadSize, c.FileSize)
	case c.ReadSize > 1<<30:
		return bad("read size %d: at most 1 GiB", c.ReadSize)
	case c.ZipfS <= 0:
		return bad("zipf s %g: want > 0", c.ZipfS)
	case c.PoolFiles < 1 || c.PoolFiles > c.Files:
		return bad("pool %d: want 1..files (%d)", c.PoolFiles, c.Files)
	case c.Retries < 0:
		return bad("retries %d is negative", c.Retries)
	}
	switch c.Access {
	case AccessZipf, AccessUniform, AccessScan, AccessPool:
	default:
		return bad("access %q: want zipf, uniform, scan or pool", c.Access)
	}
	if !strings.HasSuffix(c.Prefix, "/") || strings.Count(c.Prefix, "/") < 2 || strings.HasPrefix(c.Prefix, "/") {
		return bad("prefix %q: want bucket/dir/ (ending in /)", c.Prefix)
	}
	return nil
}

// ChunksPerFile is how many ReadSize chunks one file has (the last may be
// short).
func (c Config) ChunksPerFile() int64 {
	return (c.FileSize + c.ReadSize - 1) / c.ReadSize
}

// Path is file i's path.
func (c Config) Path(i int) string { return fmt.Sprintf("%sf-%05d", c.Prefix, i) }
