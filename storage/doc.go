// Package storage is a node's page store: fixed-size pages of cached files
// on local disk, the metadata journal that makes them survive a restart (or
// kill -9) and an index with scan-resistant eviction, capacities, scope
// quotas, pinning and versions. It owns no sockets and knows nothing of the
// cluster; package node drives it.
//
// # Pages
//
// A file (FileID = first 16 bytes of SHA-256 of its path) is cut into pages
// of Config.PageSize; a page is (file, version, index). Each page is one file
// under a data dir:
//
//	<dir>/<id[0] hex>/<id hex>_<version hex>_<index hex>_<gen hex>.pg
//
// written as <name>.tmp, fsynced (SyncAlways), renamed, dir fsynced. The
// generation (store-wide counter) makes every published name unique, so a
// page removed from the index can be unlinked later without racing a new
// put of the same key. A page file is a 4 KiB header then the data at
// DataOffset (so the transport can sendfile a byte range):
//
//	+------+-----+-----+----------+--------+--------+-------+--------+---------+---------+-----------------+---------+------+
//	|"RCPG"|ver 2|rsv 2| file id16| vers 8 | index 4| len 4 | chunk 4| nchunk 4| gen 8   | crc(crcs) 4     | hdrcrc 4| crcs |...pad to 4096 | data
//	+------+-----+-----+----------+--------+--------+-------+--------+---------+---------+-----------------+---------+------+
//
// crcs[i] is the CRC32C (Castagnoli) of data chunk i (ChunkSize = 16 KiB in
// format 2; format-1 files, with 64 KiB chunks, are still read);
// hdrcrc covers bytes [0,60) and the crcs. The index keeps only crc(crcs)
// (4 bytes), so a cached page costs about 56 bytes of index memory (measured
// by TestIndexMemoryPerPage, file metadata included); the
// chunk CRCs are read from the header (one small pread) when the page is
// opened. ReadPage verifies every chunk it touches: a mismatch returns
// ErrCorrupt and drops the page (journaled) so the caller re-fetches.
//
// # Journal
//
// Every change of metadata is a FlatBuffers Record (schema fb/record.fbs)
// in a frame:
//
//	+-----------------+-----------------+--------------------------+
//	| length uint32 LE| CRC32C uint32 LE| payload: fb.Record       |
//	|  (payload bytes)| (of the payload)| (12 .. MaxRecordSize)    |
//	+-----------------+-----------------+--------------------------+
//
// Records are absolute, so replaying one twice is harmless: File (the whole
// metadata of a file: path, fingerprint, meta fingerprint, version, scope,
// pinned), Forget, PagePut (key, length, gen, CRC of the chunk-CRC array),
// PageDrop (key, gen), SnapEnd (record count). Files in JournalDir:
//
//	seg-<seq 16 hex>.log    "RCJSEG01" frame frame ...
//	snap-<seq 16 hex>.snap  "RCJSNP01" File... PagePut... SnapEnd
//
// Snapshot N holds the whole index as of the start of segment N; replay
// loads the newest snapshot and then segments N, N+1, ... (which must be
// contiguous). Every Open starts a new segment. Appenders queue frames
// and wait; one flusher goroutine writes the whole queue with one write and
// one fsync (group commit): with SyncAlways a mutation returns after the
// fsync, otherwise after the write, with an fsync every Config.Sync.
//
// Replay: a bad frame (short, zero or oversized length, CRC mismatch) in the
// last segment with no valid frame anywhere after it is a torn tail (crash
// mid-append, including an all-zero tail) and is cut off and the cut fsynced;
// anything else — a bad frame followed by a valid one, a bad frame in an
// earlier segment or in a snapshot, a CRC-valid frame that does not decode —
// is a *CorruptionError (file, offset) wrapping ErrBadRecord and Open fails:
// nothing is silently skipped.
//
// After replay, the data dirs are walked: page files the index vouches for
// (name = key + gen, size = DataOffset + length) are kept, every other page
// file and every .tmp is deleted, and index entries whose file is missing
// are dropped. Then the store evicts down to the (possibly smaller)
// configured capacities.
//
// Compaction: when the live segments exceed max(CompactEvery, 2 x the
// estimated snapshot size), the journal rolls to segment N, the index is
// copied under a read lock, written as snap-N.snap.tmp, fsynced, renamed and
// the dir fsynced; then segments and snapshots below N are deleted. Replay
// time is therefore bounded by the live index, not by history.
//
// # Eviction, capacity, quotas, versions
//
// Eviction is S3-FIFO (policy.go), one instance per (data dir, quota
// group). Used bytes (page data) never exceed a dir's effective capacity:
// PutPage reserves the bytes, evicting first. The effective capacity is the
// configured one, or less when the dir's filesystem holds less (a small or
// shared disk): the store lowers it from the free space at Open and on
// ENOSPC, evicts to it, and raises it again when space comes back
// (capacity.go, Stats.EffectiveCapacityBytes). A file belongs to the longest
// Config.ScopeQuotas prefix of its path or scope; a put that would exceed that quota
// evicts inside the scope first. Pinned files are not in the eviction
// queues; if nothing is evictable, PutPage fails with ErrNoSpace.
//
// Upsert with a new content fingerprint bumps the version: the old pages
// leave the index at once (reads and puts of the old version get
// ErrStaleVersion) and their files are unlinked by a background deleter.
//
// # Concurrency
//
// One RWMutex guards the index; no file I/O happens under it except journal
// queueing (a memory append). Readers take the read lock only to look a
// page up and bump its access counter atomically, then open and pread the
// file without any lock.
package storage
