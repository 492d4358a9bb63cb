// Package samplelake writes the sample data lake that `ringcache dev` puts
// in an empty under-store directory, and reads it back the way query
// engines do, so tests (over the Go SDK or the S3 gateway) can check that
// bytes served by ringcache still form the same Parquet files.
//
// The lake is one bucket, "lake", holding one Hive-partitioned table,
// "trips" (rows: Trip), written with parquet-go (Snappy, several row groups
// a file, a few MiB a file so a read spans several 1 MiB pages), plus the
// empty _SUCCESS marker a Spark job leaves next to its output. The content
// is a pure function of the plan and a fixed seed: docs may quote the row
// count and the fare sum of Seed's Summary.
//
// The package owns the files' layout and content; it does not decide when
// to seed (internal/app does: only into an empty directory).
package samplelake
