// Package bench is ringcache's load generator, the engine behind
// `ringcache bench`: it builds a workload (files of deterministic content, an
// access pattern, a read/write mix), drives it from many goroutines against a
// Target (the cache cluster through the Go SDK, or the under-store directly
// for the no-cache baseline), verifies every byte it reads, and reports a
// summary, a per-second time series (JSON), terminal charts and PNG plots
// (drawn with gonum.org/v1/plot).
//
// RunWriteThrough is the second workload (`--mode write-through`): objects
// written one at a time through a WriteTarget (the S3 gateway with the AWS
// SDK, or the Go SDK's Put), each read back at once to show it is a hit,
// against the same writes straight to the under-store and cold reads of
// those (WriteReport).
//
// The pure parts take values and return values and are tested without I/O:
// the log-bucketed latency Histogram, the content generator and verifier
// (Fill, Mismatch), the access pickers (Zipf, uniform, scan, pool), the
// report arithmetic (HitRatio, Compare), the charts and the plots. Run and
// Setup are the thin I/O shell.
//
// Content is a pure function of (seed, file, generation): a write bumps a
// file's generation and uploads that generation's bytes, so a read can be
// checked without keeping a copy, and a read that returns an older
// generation (the cache trusts metadata for the sync interval) is counted as
// stale rather than wrong. Bytes that match no generation are wrong bytes.
//
// It holds no process-wide state; several runs may share a process.
package bench
